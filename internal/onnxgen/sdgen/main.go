// Command sdgen writes generated Stable Diffusion exports (Optimum's
// layout, internal/onnxgen's tiny parts) into a models folder, for
// `comfyrt bench sd` and scripts/gpu-sd.sh:
//
//	go run ./internal/onnxgen/sdgen -o MODELS
//
// writes MODELS/checkpoints/tiny (TinySD: 1×1 UNet, 8-wide text). It is a
// tool (never part of the comfyrt binary, which must not carry the model
// generator).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"comfyrt/internal/onnxgen"
)

func main() {
	out := flag.String("o", "", "models `folder` to write checkpoints/… into")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: sdgen -o MODELS")
		os.Exit(2)
	}
	if err := (onnxgen.TinySD{}).Write(filepath.Join(*out, "checkpoints", "tiny")); err != nil {
		fmt.Fprintln(os.Stderr, "sdgen:", err)
		os.Exit(1)
	}
}
