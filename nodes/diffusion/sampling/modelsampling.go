package sampling

import (
	"fmt"
	"math"
)

// The model sampling variants of ComfyUI's ModelSamplingDiscrete node
// (comfy_extras/nodes_model_advanced.py) over comfy/model_sampling.py:
// the beta schedules of make_beta_schedule
// (comfy/ldm/modules/diffusionmodules/util.py), zero terminal SNR
// (rescale_zero_terminal_snr_sigmas) and ModelSamplingDiscreteDistilled
// (original_timesteps 50, used with the lcm sampling).

// BetaSchedules are the schedules NewDiscrete builds, in ComfyUI's names.
var BetaSchedules = []string{"linear", "sqrt_linear", "squaredcos_cap_v2"}

// discreteSigmas is _register_schedule's σ table in float64 (before
// set_sigmas casts it to float32): σ_t = √((1 − ᾱ_t)/ᾱ_t) with ᾱ the
// cumulative product of 1 − β, rescaled to zero terminal SNR when asked.
func discreteSigmas(cfg DiscreteConfig) ([]float64, error) {
	n := cfg.Timesteps
	if n < 2 || n > 1<<20 {
		return nil, fmt.Errorf("sampling: timesteps %d out of range [2, %d]", n, 1<<20)
	}
	betas, err := makeBetaSchedule(cfg)
	if err != nil {
		return nil, err
	}
	sig := make([]float64, n)
	cum := 1.0
	for i, b := range betas {
		cum *= 1 - b
		sig[i] = math.Sqrt((1 - cum) / cum)
	}
	if cfg.ZSNR {
		rescaleZeroTerminalSNR(sig)
	}
	return sig, nil
}

// makeBetaSchedule is make_beta_schedule in float64.
func makeBetaSchedule(cfg DiscreteConfig) ([]float64, error) {
	n := cfg.Timesteps
	schedule := cfg.BetaSchedule
	if schedule == "" {
		schedule = "linear"
	}
	if schedule != "squaredcos_cap_v2" && !(cfg.LinearStart > 0 && cfg.LinearEnd > cfg.LinearStart && cfg.LinearEnd < 1) {
		return nil, fmt.Errorf("sampling: betas %g → %g: want 0 < start < end < 1", cfg.LinearStart, cfg.LinearEnd)
	}
	switch schedule {
	case "linear":
		b := linspace64(math.Sqrt(cfg.LinearStart), math.Sqrt(cfg.LinearEnd), n)
		for i, r := range b {
			b[i] = r * r
		}
		return b, nil
	case "sqrt_linear":
		return linspace64(cfg.LinearStart, cfg.LinearEnd, n), nil
	case "squaredcos_cap_v2":
		// betas_for_alpha_bar with ᾱ(t) = cos((t + 0.008)/1.008 · π/2)²,
		// each β capped at 0.999.
		alphaBar := func(t float64) float64 {
			c := math.Cos((t + 0.008) / 1.008 * math.Pi / 2)
			return c * c
		}
		b := make([]float64, n)
		for i := range b {
			t1, t2 := float64(i)/float64(n), float64(i+1)/float64(n)
			b[i] = min(1-alphaBar(t2)/alphaBar(t1), 0.999)
		}
		return b, nil
	}
	return nil, fmt.Errorf("sampling: beta schedule %q: want one of %v", schedule, BetaSchedules)
}

// rescaleZeroTerminalSNR is rescale_zero_terminal_snr_sigmas, in place:
// √ᾱ shifted so that the last is 0 and scaled so that the first is kept,
// the last ᾱ then set to 4.8973451890853435e-08.
func rescaleZeroTerminalSNR(sig []float64) {
	n := len(sig)
	ab := make([]float64, n)
	for i, s := range sig {
		ab[i] = math.Sqrt(1 / (s*s + 1))
	}
	a0, aT := ab[0], ab[n-1]
	for i := range ab {
		ab[i] -= aT
		ab[i] *= a0 / (a0 - aT)
	}
	for i, a := range ab {
		bar := a * a
		if i == n-1 {
			bar = 4.8973451890853435e-08
		}
		sig[i] = math.Sqrt((1 - bar) / bar)
	}
}

// distill is ModelSamplingDiscreteDistilled's table: with skip =
// len(sig)/orig, entry orig−1−x is σ[len−1−x·skip] as float32 (the
// parent's table), for x < orig. The values returned are float32 values
// (their logs are then taken in float32, as set_sigmas on a float32
// tensor).
func distill(sig []float64, orig int) ([]float64, int) {
	n := len(sig)
	orig = min(orig, n)
	skip := n / orig
	out := make([]float64, orig)
	for x := range orig {
		out[orig-1-x] = float64(float32(sig[n-1-x*skip]))
	}
	return out, skip
}

// calculateLCM is the LCM prediction's calculate_denoised: with x0 =
// x − out·σ and T = timestep(σ)·10, c_skip = 0.25/(T² + 0.25) and c_out =
// T/√(T² + 0.25), denoised = c_out·x0 + c_skip·x (float32, as ComfyUI's
// tensors).
func (d *Discrete) calculateLCM(sigma float64, out, x, dst []float32) {
	const sd2 = float32(0.5 * 0.5)
	t := float32(d.Timestep(sigma)) * 10
	cSkip := sd2 / (t*t + sd2)
	cOut := t / float32(math.Sqrt(float64(t*t+sd2)))
	s := float32(sigma)
	x, out = x[:len(dst)], out[:len(dst)]
	for i := range dst {
		x0 := x[i] - float32(out[i]*s)
		dst[i] = float32(cOut*x0) + float32(cSkip*x[i])
	}
}

// Predictions maps ModelSamplingDiscrete's sampling names to predictions.
var Predictions = map[string]Prediction{"eps": Eps, "v_prediction": V, "lcm": LCM, "x0": X0, "img_to_img": ImgToImg}
