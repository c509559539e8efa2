package builtin

import (
	"strings"
	"testing"

	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/value"
)

// TestModelSamplingDiscreteKSampler: KSampler on a MODEL patched by
// ModelSamplingDiscrete (lcm: the distilled table and the LCM boundary
// condition; x0; v_prediction with zsnr) gives the plain-Go sampling with
// the same model sampling on the tiny UNet's maths, and differs from the
// unpatched model's result.
func TestModelSamplingDiscreteKSampler(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := testLatent()
	plain := runPrepared(t, modelKernel(t, "KSampler", s.p, s.dir), s.ksamplerIn(42, 2, 1, "lcm", "sgm_uniform", lat, 1)...)[0].Tensor.Data
	base := s.unet
	for _, c := range []struct {
		sampling string
		zsnr     bool
		sampler  string
		sched    string
		cfg      float64
	}{
		{"lcm", false, "lcm", "sgm_uniform", 1},
		{"lcm", true, "lcm", "sgm_uniform", 1},
		{"x0", false, "euler", "normal", 2},
		{"v_prediction", true, "euler", "simple", 1},
		{"eps", false, "lcm", "sgm_uniform", 1},
	} {
		out := runPrepared(t, modelKernel(t, "ModelSamplingDiscrete", s.p, s.dir), value.OfHandle(base), str(c.sampling), boolean(c.zsnr))
		patched := out[0].Handle.(*SDUNet)
		if patched == base || base.Sampling != nil || patched.Sampling.Sampling != c.sampling {
			t.Fatalf("%s: the patch must be a copy: %+v", c.sampling, patched.Sampling)
		}
		s.unet = patched
		got := runPrepared(t, modelKernel(t, "KSampler", s.p, s.dir), s.ksamplerIn(42, 2, c.cfg, c.sampler, c.sched, lat, 1)...)[0].Tensor.Data
		want := s.reference(t, 42, 2, c.cfg, c.sampler, c.sched, lat.Tensor.Data, 1)
		closeTo(t, c.sampling, got, want, 2e-5)
		if c.sampling == "eps" {
			closeTo(t, "eps patch vs the export's eps", got, plain, 0)
		} else if slicesEqual(got, plain) {
			t.Errorf("%s: same result as the unpatched model", c.sampling)
		}
		s.unet = base
	}
	ms, err := (&SDUNet{Scheduler: base.Scheduler, Sampling: &SDModelSampling{Sampling: "lcm"}}).modelSampling()
	if err != nil || len(ms.Sigmas) != 50 || ms.Prediction != sampling.LCM || ms.Timestep(ms.SigmaMax()) != 999 {
		t.Errorf("lcm model sampling: %v %d sigmas", err, len(ms.Sigmas))
	}
}

func TestModelSamplingDiscreteErrors(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	k := modelKernel(t, "ModelSamplingDiscrete", s.p, s.dir)
	for _, c := range []struct {
		in   []value.Value
		want string
	}{
		{[]value.Value{value.OfHandle(s.unet), str("edm"), boolean(false)}, "input sampling"},
		{[]value.Value{value.OfHandle(s.clip), str("lcm"), boolean(false)}, "input model"},
	} {
		_, err := k.Prepare(specsOf(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %s", c.in[1], err, c.want)
		}
	}
	bad := *s.unet
	bad.Scheduler.BetaSchedule = "cosine"
	if _, err := k.Prepare(specsOf([]value.Value{value.OfHandle(&bad), str("eps"), boolean(false)})); err == nil || !strings.Contains(err.Error(), "beta_schedule") {
		t.Errorf("cosine betas: %v", err)
	}
}
