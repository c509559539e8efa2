package builtin

import (
	"math"
	"strings"
	"testing"

	"comfyrt/nodes"
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

// A per-frame denoise or cfg out of range is an error naming the input.
func TestKSamplerPerFrameDenoiseErrors(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	in := s.ksamplerIn(7, 2, 2.5, "euler", "normal", testLatent(), 0.5)
	k := modelKernel(t, "KSampler", s.p, s.dir)
	out := prepareFrameScalars(t, k, in, 3, 9)
	for _, c := range []struct {
		slot int
		v    value.Value
		want string
	}{{9, f64(1.5), "input denoise"}, {9, f64(math.NaN()), "input denoise"}, {9, str("x"), "input denoise"},
		{9, f64(1e-300), "input denoise"}, {3, f64(-1), "input cfg"}} {
		in := append([]value.Value(nil), in...)
		in[c.slot] = c.v
		if err := nodes.SafeRun(k, in, out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %s: %v, want an error naming it", c.want, c.v, err)
		}
	}
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Errorf("a good frame after the bad ones: %v", err)
	}
}
