package sampling

import "math"

// betaSchedule is ComfyUI's beta scheduler (alpha = beta = 0.6): timesteps
// at the Beta(α, β) quantiles of 1 − i/steps, scaled to the last timestep
// and rounded half to even; repeated timesteps are dropped; 0 appended.
func betaSchedule(d *Discrete, steps int, alpha, beta float64) []float32 {
	total := float64(len(d.Sigmas) - 1)
	out := make([]float32, 0, steps+1)
	last := -1.0
	for i := 0; i < steps; i++ {
		p := 1 - float64(i)*(1/float64(steps))
		t := math.RoundToEven(betaQuantile(p, alpha, beta) * total)
		if t != last {
			out = append(out, d.Sigmas[int(t)])
		}
		last = t
	}
	return append(out, 0)
}

// betaQuantile inverts the regularized incomplete beta function by
// bisection to float64 resolution (it is monotonic in x).
func betaQuantile(p, a, b float64) float64 {
	if p <= 0 {
		return 0
	}
	if p >= 1 {
		return 1
	}
	if a == b && p == 0.5 {
		// The median of a symmetric Beta is exactly 1/2; ComfyUI's
		// timestep 999·0.5 then rounds (half to even) to 500, which an
		// approximate 0.4999… would not.
		return 0.5
	}
	lo, hi := 0.0, 1.0
	for i := 0; i < 200; i++ {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if regIncBeta(mid, a, b) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// regIncBeta is I_x(a, b), the regularized incomplete beta function, by its
// continued fraction (evaluated with the modified Lentz method) on the side
// of the mean where it converges fast, and the symmetry
// I_x(a, b) = 1 − I_{1−x}(b, a) on the other.
func regIncBeta(x, a, b float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	if x > (a+1)/(a+b+2) {
		return 1 - regIncBeta(1-x, b, a)
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(a*math.Log(x)+b*math.Log1p(-x)-(la+lb-lab)) / a
	return front * betaFraction(x, a, b)
}

// betaFraction is the continued fraction 1/(1+ d1/(1+ d2/(1+ …))) with
// d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)) and
// d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)).
func betaFraction(x, a, b float64) float64 {
	const tiny = 1e-300
	guard := func(v float64) float64 {
		if math.Abs(v) < tiny {
			return tiny
		}
		return v
	}
	c := 1.0
	dd := 1 / guard(1-(a+b)*x/(a+1))
	h := dd
	for m := 1; m <= 1000; m++ {
		fm := float64(m)
		for _, coef := range [2]float64{
			fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm)),
			-(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1)),
		} {
			dd = 1 / guard(1+coef*dd)
			c = guard(1 + coef/c)
			h *= dd * c
		}
		if math.Abs(dd*c-1) < 1e-16 {
			break
		}
	}
	return h
}
