package builtin

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/value"
)

// streamBatchRef is testdata/stream_batch.json, written by
// scripts/reference/stream_batch.py (the pack's sample loop and ComfyUI's
// SamplerCustom around it, in PyTorch, on a closed-form ε-model).
type streamBatchRef struct {
	SigmaMax   float64 `json:"sigma_max"`
	Schedulers []struct {
		TIndex string    `json:"t_index"`
		Steps  int       `json:"steps"`
		Sigmas []float64 `json:"sigmas"`
	} `json:"schedulers"`
	Cases []struct {
		Name     string  `json:"name"`
		Seed     uint64  `json:"seed"`
		AddNoise bool    `json:"add_noise"`
		CFG      float64 `json:"cfg"`
		Shape    []int   `json:"shape"`
		Frames   []struct {
			TIndex string     `json:"t_index"`
			Sigmas []float64  `json:"sigmas"`
			Latent []float32  `json:"latent"`
			Output []float32  `json:"output"`
			XT     *[]float32 `json:"xt"`
		} `json:"frames"`
	} `json:"cases"`
}

func readStreamBatchRef(t *testing.T) streamBatchRef {
	t.Helper()
	b, err := os.ReadFile("testdata/stream_batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var r streamBatchRef
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) == 0 || len(r.Schedulers) == 0 {
		t.Fatal("no cases")
	}
	return r
}

// closedFormDenoiser is ComfyUI's CFG-guided model call for one item on
// the reference's closed-form ε-model, eps(x, t, negative) = 0.5 x +
// 0.001 t + (−0.1 if negative else 0.2).
func closedFormDenoiser(ms *sampling.Discrete, cfg float64, n int) sampling.Denoiser {
	c, u := make([]float32, n), make([]float32, n)
	return func(x []float32, sigma float64, out []float32) error {
		cin, ts := ms.InputScale(sigma), float32(ms.Timestep(sigma))
		for i, v := range x {
			e := 0.5*(v*cin) + 0.001*ts
			c[i], u[i] = e+0.2, e-0.1
		}
		ms.CalculateDenoised(sigma, c, x, c)
		ms.CalculateDenoised(sigma, u, x, u)
		sampling.ApplyCFG(c, u, cfg, out)
		return nil
	}
}

// StreamScheduler's sigmas equal the reference's (SD1.5's normal schedule
// at 50 steps) to the float32 rounding of that schedule.
func TestStreamSchedulerMatchesReference(t *testing.T) {
	ref := readStreamBatchRef(t)
	ms := sampling.SD15()
	if d := ms.SigmaMax() - ref.SigmaMax; d > 1e-6 || d < -1e-6 {
		t.Fatalf("sigma_max %v, reference %v", ms.SigmaMax(), ref.SigmaMax)
	}
	for _, c := range ref.Schedulers {
		full, err := sampling.Sigmas(ms, "normal", c.Steps)
		if err != nil {
			t.Fatal(err)
		}
		got := StreamSchedulerSigmas(full, c.TIndex)
		if len(got) != len(c.Sigmas) {
			t.Fatalf("%q: %v, want %v", c.TIndex, got, c.Sigmas)
		}
		for i, v := range got { // float32 values; the normal schedule's last bit may differ
			if math.Abs(v-c.Sigmas[i]) > 1e-6*c.Sigmas[i] || v != float64(float32(v)) {
				t.Errorf("%q: %v, want %v", c.TIndex, got, c.Sigmas)
				break
			}
		}
	}
}

// runStream frame after frame equals the reference's SamplerCustom with
// StreamBatchSampler: add_noise on and off, txt2img mode (an all-zero
// latent: fresh draws, the buffer reset), one item (the buffer dropped)
// and several, max-denoise noise scaling at σ_max, and one sampler
// instance going on across batch sizes. x_t_latent_buffer is compared too
// (the output, the last item, never depends on it).
func TestStreamBatchSamplerMatchesReference(t *testing.T) {
	ref := readStreamBatchRef(t)
	ms := sampling.SD15()
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			h := &SDStreamSampler{NumSteps: 3}
			k := &kSampler{mode: samplerCustom}
			var out []value.Value
			for f, fr := range c.Frames {
				b := len(fr.Sigmas) - 1
				if k.stream == nil || !slices.Equal(k.sigmas, fr.Sigmas) {
					latent := []int{b, c.Shape[0], c.Shape[1], c.Shape[2]}
					n := c.Shape[0] * c.Shape[1] * c.Shape[2]
					k.setStream(newStreamBatch(h, latent, c.Seed, c.AddNoise), ms, fr.Sigmas, 0.18215, closedFormDenoiser(ms, c.CFG, n))
					spec := value.LatentSpec(1, c.Shape[0], c.Shape[1], c.Shape[2])
					out = []value.Value{value.New(spec), value.New(spec)}
				}
				if err := k.runStream(fr.Latent, out); err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("frame %d (%s)", f, fr.TIndex)
				closeTo(t, what+" output", out[0].Tensor.Data, fr.Output, 2e-5)
				if !slices.Equal(out[0].Tensor.Data, out[1].Tensor.Data) {
					t.Errorf("%s: denoised_output differs from output", what)
				}
				switch st := k.stream.st; {
				case fr.XT == nil && st.hasXT:
					t.Errorf("%s: x_t_latent_buffer kept, the reference drops it", what)
				case fr.XT != nil && !st.hasXT:
					t.Errorf("%s: no x_t_latent_buffer", what)
				case fr.XT != nil:
					closeTo(t, what+" x_t_latent_buffer", st.xt, *fr.XT, 2e-5)
				}
			}
		})
	}
}
