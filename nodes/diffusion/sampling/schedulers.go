package sampling

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Schedulers are the scheduler names this package computes, in ComfyUI's
// order.
var Schedulers = []string{"normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta", "linear_quadratic", "kl_optimal"}

// maxSteps bounds a schedule's length (ComfyUI's steps widget allows 10000).
const maxSteps = 10000

// Sigmas is ComfyUI's calculate_sigmas: the descending sigma table of the
// scheduler for steps steps, ending in 0 (steps+1 values), as float32
// values.
func Sigmas(d *Discrete, scheduler string, steps int) ([]float64, error) {
	return sigmasUpTo(d, scheduler, steps, maxSteps)
}

// maxDenoiseSteps bounds the schedule a denoise below 1 computes before
// taking its tail: int(steps/denoise) steps, which ComfyUI leaves
// unbounded (a per-frame denoise near 0 reaches tens of thousands).
const maxDenoiseSteps = maxSteps * 100

// sigmasUpTo is Sigmas for at most limit steps.
func sigmasUpTo(d *Discrete, scheduler string, steps, limit int) ([]float64, error) {
	if steps < 1 || steps > limit {
		return nil, fmt.Errorf("sampling: steps %d out of range [1, %d]", steps, limit)
	}
	var s []float32
	switch scheduler {
	case "normal":
		s = normalSchedule(d, steps, false)
	case "sgm_uniform":
		s = normalSchedule(d, steps, true)
	case "karras":
		s = karrasSchedule(d, steps, 7)
	case "exponential":
		s = exponentialSchedule(d, steps)
	case "simple":
		s = simpleSchedule(d, steps)
	case "ddim_uniform":
		s = ddimSchedule(d, steps)
	case "beta":
		s = betaSchedule(d, steps, 0.6, 0.6)
	case "linear_quadratic":
		s = linearQuadraticSchedule(d, steps, 0.025)
	case "kl_optimal":
		if steps < 2 {
			// ComfyUI divides by steps−1: one step gives a NaN sigma.
			return nil, fmt.Errorf("sampling: scheduler kl_optimal needs at least 2 steps, got %d", steps)
		}
		s = klOptimalSchedule(d, steps)
	default:
		return nil, fmt.Errorf("sampling: unknown scheduler %q (known: %s)", scheduler, strings.Join(Schedulers, ", "))
	}
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out, nil
}

// discardPenultimate lists the samplers for which KSampler computes one
// step more and drops the last non-zero sigma.
var discardPenultimate = []string{"dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2"}

// KSamplerSigmas is the table KSampler runs (KSampler.set_steps): for
// denoise < 1 (not above 0.9999) the schedule of int(steps/denoise) steps
// of which the last steps+1 sigmas are kept; none for denoise ≤ 0 (the
// latent passes through unchanged).
func KSamplerSigmas(d *Discrete, scheduler, sampler string, steps int, denoise float64) ([]float64, error) {
	if math.IsNaN(denoise) {
		return nil, fmt.Errorf("sampling: denoise is NaN")
	}
	calc := func(n int) ([]float64, error) {
		discard := slices.Contains(discardPenultimate, sampler)
		if discard {
			n++
		}
		s, err := sigmasUpTo(d, scheduler, n, maxDenoiseSteps+1)
		if err != nil || !discard {
			return s, err
		}
		return append(s[:len(s)-2], s[len(s)-1]), nil
	}
	if denoise > 0.9999 {
		return calc(steps)
	}
	if denoise <= 0 {
		return []float64{}, nil
	}
	if steps < 1 || steps > maxSteps {
		return nil, fmt.Errorf("sampling: steps %d out of range [1, %d]", steps, maxSteps)
	}
	q := float64(steps) / denoise
	if q > maxDenoiseSteps {
		return nil, fmt.Errorf("sampling: %d steps at denoise %g make %.0f steps, over %d", steps, denoise, q, maxDenoiseSteps)
	}
	total := int(q)
	s, err := calc(total)
	if err != nil {
		return nil, err
	}
	return tail(s, steps+1), nil
}

// BasicSchedulerSigmas is the BasicScheduler node: as KSamplerSigmas for
// any sampler, the tail taken for every denoise below 1.
func BasicSchedulerSigmas(d *Discrete, scheduler string, steps int, denoise float64) ([]float64, error) {
	if denoise >= 1 {
		return Sigmas(d, scheduler, steps)
	}
	if !(denoise > 0) {
		return []float64{}, nil
	}
	if steps < 1 || steps > maxSteps {
		return nil, fmt.Errorf("sampling: steps %d out of range [1, %d]", steps, maxSteps)
	}
	q := float64(steps) / denoise
	if q > maxDenoiseSteps {
		return nil, fmt.Errorf("sampling: %d steps at denoise %g make %.0f steps, over %d", steps, denoise, q, maxDenoiseSteps)
	}
	total := int(q)
	s, err := Sigmas(d, scheduler, total)
	if err != nil {
		return nil, err
	}
	return tail(s, steps+1), nil
}

