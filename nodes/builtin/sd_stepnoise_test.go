package builtin

import (
	"fmt"
	"math"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// KSampler draws the step noise of euler_ancestral and lcm once, in
// Prepare; frame after frame its output is bit for bit that of the same
// kernel drawing the noise at each step (the table dropped), for several
// seeds, with the UNet run through ONNX Runtime.
func TestKSamplerPrecomputedStepNoise(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	for _, c := range []struct {
		sampler, sched string
		steps          int64
		cfg, denoise   float64
	}{{"lcm", "sgm_uniform", 4, 1, 1}, {"lcm", "normal", 2, 1, 0.6}, {"euler_ancestral", "karras", 3, 4, 0.8}} {
		for _, seed := range []int64{0, 7, 905056445574169} {
			t.Run(fmt.Sprintf("%s/%d", c.sampler, seed), func(t *testing.T) {
				lat := testLatent()
				in := s.ksamplerIn(seed, c.steps, c.cfg, c.sampler, c.sched, lat, c.denoise)
				pre := modelKernel(t, "KSampler", s.p, s.dir)
				plain := modelKernel(t, "KSampler", s.p, s.dir)
				outPre, outPlain := prepare(t, pre, in), prepare(t, plain, in)
				plain.(*kSampler).smp.PrecomputeNoise(uint64(seed), 0) // the per-step draw
				for frame := range 3 {
					for i := range lat.Tensor.Data {
						lat.Tensor.Data[i] = float32(math.Sin(float64(i*(frame+1))*0.7)) * 3
					}
					if err := nodes.SafeRun(pre, in, outPre); err != nil {
						t.Fatal(err)
					}
					if err := nodes.SafeRun(plain, in, outPlain); err != nil {
						t.Fatal(err)
					}
					for i, v := range outPlain[0].Tensor.Data {
						if math.Float32bits(v) != math.Float32bits(outPre[0].Tensor.Data[i]) {
							t.Fatalf("frame %d value %d: %v with the noise drawn ahead, %v drawn per step", frame, i, outPre[0].Tensor.Data[i], v)
						}
					}
				}
			})
		}
	}
}

// The noise drawn ahead is in KSampler's scratch: lcm over 4 steps to σ 0
// draws 3 latents more than euler's buffers.
func TestKSamplerStepNoiseScratch(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := value.New(value.LatentSpec(1, 4, 64, 64))
	scratch := func(sampler string) int64 {
		n, err := nodes.SafeScratch(modelKernel(t, "KSampler", s.p, s.dir), specsOf(s.ksamplerIn(1, 4, 1, sampler, "normal", lat, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if d, want := scratch("lcm")-scratch("euler"), int64(3*4*64*64*4); d != want {
		t.Errorf("lcm's scratch is %d bytes over euler's, want %d (3 step-noise latents)", d, want)
	}
}
