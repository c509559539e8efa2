package sampling

import (
	"fmt"
	"math"
	"strings"

	"comfyrt/nodes/diffusion/torchrand"
)

// Samplers are the sampler names this package runs.
var Samplers = []string{"euler", "euler_ancestral", "lcm", "dpmpp_2m", "ddim"}

// Denoiser is the model call: for the latent x at noise level sigma it
// writes the denoised latent (cfg applied, calculate_denoised done) into
// out, which has x's length. It must not keep x or out.
type Denoiser func(x []float32, sigma float64, out []float32) error

// Sampler runs one of ComfyUI's samplers over a latent of fixed size. Make
// one per latent size; it holds the step buffers and the step-noise
// generator, so its steps do not allocate. It is not safe for concurrent
// use.
type Sampler struct {
	name     string
	denoised []float32
	old      []float32 // dpmpp_2m: the previous step's denoised
	hasOld   bool
	noise    []float32
	gen      *torchrand.Generator
	eta      float64 // euler_ancestral: 1 unless SetAncestral
	sNoise   float64 // euler_ancestral: 1 unless SetAncestral
	steps    noiseTable
}

// noiseTable is the step noise drawn ahead (PrecomputeNoise): the first
// draws of a generator seeded seed+1, one latent each, and the generator
// as it is after them.
type noiseTable struct {
	table []float32 // draws × n values
	draws int
	seed  uint64
	after torchrand.Generator
	next  int // the next draw a step takes from table; ≥ draws: the generator
}

// NewSampler makes a sampler for latents of n float32 values; seed is the
// KSampler seed (the step noise generator is seeded seed+1, as ComfyUI's
// default_noise_sampler on the CPU).
func NewSampler(name string, n int, seed uint64) (*Sampler, error) {
	if n <= 0 || n > 1<<30 {
		return nil, fmt.Errorf("sampling: latent of %d values out of range", n)
	}
	s := &Sampler{name: name, denoised: make([]float32, n), eta: 1, sNoise: 1}
	switch name {
	case "euler", "ddim":
	case "euler_ancestral", "lcm":
		s.noise = make([]float32, n)
		s.gen = torchrand.New(seed + 1)
	case "dpmpp_2m":
		s.old = make([]float32, n)
	default:
		return nil, fmt.Errorf("sampling: unknown sampler %q (known: %s)", name, strings.Join(Samplers, ", "))
	}
	return s, nil
}

// SetAncestral sets euler_ancestral's eta and s_noise (the
// SamplerEulerAncestral node's inputs; KSampler uses 1 and 1).
func (s *Sampler) SetAncestral(eta, sNoise float64) error {
	if !(eta >= 0 && eta <= 100) || !(sNoise >= 0 && sNoise <= 100) {
		return fmt.Errorf("sampling: eta %g, s_noise %g: want values in [0, 100]", eta, sNoise)
	}
	s.eta, s.sNoise = eta, sNoise
	return nil
}

// Name is the sampler's ComfyUI name.
func (s *Sampler) Name() string { return s.name }

// Reset starts a new run: the multistep history is cleared and the step
// noise generator reseeded (seed+1).
//
// After PrecomputeNoise(seed, …) a Reset with the same seed rewinds to the
// drawn table instead (the same values, without drawing them again).
func (s *Sampler) Reset(seed uint64) {
	s.hasOld = false
	if s.gen == nil {
		return
	}
	if s.steps.draws > 0 && seed == s.steps.seed {
		*s.gen = s.steps.after
		s.steps.next = 0
		return
	}
	s.gen.ManualSeed(seed + 1)
	s.steps.next = s.steps.draws
}

// MaxNoiseTable is the most float32 values PrecomputeNoise holds (256 MiB).
const MaxNoiseTable = 1 << 26

