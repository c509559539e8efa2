package builtin

import (
	"path/filepath"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
	"comfyrt/nodes/value"
)

// TestVAEFakeEngine runs the VAE nodes on the fake engine (so the no-cgo
// build tests them too), with parts an export may have that the tiny ONNX
// ones do not: a batch fixed at 1 (two runs for a batch of 2), an encoder
// returning latent_parameters (mean and log-variance: the mean is used)
// and a float16 decoder. It also checks the declared scratch.
func TestVAEFakeEngine(t *testing.T) {
	dir := t.TempDir()
	if err := (onnxgen.TinySD{}).Write(filepath.Join(dir, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	v := onnxgen.NewVAE()
	part := func(name string) string { return filepath.Join(dir, "checkpoints", "tiny", name, "model.onnx") }
	p := fake.New()
	p.Add(part("vae_encoder"), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "sample", DType: engine.Float32, Shape: []int{1, 3, 32, 40}}},
		Outputs: []engine.TensorInfo{{Name: "latent_parameters", DType: engine.Float32, Shape: []int{1, 8, 4, 5}}},
		Fn: func(in, out []engine.Tensor) {
			v.EncodeTo(out[0].Data[:4*4*5], in[0].Data, 1, 32, 40)
			for i := 4 * 4 * 5; i < len(out[0].Data); i++ {
				out[0].Data[i] = 99 // log-variance: never read
			}
		},
	})
	p.Add(part("vae_decoder"), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "latent_sample", DType: engine.Float16, Shape: []int{1, 4, 4, 5}}},
		Outputs: []engine.TensorInfo{{Name: "sample", DType: engine.Float16, Shape: []int{1, 3, 32, 40}}},
		Fn:      func(in, out []engine.Tensor) { v.DecodeTo(out[0].Data, in[0].Data, 1, 4, 5) },
	})
	p.Add(part("unet"), fake.Model{Inputs: []engine.TensorInfo{{Name: "sample", DType: engine.Float32, Shape: []int{1, 4, 4, 5}},
		{Name: "timestep", DType: engine.Int64, Shape: []int{1}}, {Name: "encoder_hidden_states", DType: engine.Float32, Shape: []int{1, 77, 8}}},
		Outputs: []engine.TensorInfo{{Name: "out_sample", DType: engine.Float32, Shape: []int{1, 4, 4, 5}}}})
	p.Add(part("text_encoder"), fake.Model{Inputs: []engine.TensorInfo{{Name: "input_ids", DType: engine.Int64, Shape: []int{1, 77}}},
		Outputs: []engine.TensorInfo{{Name: "last_hidden_state", DType: engine.Float32, Shape: []int{1, 77, 8}}}})
	vae := runPrepared(t, modelKernel(t, "CheckpointLoaderSimple", p, dir), str("tiny"))[2]
	frame := randomImage(5, 2, 36, 44, 3)
	enc := modelKernel(t, "VAEEncode", p, dir)
	if n, err := nodes.SafeScratch(enc, specsOf([]value.Value{frame, vae})); err != nil || n < 4*3*32*40 {
		t.Errorf("VAEEncode scratch %d %v", n, err)
	}
	lat := runPrepared(t, enc, frame, vae)
	want := v.Encode(nchw(frame.Tensor, 2, -1), 2, 32, 40)
	if dd := maxAbsDiff(lat[0].Tensor.Data, want); dd > 1e-5 {
		t.Errorf("latents off by %g", dd)
	}
	dec := modelKernel(t, "VAEDecode", p, dir)
	if n, err := nodes.SafeScratch(dec, specsOf([]value.Value{lat[0], vae})); err != nil || n < 4*3*32*40 {
		t.Errorf("VAEDecode scratch %d %v", n, err)
	}
	img := runPrepared(t, dec, lat[0], vae)
	// float16 at both ends of the decoder: 11 significant bits.
	if dd := maxAbsDiff(img[0].Tensor.Data, blockAverage(frame.Tensor)); dd > 2e-3 {
		t.Errorf("decode(encode(x)) off the block means by %g", dd)
	}
	if opens := len(p.Opens()); opens != 2 {
		t.Errorf("%d sessions opened, want 2", opens)
	}
}