// tail is Python's s[-n:].
func tail(s []float64, n int) []float64 {
	if n < len(s) {
		s = s[len(s)-n:]
	}
	return s
}

// normalSchedule: timesteps evenly spaced from the last to the first
// (sgm: steps+1 points, the last dropped), each mapped to σ; 0 appended
// unless σ at the first timestep is 0.
func normalSchedule(d *Discrete, steps int, sgm bool) []float32 {
	start := float32(d.Timestep(d.SigmaMax()))
	end := float32(d.Timestep(d.SigmaMin()))
	appendZero := true
	var ts []float32
	if sgm {
		ts = linspace32(start, end, steps+1)[:steps]
	} else {
		if math.Abs(d.Sigma(float64(end))) <= 1e-5 {
			steps++
			appendZero = false
		}
		ts = linspace32(start, end, steps)
	}
	out := make([]float32, 0, len(ts)+1)
	for _, t := range ts {
		out = append(out, float32(d.Sigma(float64(t))))
	}
	if appendZero {
		out = append(out, 0)
	}
	return out
}

// karrasSchedule: (σmax^(1/ρ) + ramp·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ over a
// float32 ramp 0 … 1, then 0.
func karrasSchedule(d *Discrete, n int, rho float64) []float32 {
	minInv := float32(math.Pow(d.SigmaMin(), 1/rho))
	maxInv := float32(math.Pow(d.SigmaMax(), 1/rho))
	out := make([]float32, 0, n+1)
	for _, r := range linspace32(0, 1, n) {
		b := maxInv + float32(r*(minInv-maxInv))
		out = append(out, float32(math.Pow(float64(b), rho)))
	}
	return append(out, 0)
}

// exponentialSchedule: exp of a float32 linspace from log σmax to log σmin,
// then 0.
func exponentialSchedule(d *Discrete, n int) []float32 {
	out := make([]float32, 0, n+1)
	for _, l := range linspace32(float32(math.Log(d.SigmaMax())), float32(math.Log(d.SigmaMin())), n) {
		out = append(out, float32(math.Exp(float64(l))))
	}
	return append(out, 0)
}

// simpleSchedule: every len/steps-th sigma from the top, then 0.
func simpleSchedule(d *Discrete, steps int) []float32 {
	n := len(d.Sigmas)
	ss := float64(n) / float64(steps)
	out := make([]float32, 0, steps+1)
	for x := 0; x < steps; x++ {
		out = append(out, d.Sigmas[n-1-int(float64(x)*ss)])
	}
	return append(out, 0)
}

// ddimSchedule: sigmas 1, 1+ss, … (ss = len/steps), reversed, after a 0
// (dropped, with one step more, when σ_1 is 0).
func ddimSchedule(d *Discrete, steps int) []float32 {
	n := len(d.Sigmas)
	var asc []float32
	if math.Abs(float64(d.Sigmas[1])) <= 1e-5 {
		steps++
	} else {
		asc = append(asc, 0)
	}
	ss := max(n/steps, 1)
	for x := 1; x < n; x += ss {
		asc = append(asc, d.Sigmas[x])
	}
	slices.Reverse(asc)
	return asc
}

// linearQuadraticSchedule: Mochi's linear then quadratic schedule, times
// σmax.
func linearQuadraticSchedule(d *Discrete, steps int, threshold float64) []float32 {
	var sched []float64
	if steps == 1 {
		sched = []float64{1, 0}
	} else {
		linear := steps / 2
		for i := 0; i < linear; i++ {
			sched = append(sched, float64(i)*threshold/float64(linear))
		}
		diff := float64(linear) - threshold*float64(steps)
		quad := float64(steps - linear)
		qc := diff / (float64(linear) * quad * quad)
		lc := threshold/float64(linear) - 2*diff/(quad*quad)
		c := qc * float64(linear*linear)
		for i := linear; i < steps; i++ {
			fi := float64(i)
			sched = append(sched, qc*fi*fi+lc*fi+c)
		}
		sched = append(sched, 1)
		for i := range sched {
			sched[i] = 1 - sched[i]
		}
	}
	smax := d.Sigmas[len(d.Sigmas)-1]
	out := make([]float32, len(sched))
	for i, v := range sched {
		out[i] = float32(v) * smax
	}
	return out
}

// klOptimalSchedule: tan of atan(σmin)·t + atan(σmax)·(1−t), t = i/(n−1)
// in float32, then 0.
func klOptimalSchedule(d *Discrete, n int) []float32 {
	out := make([]float32, n+1)
	amin, amax := float32(math.Atan(d.SigmaMin())), float32(math.Atan(d.SigmaMax()))
	for i := 0; i < n; i++ {
		t := float32(i) / float32(n-1)
		v := float32(t*amin) + float32((1-t)*amax)
		out[i] = float32(math.Tan(float64(v)))
	}
	return out
}
