// Command sdkit writes generated Stable Diffusion exports and runs the
// `comfyrt bench sd` suite without FFmpeg, for scripts/gpu-sd.sh on a lent
// GPU machine (which has no FFmpeg libraries for the comfyrt binary):
//
//	sdkit models -o MODELS [-large] [-width C] [-depth L]
//	sdkit bench -models MODELS [-checkpoint tiny] [-device cpu] [-json FILE] …
//
// models writes MODELS/checkpoints/tiny (internal/onnxgen's TinySD: a 1×1
// UNet, 8-wide text) and, with -large, MODELS/checkpoints/sdlarge: the same
// export with a UNet of SD's signature (sample, timestep,
// encoder_hidden_states → out_sample; dynamic batch and size) doing real
// work: a 3×3 convolution 4 → C, L convolutions C → C with ReLU, one
// C → 4, plus the tiny UNet's text and timestep shift (C 128, L 6: about
// 7 GFLOP per 64×64 latent row). bench is internal/bench/sdbench with
// its own compile (known schemas, built-in kernels). It is a tool: the
// comfyrt binary carries neither the model generator nor this.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"comfyrt/internal/bench/sdbench"
	"comfyrt/nodes/engine/ort"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "models":
		err = models(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdkit:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sdkit models -o MODELS [-large] [-width C] [-depth L]\n       sdkit bench -models MODELS [options] (-h: the options)")
	os.Exit(2)
}

func bench(args []string) error {
	fs := flag.NewFlagSet("sdkit bench", flag.ExitOnError)
	var c sdbench.Config
	fs.StringVar(&c.ModelsDir, "models", "", "models `folder` with checkpoints/")
	fs.StringVar(&c.Checkpoint, "checkpoint", "tiny", "checkpoint `name`")
	fs.IntVar(&c.Size, "size", 512, "frame side `N`")
	steps := fs.String("steps", "1,4", "denoising `steps` per case")
	samplers := fs.String("samplers", "lcm,euler", "`samplers`")
	cfgs := fs.String("cfg", "1,7", "cfg `values`")
	fs.Float64Var(&c.Denoise, "denoise", 0.75, "KSampler `denoise`")
	fs.StringVar(&c.Device, "device", "cpu", "ONNX Runtime `providers` (cpu, cuda, …)")
	fs.IntVar(&c.Frames, "frames", 100, "measured `frames` per side and round")
	fs.IntVar(&c.Warmup, "warmup", 20, "warm-up `frames` per side and round")
	fs.IntVar(&c.Rounds, "rounds", 3, "interleaved `rounds`")
	fs.IntVar(&c.Threads, "threads", 2, "ONNX Runtime intra-op `threads`")
	js := fs.String("json", "", "write the report to `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if msg := c.Parse(*steps, *samplers, *cfgs); msg != "" || c.ModelsDir == "" || c.Frames < 1 || c.Warmup < 0 || c.Rounds < 1 || c.Threads < 1 {
		fmt.Fprintf(os.Stderr, "sdkit bench: %s (and -models, -frames ≥ 1, -warmup ≥ 0, -rounds ≥ 1, -threads ≥ 1)\n", msg)
		os.Exit(2)
	}
	if err := ort.CheckInit(); err != nil {
		return err
	}
	rep, err := sdbench.Run(c, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("onnxruntime %s\n", ort.New().Name())
	sdbench.Print(os.Stdout, rep)
	if *js == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*js, append(b, '\n'), 0o644)
}
