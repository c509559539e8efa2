package builtin

import (
	"math"
	"slices"
	"strings"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/value"
)

// prepareFrameScalars prepares k on in with the slots in perFrame as
// per-frame FLOATs (no constant), as a FloatControl feeds them.
func prepareFrameScalars(t *testing.T, k nodes.Kernel, in []value.Value, perFrame ...int) []value.Value {
	t.Helper()
	specs := specsOf(in)
	for _, i := range perFrame {
		specs[i] = value.Spec{Kind: value.Float}
	}
	outSpecs, err := nodes.SafePrepare(k, specs)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	out := make([]value.Value, len(outSpecs))
	for i, s := range outSpecs {
		out[i] = value.New(s)
	}
	return out
}

// A KSampler whose denoise and cfg come per frame gives, frame by frame,
// bit for bit what a KSampler prepared with those constants gives: the
// schedule's tail, the noise of the seed, the step noise drawn ahead (which
// does not depend on denoise), the unconditional pass skipped at cfg 1;
// denoise 0 returns the input.
func TestKSamplerPerFrameDenoise(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	frames := []struct{ denoise, cfg float64 }{{0.5, 2.5}, {0.5, 2.5}, {1, 1}, {0.3, 4}, {0, 3}, {0.75, 1}, {0.45, 2}, {0.5, 2}}
	for _, c := range []struct {
		sampler, sched string
		steps          int64
	}{{"euler_ancestral", "karras", 3}, {"lcm", "sgm_uniform", 2}, {"dpmpp_2m", "normal", 3}, {"euler", "simple", 1}} {
		t.Run(c.sampler, func(t *testing.T) {
			lat := testLatent()
			in := s.ksamplerIn(905056445574169, c.steps, 2.5, c.sampler, c.sched, lat, 0.5)
			k := modelKernel(t, "KSampler", s.p, s.dir)
			out := prepareFrameScalars(t, k, in, 3, 9)
			for f, fr := range frames {
				for i := range lat.Tensor.Data {
					lat.Tensor.Data[i] = float32(math.Sin(float64(i*(f+1))*0.7)) * 3
				}
				in[3], in[9] = f64(fr.cfg), f64(fr.denoise)
				if err := nodes.SafeRun(k, in, out); err != nil {
					t.Fatalf("frame %d: %v", f, err)
				}
				want := runPrepared(t, modelKernel(t, "KSampler", s.p, s.dir), in...)[0].Tensor.Data
				for i, v := range want {
					if math.Float32bits(v) != math.Float32bits(out[0].Tensor.Data[i]) {
						t.Fatalf("frame %d (denoise %v, cfg %v) value %d: %v per frame, %v constant", f, fr.denoise, fr.cfg, i, out[0].Tensor.Data[i], v)
					}
				}
				if fr.denoise == 0 && !slicesEqual(out[0].Tensor.Data, lat.Tensor.Data) {
					t.Errorf("frame %d: denoise 0 changed the latent", f)
				}
			}
		})
	}
}

// Per frame nothing is allocated for a repeated denoise, for one that
// keeps int(steps/denoise) (0.5 and 0.45 at 2 steps: 4 steps), or for a
// step count seen before (a FloatControl's cycle after its first pass).
func TestKSamplerPerFrameDenoiseAllocs(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	in := s.ksamplerIn(7, 2, 2.5, "euler_ancestral", "normal", testLatent(), 0.5)
	k := modelKernel(t, "KSampler", s.p, s.dir)
	out := prepareFrameScalars(t, k, in, 3, 9)
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatal(err)
	}
	same := []float64{0.5, 0.45}
	f := 0
	if a := testing.AllocsPerRun(6, func() {
		f++
		in[9], in[3] = f64(same[f%2]), f64(float64(f%3))
		if err := k.Run(in, out); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Run allocates %v times per frame (the same step count)", a)
	}
	cycle := []float64{0.5, 0.3, 0.9, 0, 0.7, 1}
	for _, d := range cycle { // the first pass computes each schedule
		in[9] = f64(d)
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
	}
	if a := testing.AllocsPerRun(12, func() {
		f++
		in[9] = f64(cycle[f%len(cycle)])
		if err := k.Run(in, out); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Run allocates %v times per frame (step counts seen before)", a)
	}
	if n := k.(*kSampler).Note(); !strings.Contains(n, "denoise changes per frame") || !strings.Contains(n, "cfg changes per frame") {
		t.Errorf("note %q", n)
	}
}

// A per-frame denoise or cfg that is not a number (or a denoise so small
// that its schedule would pass a million steps) is an error naming the
// input; as ComfyUI's set_steps, a linked denoise is otherwise not
// range-checked (above 0.9999 full, at or below 0 nothing to do) and any
// finite cfg runs.
func TestKSamplerPerFrameDenoiseErrors(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	in := s.ksamplerIn(7, 2, 2.5, "euler", "normal", testLatent(), 0.5)
	k := modelKernel(t, "KSampler", s.p, s.dir)
	out := prepareFrameScalars(t, k, in, 3, 9)
	for _, c := range []struct {
		slot int
		v    value.Value
		want string
	}{{9, f64(math.NaN()), "input denoise"}, {9, str("x"), "input denoise"}, {9, f64(1e-300), "input denoise"},
		{3, f64(math.NaN()), "input cfg"}, {3, f64(math.Inf(1)), "input cfg"}} {
		in := append([]value.Value(nil), in...)
		in[c.slot] = c.v
		if err := nodes.SafeRun(k, in, out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %s: %v, want an error naming it", c.want, c.v, err)
		}
	}
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Errorf("a good frame after the bad ones: %v", err)
	}
	frame := func(denoise, cfg float64) []float32 {
		t.Helper()
		in := append([]value.Value(nil), in...)
		in[9], in[3] = f64(denoise), f64(cfg)
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatalf("denoise %v, cfg %v: %v", denoise, cfg, err)
		}
		return slices.Clone(out[0].Tensor.Data)
	}
	if a, b := frame(1.5, 2.5), frame(1, 2.5); !slices.Equal(a, b) {
		t.Error("denoise 1.5 differs from 1 (set_steps: full above 0.9999)")
	}
	if a, b := frame(-0.2, 2.5), frame(0, 2.5); !slices.Equal(a, b) || !slices.Equal(a, testLatent().Tensor.Data) {
		t.Error("denoise −0.2 is not denoise 0 (the input latent)")
	}
	frame(0.5, -1) // a negative cfg runs, as in ComfyUI
}

// TestKSamplerPerFrameDenoiseTrough: a FloatControl's sine reaches near 0
// (prompt_updating_WORKFLOW's trough is 0.00274): at 30 steps that is a
// schedule of 10,948 steps, over the steps widget's 10,000, which ComfyUI
// computes; so does comfyrt, and takes its last 31 sigmas.
func TestKSamplerPerFrameDenoiseTrough(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	in := s.ksamplerIn(7, 30, 1, "euler", "normal", testLatent(), 0.5)
	k := modelKernel(t, "KSampler", s.p, s.dir)
	out := prepareFrameScalars(t, k, in, 3, 9)
	in[9] = f64(0.00274)
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatalf("denoise 0.00274 at 30 steps: %v", err)
	}
	want, err := sampling.KSamplerSigmas(sampling.SD15(), "normal", "euler", 30, 0.00274)
	if err != nil || len(want) != 31 {
		t.Fatalf("reference schedule: %d sigmas, %v", len(want), err)
	}
	if got := k.(*kSampler).sigmas; !slices.Equal(got, want) {
		t.Errorf("schedule %v…, want %v…", got[:3], want[:3])
	}
}
