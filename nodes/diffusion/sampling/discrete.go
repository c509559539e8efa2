package sampling

import (
	"math"
)

// Prediction is what the model outputs.
type Prediction int

const (
	// Eps: the model predicts the noise (SD1.x, SD2-base).
	Eps Prediction = iota
	// V: v-prediction (SD2.x 768).
	V
	// X0: the model predicts the denoised latent (ModelSamplingDiscrete's
	// x0).
	X0
	// LCM: eps with the latent-consistency boundary condition
	// (ModelSamplingDiscrete's lcm: c_skip, c_out of the timestep × 10,
	// σ_data 0.5).
	LCM
	// ImgToImg: x0, and the model sees x unscaled (img_to_img).
	ImgToImg
)

// DiscreteConfig is ModelSamplingDiscrete's sampling settings.
type DiscreteConfig struct {
	Timesteps   int     // 1000
	LinearStart float64 // 0.00085
	LinearEnd   float64 // 0.012
	Prediction  Prediction
	// BetaSchedule is make_beta_schedule's schedule in ComfyUI's names:
	// "linear" (the default: linspace(√start, √end)², diffusers'
	// scaled_linear), "sqrt_linear" (linspace(start, end), diffusers'
	// linear) or "squaredcos_cap_v2".
	BetaSchedule string
	// ZSNR rescales the sigmas to zero terminal SNR
	// (rescale_zero_terminal_snr_sigmas).
	ZSNR bool
	// OriginalTimesteps > 0 makes the table ModelSamplingDiscreteDistilled's
	// (LCM: 50): every Timesteps/OriginalTimesteps-th sigma from the last.
	OriginalTimesteps int
}

// SD15Config is Stable Diffusion 1.x's: scaled-linear betas 0.00085 → 0.012
// over 1000 steps, eps prediction.
var SD15Config = DiscreteConfig{Timesteps: 1000, LinearStart: 0.00085, LinearEnd: 0.012, Prediction: Eps}

// Discrete is ComfyUI's ModelSamplingDiscrete: sigmas indexed by timestep,
// ascending.
type Discrete struct {
	Sigmas     []float32 // σ_t, t = 0 … Timesteps−1 (every Skip-th)
	LogSigmas  []float32 // log σ_t (computed in float64, stored as float32)
	Prediction Prediction
	SigmaData  float64 // 1
	// Skip is the distilled table's stride (skip_steps; 1 when not
	// distilled): table index i stands for timestep i·Skip + Skip − 1.
	Skip int
}

// NewDiscrete builds the table for cfg (see modelsampling.go for the beta
// schedules, zero terminal SNR and the distilled table).
func NewDiscrete(cfg DiscreteConfig) (*Discrete, error) {
	sig, err := discreteSigmas(cfg)
	if err != nil {
		return nil, err
	}
	d := &Discrete{Prediction: cfg.Prediction, SigmaData: 1, Skip: 1}
	if cfg.OriginalTimesteps > 0 {
		sig, d.Skip = distill(sig, cfg.OriginalTimesteps)
	}
	d.Sigmas, d.LogSigmas = make([]float32, len(sig)), make([]float32, len(sig))
	for i, s := range sig {
		d.Sigmas[i] = float32(s)
		d.LogSigmas[i] = float32(math.Log(s))
	}
	return d, nil
}

// SD15 is the SD1.x model sampling.
func SD15() *Discrete {
	d, err := NewDiscrete(SD15Config)
	if err != nil {
		panic(err) // constant configuration
	}
	return d
}

// SigmaMin is σ at timestep 0; SigmaMax at the last timestep.
func (d *Discrete) SigmaMin() float64 { return float64(d.Sigmas[0]) }

// SigmaMax is σ at the last timestep.
func (d *Discrete) SigmaMax() float64 { return float64(d.Sigmas[len(d.Sigmas)-1]) }

// Timestep is the timestep whose log σ is nearest log sigma (the first on a
// tie), as ModelSamplingDiscrete.timestep (for a distilled table, index ·
// Skip + Skip − 1); it is what the UNet receives.
func (d *Discrete) Timestep(sigma float64) int {
	ls := float32(math.Log(float64(float32(sigma))))
	best, bestDist := 0, float32(math.Inf(1))
	for i, l := range d.LogSigmas {
		dist := ls - l
		if dist < 0 {
			dist = -dist
		}
		if dist < bestDist {
			best, bestDist = i, dist
		}
	}
	return best*d.skip() + d.skip() - 1
}

func (d *Discrete) skip() int {
	if d.Skip < 1 {
		return 1
	}
	return d.Skip
}