// NoiseDraws is how many step-noise latents a run over sigmas draws:
// one per euler_ancestral step that does not end at σ_down = 0, one per
// lcm step to a σ > 0, none for the other samplers.
func (s *Sampler) NoiseDraws(sigmas []float64) int {
	return NoiseDraws(s.name, s.eta, sigmas)
}

// NoiseDraws is Sampler.NoiseDraws for the sampler name and
// euler_ancestral's eta (1 for KSampler), before a Sampler is made.
func NoiseDraws(name string, eta float64, sigmas []float64) int {
	k := 0
	for i := 0; i+1 < len(sigmas); i++ {
		switch name {
		case "euler_ancestral":
			down, _ := AncestralStep(float64(float32(sigmas[i])), float64(float32(sigmas[i+1])), eta)
			if float32(down) != 0 {
				k++
			}
		case "lcm":
			if sigmas[i+1] > 0 {
				k++
			}
		}
	}
	return k
}

// NoiseTableLen is the number of float32 values PrecomputeNoise keeps for
// draws latents of n values: 0 when there is nothing to draw or the table
// would pass MaxNoiseTable (the steps then draw as they go).
func NoiseTableLen(draws, n int) int {
	if draws <= 0 || n <= 0 || draws > MaxNoiseTable/n {
		return 0
	}
	return draws * n
}

// PrecomputeNoise draws the step noise of a run ahead: the first draws
// latents of the generator seeded seed+1, which every run reset with the
// same seed takes again (ComfyUI reseeds each sample call, so with a fixed
// seed each frame's step noise is the same). Steps then read the table
// instead of drawing, bit for bit the same values; draws past the table
// come from the generator as before. It leaves the sampler Reset(seed).
// Without step noise, or past NoiseTableLen's bound, it only resets.
func (s *Sampler) PrecomputeNoise(seed uint64, draws int) {
	s.steps = noiseTable{}
	n := len(s.denoised)
	if s.gen == nil || NoiseTableLen(draws, n) == 0 {
		s.Reset(seed)
		return
	}
	table := make([]float32, draws*n)
	s.gen.ManualSeed(seed + 1)
	for k := range draws {
		s.gen.Randn(table[k*n : (k+1)*n])
	}
	s.steps = noiseTable{table: table, draws: draws, seed: seed, after: *s.gen}
	s.Reset(seed)
}

// stepNoise is the next step's noise: the table's next latent, else a
// fresh draw.
func (s *Sampler) stepNoise() []float32 {
	t := &s.steps
	if t.next < t.draws {
		n := len(s.noise)
		t.next++
		return t.table[(t.next-1)*n : t.next*n]
	}
	s.gen.Randn(s.noise)
	return s.noise
}

// Sample runs every step of sigmas on x in place (x holds the noised
// latent: NoiseScaling of the initial noise at sigmas[0]). Fewer than two
// sigmas leave x unchanged. Each KSampler call in ComfyUI starts a fresh
// step-noise generator: call Reset(seed) before each run (each frame) to
// draw the same step noise ComfyUI does; NewSampler's state is already
// reset.
func (s *Sampler) Sample(model Denoiser, x []float32, sigmas []float64) error {
	for i := 0; i+1 < len(sigmas); i++ {
		if err := s.Step(model, x, sigmas, i); err != nil {
			return err
		}
	}
	return nil
}

// Step runs step i (sigmas[i] → sigmas[i+1]) on x in place.
func (s *Sampler) Step(model Denoiser, x []float32, sigmas []float64, i int) error {
	if len(x) != len(s.denoised) {
		return fmt.Errorf("sampling: latent of %d values, sampler made for %d", len(x), len(s.denoised))
	}
	if i < 0 || i+1 >= len(sigmas) {
		return fmt.Errorf("sampling: step %d of a %d-sigma schedule", i, len(sigmas))
	}
	sigma, next := sigmas[i], sigmas[i+1]
	if !(sigma > 0) || !(next >= 0) || math.IsInf(sigma, 0) {
		return fmt.Errorf("sampling: step %d: sigma %g → %g (want σ > 0, next ≥ 0)", i, sigma, next)
	}
	if err := model(x, sigma, s.denoised); err != nil {
		return err
	}
	switch s.name {
	case "euler", "ddim":
		eulerStep(x, s.denoised, sigma, next)
	case "euler_ancestral":
		s.ancestralStep(x, sigma, next)
	case "lcm":
		s.lcmStep(x, next)
	case "dpmpp_2m":
		s.dpmpp2mStep(x, sigmas, i)
	}
	return nil
}

