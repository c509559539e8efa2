package sampling

import (
	"math"
	"testing"
)

// The closed-form denoiser has a known answer: for data ~ N(m, 1) the
// probability-flow ODE dx/dσ = (x − D)/σ carries x_T at σ_T to
// m + (x_T − m)/√(1 + σ_T²) at σ = 0. Euler and DPM++(2M) on a fine
// schedule must land there (independently of the torch reference).
func TestODESamplersReachClosedForm(t *testing.T) {
	for _, c := range []struct {
		sampler string
		steps   int
		tol     float64
	}{{"euler", 400, 6e-3}, {"ddim", 400, 6e-3}, {"dpmpp_2m", 60, 1.5e-3}} {
		worst := odeError(t, c.sampler, c.steps)
		if worst > c.tol {
			t.Errorf("%s, %d steps: off the exact solution by %.3g (tolerance %g)", c.sampler, c.steps, worst, c.tol)
		}
		t.Logf("%s, %d karras steps: within %.3g of the exact solution", c.sampler, c.steps, worst)
	}
	// Orders: doubling the steps halves Euler's error (first order) and
	// quarters DPM++(2M)'s (second order), roughly.
	if e1, e2 := odeError(t, "euler", 200), odeError(t, "euler", 400); !(e2 < 0.6*e1) {
		t.Errorf("euler: error %.3g at 200 steps, %.3g at 400: not first order", e1, e2)
	}
	if e1, e2 := odeError(t, "dpmpp_2m", 30), odeError(t, "dpmpp_2m", 60); !(e2 < 0.4*e1) {
		t.Errorf("dpmpp_2m: error %.3g at 30 steps, %.3g at 60: not second order", e1, e2)
	}
}

// odeError runs sampler on the closed-form problem and returns the largest
// distance from the exact solution.
func odeError(t *testing.T, sampler string, steps int) float64 {
	t.Helper()
	const n = 64
	m, x0 := make([]float32, n), make([]float32, n)
	for i := range m {
		m[i] = float32(math.Sin(float64(i)))
		x0[i] = float32(math.Cos(float64(i) * 0.7))
	}
	sigmas, err := Sigmas(SD15(), "karras", steps)
	if err != nil {
		t.Fatal(err)
	}
	sT := sigmas[0]
	x := make([]float32, n)
	for i := range x {
		x[i] = m[i] + x0[i]*float32(math.Sqrt(1+sT*sT))
	}
	s, err := NewSampler(sampler, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sample(closedForm(m), x, sigmas); err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range x {
		worst = math.Max(worst, math.Abs(float64(x[i]-m[i]-x0[i])))
	}
	return worst
}

func TestStepErrors(t *testing.T) {
	s, err := NewSampler("euler", 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	ident := func(x []float32, _ float64, out []float32) error { copy(out, x); return nil }
	x := make([]float32, 4)
	if err := s.Step(ident, make([]float32, 5), []float64{1, 0}, 0); err == nil {
		t.Error("wrong latent size: no error")
	}
	if err := s.Step(ident, x, []float64{1, 0}, 1); err == nil {
		t.Error("step past the schedule: no error")
	}
	if err := s.Step(ident, x, []float64{0, 0}, 0); err == nil {
		t.Error("σ = 0: no error")
	}
	if err := s.Step(ident, x, []float64{math.NaN(), 0}, 0); err == nil {
		t.Error("σ = NaN: no error")
	}
	if err := s.Sample(ident, x, nil); err != nil {
		t.Errorf("empty schedule (denoise 0): %v", err)
	}
}

func TestStepsDoNotAllocate(t *testing.T) {
	const n = 4 * 8 * 8
	d := SD15()
	sigmas, err := Sigmas(d, "normal", 6)
	if err != nil {
		t.Fatal(err)
	}
	m := make([]float32, n)
	model := closedForm(m)
	for _, name := range Samplers {
		s, err := NewSampler(name, n, 1)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, n)
		allocs := testing.AllocsPerRun(10, func() {
			s.Reset(1)
			if err := s.Sample(model, x, sigmas); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, allocs)
		}
	}
}

// benchStep times one step on a 1×4×64×64 latent (a 512×512 picture) with a
// denoiser that only copies, so the figure is the sampler's own arithmetic
// (and, for euler_ancestral and lcm, its step noise).
func benchStep(b *testing.B, name string) {
	const n = 4 * 64 * 64
	s, err := NewSampler(name, n, 0)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%17) * 0.1
	}
	copyModel := func(x []float32, _ float64, out []float32) error { copy(out, x); return nil }
	sigmas := []float64{14.6, 9.7, 6.1, 2.0}
	b.SetBytes(4 * n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Step(copyModel, x, sigmas, i%3); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkEulerStep_64x64(b *testing.B)          { benchStep(b, "euler") }
func BenchmarkEulerAncestralStep_64x64(b *testing.B) { benchStep(b, "euler_ancestral") }
func BenchmarkLCMStep_64x64(b *testing.B)            { benchStep(b, "lcm") }
func BenchmarkDPMPP2MStep_64x64(b *testing.B)        { benchStep(b, "dpmpp_2m") }

// Reset makes a second run draw the same step noise as the first (a fresh
// generator per KSampler call); without it the noise continues.
func TestResetRepeatsStepNoise(t *testing.T) {
	const n = 48
	sigmas, err := Sigmas(SD15(), "karras", 5)
	if err != nil {
		t.Fatal(err)
	}
	m := make([]float32, n)
	for _, name := range []string{"euler_ancestral", "lcm"} {
		s, err := NewSampler(name, n, 9)
		if err != nil {
			t.Fatal(err)
		}
		run := func() []float32 {
			x := make([]float32, n)
			if err := s.Sample(closedForm(m), x, sigmas); err != nil {
				t.Fatal(err)
			}
			return x
		}
		first := run()
		s.Reset(9)
		again := run()
		cont := run()
		same, differ := true, false
		for i := range first {
			same = same && first[i] == again[i]
			differ = differ || first[i] != cont[i]
		}
		if !same || !differ {
			t.Errorf("%s: after Reset same=%v; without Reset differs=%v", name, same, differ)
		}
	}
}