// Sigma is σ at a (fractional) timestep: log σ interpolated linearly
// between the two nearest timesteps, in float32 as ComfyUI's tensors (a
// distilled table maps t to its index (t − Skip + 1)/Skip first).
func (d *Discrete) Sigma(t float64) float64 {
	tf := float32(t)
	if k := d.skip(); k > 1 {
		tf = (tf - float32(k-1)) / float32(k)
	}
	if !(tf >= 0) { // also NaN
		tf = 0
	}
	if last := float32(len(d.Sigmas) - 1); tf > last {
		tf = last
	}
	lo := float32(math.Floor(float64(tf)))
	hi := float32(math.Ceil(float64(tf)))
	w := tf - lo
	ls := float32((1-w)*d.LogSigmas[int(lo)]) + float32(w*d.LogSigmas[int(hi)])
	return float64(float32(math.Exp(float64(ls))))
}

// PercentToSigma maps a sampling percent (0 = start, 1 = end) to σ:
// 999999999.9 at or below 0, 0 at or above 1, else σ at timestep
// (1 − percent)·999 (ComfyUI's constant, whatever the table's length).
func (d *Discrete) PercentToSigma(percent float64) float64 {
	if percent <= 0 {
		return 999999999.9
	}
	if percent >= 1 {
		return 0
	}
	return d.Sigma((1 - percent) * 999.0)
}

// InputScale is calculate_input's factor: the model sees x·c_in,
// c_in = 1/√(σ²+σ_data²) (1 for img_to_img: IMG_TO_IMG.calculate_input
// returns the input).
func (d *Discrete) InputScale(sigma float64) float32 {
	if d.Prediction == ImgToImg {
		return 1
	}
	return float32(1 / math.Sqrt(sigma*sigma+d.SigmaData*d.SigmaData))
}

// CalculateDenoised turns the model output for input x at sigma into the
// denoised latent: eps: x − out·σ; v: x·σd²/(σ²+σd²) − out·σ·σd/√(σ²+σd²);
// x0 and img_to_img: out; lcm: see calculateLCM. dst may alias x or out.
func (d *Discrete) CalculateDenoised(sigma float64, out, x, dst []float32) {
	switch d.Prediction {
	case X0, ImgToImg:
		copy(dst, out)
		return
	case LCM:
		d.calculateLCM(sigma, out, x, dst)
		return
	}
	if d.Prediction == V {
		sd2 := d.SigmaData * d.SigmaData
		a := float32(sd2 / (sigma*sigma + sd2))
		b := float32(sigma * d.SigmaData / math.Sqrt(sigma*sigma+sd2))
		x, out := x[:len(dst)], out[:len(dst)]
		for i := range dst {
			dst[i] = float32(x[i]*a) - float32(out[i]*b)
		}
		return
	}
	s := float32(sigma)
	x, out = x[:len(dst)], out[:len(dst)]
	for i := range dst {
		dst[i] = x[i] - float32(out[i]*s)
	}
}

// MaxDenoise is KSAMPLER.max_denoise: the schedule starts at full noise
// (σ₀ within 1e-5 relative of σ_max, or above it).
func (d *Discrete) MaxDenoise(sigma0 float64) bool {
	smax := d.SigmaMax()
	return math.Abs(smax-sigma0) <= 1e-5*math.Max(math.Abs(smax), math.Abs(sigma0)) || sigma0 > smax
}

// NoiseScaling is noise_scaling: dst = noise·σ + latent, or
// noise·√(1+σ²) + latent when maxDenoise. dst may alias noise or latent.
func (d *Discrete) NoiseScaling(sigma float64, noise, latent []float32, maxDenoise bool, dst []float32) {
	k := float32(sigma)
	if maxDenoise {
		k = float32(math.Sqrt(1 + float64(k)*float64(k)))
	}
	noise, latent = noise[:len(dst)], latent[:len(dst)]
	for i := range dst {
		dst[i] = float32(noise[i]*k) + latent[i]
	}
}

// linspace64 is torch.linspace in float64: start + step·i for the first
// half, end − step·(n−1−i) for the second.
func linspace64(start, end float64, n int) []float64 {
	out := make([]float64, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float64(n-1)
	for i := range out {
		if i < n/2 {
			out[i] = start + step*float64(i)
		} else {
			out[i] = end - step*float64(n-1-i)
		}
	}
	return out
}

// linspace32 is torch.linspace in float32 (the default dtype).
func linspace32(start, end float32, n int) []float32 {
	out := make([]float32, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float32(n-1)
	for i := range out {
		if i < n/2 {
			out[i] = start + float32(step*float32(i))
		} else {
			out[i] = end - float32(step*float32(n-1-i))
		}
	}
	return out
}