// eulerStep: d = (x − denoised)/σ; x += d·(σnext − σ).
func eulerStep(x, denoised []float32, sigma, next float64) {
	s := float32(sigma)
	dt := float32(next) - s
	denoised = denoised[:len(x)]
	for j, v := range x {
		d := (v - denoised[j]) / s
		x[j] = v + float32(d*dt)
	}
}

// AncestralStep is get_ancestral_step for eta: the sigma to step down to
// and the noise to add.
func AncestralStep(from, to, eta float64) (down, up float64) {
	if eta == 0 {
		return to, 0
	}
	up = math.Min(to, eta*math.Sqrt(to*to*(from*from-to*to)/(from*from)))
	down = math.Sqrt(to*to - up*up)
	return down, up
}

// ancestralStep is sample_euler_ancestral: an Euler step to σ_down plus
// fresh noise times s_noise·σ_up; the last step returns denoised.
func (s *Sampler) ancestralStep(x []float32, sigma, next float64) {
	sf, nf := float64(float32(sigma)), float64(float32(next))
	down, up := AncestralStep(sf, nf, s.eta)
	if float32(down) == 0 {
		copy(x, s.denoised)
		return
	}
	noise := s.stepNoise()
	sg := float32(sigma)
	dt := float32(down) - sg
	u, sn := float32(up), float32(s.sNoise)
	for j, v := range x {
		d := (v - s.denoised[j]) / sg
		x[j] = v + float32(d*dt) + float32(float32(noise[j]*sn)*u)
	}
}

// lcmStep is sample_lcm: x = denoised, re-noised to σnext (noise_scaling)
// unless σnext is 0.
func (s *Sampler) lcmStep(x []float32, next float64) {
	if !(next > 0) {
		copy(x, s.denoised)
		return
	}
	noise := s.stepNoise()
	n := float32(next)
	for j := range x {
		x[j] = float32(noise[j]*n) + s.denoised[j]
	}
}

// dpmpp2mStep is sample_dpmpp_2m: with t = −log σ, h = t_next − t,
// x = (σnext/σ)·x − expm1(−h)·D where D is denoised on the first and last
// steps and (1 + 1/2r)·denoised − (1/2r)·old otherwise, r = h_last/h.
func (s *Sampler) dpmpp2mStep(x []float32, sigmas []float64, i int) {
	sigma, next := sigmas[i], sigmas[i+1]
	switch {
	case next == 0:
		copy(x, s.denoised)
	case !s.hasOld || i == 0:
		t, tn := -math.Log(sigma), -math.Log(next)
		a, b := float32(next/sigma), float32(-math.Expm1(-(tn - t)))
		for j, v := range x {
			x[j] = float32(a*v) + float32(b*s.denoised[j])
		}
	default:
		t, tn := -math.Log(sigma), -math.Log(next)
		h := tn - t
		a, b := float32(next/sigma), float32(-math.Expm1(-h))
		r := (t + math.Log(sigmas[i-1])) / h
		c1, c2 := float32(1+1/(2*r)), float32(1/(2*r))
		for j, v := range x {
			dd := float32(c1*s.denoised[j]) - float32(c2*s.old[j])
			x[j] = float32(a*v) + float32(b*dd)
		}
	}
	copy(s.old, s.denoised)
	s.hasOld = true
}
