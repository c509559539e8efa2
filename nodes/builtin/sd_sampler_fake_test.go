package builtin

import (
	"path/filepath"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
	"comfyrt/nodes/value"
)

// TestKSamplerFixedBatch: an export whose parts have a batch fixed at 1
// (the fake engine computing the tiny models' maths, so that the no-cgo
// build runs it too): the weighted prompt's two encoder rows take two
// text encoder runs, and cfg ≠ 1 takes two UNet runs per step (the
// conditional and unconditional passes cannot share a batch), with the
// same values as the plain-Go reference.
func TestKSamplerFixedBatch(t *testing.T) {
	dir := t.TempDir()
	if err := (onnxgen.TinySD{}).Write(filepath.Join(dir, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	_, un, te := onnxgen.TinySD{}.Parts()
	part := func(name string) string { return filepath.Join(dir, "checkpoints", "tiny", name, "model.onnx") }
	f32 := func(name string, shape ...int) engine.TensorInfo {
		return engine.TensorInfo{Name: name, DType: engine.Float32, Shape: shape}
	}
	p := fake.New()
	p.Add(part("vae_encoder"), fake.Model{Inputs: []engine.TensorInfo{f32("sample", 1, 3, -1, -1)}, Outputs: []engine.TensorInfo{f32("latent_sample", 1, 4, -1, -1)}})
	p.Add(part("vae_decoder"), fake.Model{Inputs: []engine.TensorInfo{f32("latent_sample", 1, 4, -1, -1)}, Outputs: []engine.TensorInfo{f32("sample", 1, 3, -1, -1)}})
	p.Add(part("text_encoder"), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "input_ids", DType: engine.Int64, Shape: []int{1, 77}}},
		Outputs: []engine.TensorInfo{f32("last_hidden_state", 1, 77, te.D)},
		Fn: func(in, out []engine.Tensor) {
			for j, id := range in[0].Int64 {
				copy(out[0].Data[j*te.D:(j+1)*te.D], te.Emb[int(id)*te.D:])
			}
		},
	})
	p.Add(part("unet"), fake.Model{
		Inputs: []engine.TensorInfo{f32("sample", 1, 4, 4, 5), {Name: "timestep", DType: engine.Int64, Shape: []int{1}},
			f32("encoder_hidden_states", 1, 77, te.D)},
		Outputs: []engine.TensorInfo{f32("out_sample", 1, 4, 4, 5)},
		Fn: func(in, out []engine.Tensor) {
			copy(out[0].Data, un.Reference(in[0].Data, []float64{float64(in[1].Int64[0])}, in[2].Data, 1, 4, 5, 77))
		},
	})
	cp := testkit.CountRuns(p)
	s := newSDSetupIn(t, cp, dir)
	enc := modelKernel(t, "CLIPTextEncode", cp, dir)
	encIn := []value.Value{str(s.posText), value.OfHandle(s.clip)}
	encOut := prepare(t, enc, encIn)
	before := cp.Runs("text_encoder")
	if err := enc.Run(encIn, encOut); err != nil {
		t.Fatal(err)
	}
	if got := cp.Runs("text_encoder") - before; got != 2 {
		t.Errorf("weighted prompt: %d text encoder runs on a batch fixed at 1, want 2 (the prompt and the empty one)", got)
	}
	if e := s.pos.Handle.(*SDConditioning).Entries[0]; len(e.Pooled) != 0 {
		t.Errorf("pooled output of an encoder without one: %d values", len(e.Pooled))
	}
	closeTo(t, "fixed-batch text encoder", s.pos.Handle.(*SDConditioning).Entries[0].Cond, s.wantCond(t, s.posText), 1e-6)
	lat := testLatent()
	k := modelKernel(t, "KSampler", cp, dir)
	in := s.ksamplerIn(3, 2, 2.5, "euler", "normal", lat, 0.7)
	out := prepare(t, k, in)
	before = cp.Runs("unet")
	if err := k.Run(in, out); err != nil {
		t.Fatal(err)
	}
	if got := cp.Runs("unet") - before; got != 4 {
		t.Errorf("%d UNet runs for 2 steps at cfg 2.5 on a batch fixed at 1, want 4", got)
	}
	closeTo(t, "fixed batch", out[0].Tensor.Data, s.reference(t, 3, 2, 2.5, "euler", "normal", lat.Tensor.Data, 0.7), 2e-5)
}
