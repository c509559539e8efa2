// Command mkpack builds the example stream pack from source into a folder:
// it copies pack.json, the workflows and the tests, builds the WASM guest
// (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared), writes the ONNX
// model with internal/onnxgen (no weights are committed), and seals the
// manifest (sizes and sha256). Run from the module root:
//
//	go run ./streampack/example/mkpack -o bin/packs/comfyrt-example
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"comfyrt/internal/onnxgen"
	"comfyrt/streampack"
)

func main() {
	_, self, _, _ := runtime.Caller(0)
	src := flag.String("src", filepath.Dir(filepath.Dir(self)), "the example pack's source `folder`")
	out := flag.String("o", "", "output `folder` (created; must not exist or be empty)")
	goTool := flag.String("go", "go", "the go `command`")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "mkpack: -o is required")
		os.Exit(2)
	}
	if err := build(*src, *out, *goTool); err != nil {
		fmt.Fprintf(os.Stderr, "mkpack: %v\n", err)
		os.Exit(1)
	}
}

func build(src, out, goTool string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"pack.json", "workflows", "tests"} {
		if err := copyAll(filepath.Join(src, f), filepath.Join(out, f)); err != nil {
			return err
		}
	}
	wasm, err := filepath.Abs(filepath.Join(out, "guest.wasm"))
	if err != nil {
		return err
	}
	cmd := exec.Command(goTool, "build", "-buildmode=c-shared", "-o", wasm, ".")
	cmd.Dir = filepath.Join(src, "guest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the guest: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(out, "models"), 0o755); err != nil {
		return err
	}
	if err := onnxgen.NewConvNet().Model(1, -1, -1).WriteFile(filepath.Join(out, "models", "saliency.onnx")); err != nil {
		return err
	}
	return streampack.Seal(out)
}

func copyAll(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		t := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(t, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		o, err := os.Create(t)
		if err != nil {
			return err
		}
		if _, err := io.Copy(o, in); err != nil {
			o.Close()
			return err
		}
		return o.Close()
	})
}
