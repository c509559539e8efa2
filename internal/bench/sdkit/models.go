package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"comfyrt/internal/onnxgen"
)

func models(args []string) error {
	fs := flag.NewFlagSet("sdkit models", flag.ExitOnError)
	out := fs.String("o", "", "models `folder` to write checkpoints/… into")
	large := fs.Bool("large", false, "also write checkpoints/sdlarge (a UNet of SD's signature with a convolution stack)")
	width := fs.Int("width", 128, "sdlarge UNet `channels`")
	depth := fs.Int("depth", 6, "sdlarge UNet hidden `convolutions`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 || *width < 4 || *width > 1024 || *depth < 0 || *depth > 64 {
		fmt.Fprintln(os.Stderr, "usage: sdkit models -o MODELS [-large] [-width 4..1024] [-depth 0..64]")
		os.Exit(2)
	}
	return write(*out, *large, *width, *depth)
}

func write(out string, large bool, width, depth int) error {
	sd := onnxgen.TinySD{}
	if err := sd.Write(filepath.Join(out, "checkpoints", "tiny")); err != nil {
		return err
	}
	if !large {
		return nil
	}
	dir := filepath.Join(out, "checkpoints", "sdlarge")
	if err := sd.Write(dir); err != nil {
		return err
	}
	return convUNet(sd.TextWidth(), width, depth).WriteFile(filepath.Join(dir, "unet", "model.onnx"))
}

// weights are n deterministic values of magnitude about scale.
func weights(n int, scale, phase float64) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)*0.7731+phase) * scale)
	}
	return w
}

// convUNet is the larger UNet: int64 timestep, as Optimum exports SD1.5.
func convUNet(d, c, depth int) *onnxgen.Builder {
	const lc = onnxgen.LatentChannels
	conv := []onnxgen.Attr{{Name: "kernel_shape", Value: []int64{3, 3}}, {Name: "pads", Value: []int64{1, 1, 1, 1}}}
	b := onnxgen.New("unet").
		InputOf("sample", onnxgen.Float32, -2, lc, -3, -4).
		InputOf("timestep", onnxgen.Int64, -7).
		InputOf("encoder_hidden_states", onnxgen.Float32, -2, -8, d).
		OutputOf("out_sample", onnxgen.Float32, -2, lc, -3, -4).
		Float("w_in", weights(c*lc*9, math.Sqrt(2/float64(9*lc)), 0.1), c, lc, 3, 3).
		Float("w_out", weights(lc*c*9, 0.5/math.Sqrt(float64(9*c)), 0.3), lc, c, 3, 3).
		Float("t_scale", []float32{0.001}, 1).
		Int64("col", []int64{-1, 1, 1, 1}, 4).
		Node("Conv", []string{"sample", "w_in"}, []string{"h0"}, conv...).
		Node("Relu", []string{"h0"}, []string{"r0"})
	prev := "r0"
	for i := range depth {
		w, h, r := fmt.Sprintf("w%d", i+1), fmt.Sprintf("h%d", i+1), fmt.Sprintf("r%d", i+1)
		b.Float(w, weights(c*c*9, math.Sqrt(1/float64(9*c)), float64(i)), c, c, 3, 3).
			Node("Conv", []string{prev, w}, []string{h}, conv...).
			Node("Relu", []string{h}, []string{r})
		prev = r
	}
	return b.Node("Conv", []string{prev, "w_out"}, []string{"mixed"}, conv...).
		Node("Cast", []string{"timestep"}, []string{"t_f32"}, onnxgen.Attr{Name: "to", Value: int64(onnxgen.Float32)}).
		Node("ReduceMean", []string{"encoder_hidden_states"}, []string{"text"}, onnxgen.Attr{Name: "axes", Value: []int64{1, 2}}, onnxgen.Attr{Name: "keepdims", Value: int64(0)}).
		Node("Mul", []string{"t_f32", "t_scale"}, []string{"tt"}).
		Node("Add", []string{"text", "tt"}, []string{"shift"}).
		Node("Reshape", []string{"shift", "col"}, []string{"shift4"}).
		Node("Add", []string{"mixed", "shift4"}, []string{"out_sample"})
}
