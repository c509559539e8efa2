package sampling

import (
	"fmt"
	"math"
	"testing"
)

// runFrames runs frames sample calls of s over sigmas, each after
// Reset(seed) from the same start latent, and returns every result.
func runFrames(t *testing.T, s *Sampler, seed uint64, sigmas []float64, m []float32, frames int) [][]float32 {
	t.Helper()
	var out [][]float32
	for f := range frames {
		x := make([]float32, len(m))
		for i := range x {
			x[i] = float32(math.Sin(float64(i+f))) * float32(sigmas[0])
		}
		s.Reset(seed)
		if err := s.Sample(closedForm(m), x, sigmas); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

func sameBits(a, b [][]float32) bool {
	for f := range a {
		for i := range a[f] {
			if math.Float32bits(a[f][i]) != math.Float32bits(b[f][i]) {
				return false
			}
		}
	}
	return len(a) == len(b)
}

// The step noise drawn once (PrecomputeNoise) gives, frame after frame,
// bit for bit what drawing it at each step gives, for several seeds
// (including one past 32 bits: the engine takes the low half), latent
// sizes under and over torch's 16-value vectorised randn, and schedules
// with a last step to σ 0 (no draw) or not; and no step draws: the
// generator is left where the table ends.
func TestPrecomputedStepNoiseIsExact(t *testing.T) {
	karras, err := Sigmas(SD15(), "karras", 4)
	if err != nil {
		t.Fatal(err)
	}
	tail := karras[:len(karras)-1] // ends at σ > 0: every step draws
	for _, name := range []string{"euler_ancestral", "lcm"} {
		for _, seed := range []uint64{0, 1, 42, 1<<32 + 5, 123456789} {
			for _, n := range []int{12, 4 * 8 * 8} {
				for si, sigmas := range [][]float64{karras, tail} {
					t.Run(fmt.Sprintf("%s/seed%d/n%d/s%d", name, seed, n, si), func(t *testing.T) {
						m := make([]float32, n)
						for i := range m {
							m[i] = float32(i%7) * 0.3
						}
						ref, _ := NewSampler(name, n, seed)
						want := runFrames(t, ref, seed, sigmas, m, 3)
						pre, _ := NewSampler(name, n, seed)
						draws := pre.NoiseDraws(sigmas)
						if draws == 0 {
							t.Fatalf("no step noise draws for %d sigmas", len(sigmas))
						}
						pre.PrecomputeNoise(seed, draws)
						got := runFrames(t, pre, seed, sigmas, m, 3)
						if !sameBits(want, got) {
							t.Fatal("precomputed step noise differs from the per-step draw")
						}
						if *pre.gen != pre.steps.after || pre.steps.next != draws {
							t.Errorf("a step drew from the generator (%d of %d table draws taken)", pre.steps.next, draws)
						}
					})
				}
			}
		}
	}
}

// A table shorter than the run continues with the generator where the
// table ends; a Reset with another seed ignores the table; both still
// match the per-step draw exactly.
func TestPrecomputedStepNoiseFallbacks(t *testing.T) {
	sigmas, err := Sigmas(SD15(), "normal", 6)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	m := make([]float32, n)
	for _, name := range []string{"euler_ancestral", "lcm"} {
		ref, _ := NewSampler(name, n, 7)
		short, _ := NewSampler(name, n, 7)
		short.PrecomputeNoise(7, short.NoiseDraws(sigmas)-2)
		if !sameBits(runFrames(t, ref, 7, sigmas, m, 2), runFrames(t, short, 7, sigmas, m, 2)) {
			t.Errorf("%s: a short table then the generator differs from the per-step draw", name)
		}
		other, _ := NewSampler(name, n, 8)
		if !sameBits(runFrames(t, other, 8, sigmas, m, 2), runFrames(t, short, 8, sigmas, m, 2)) {
			t.Errorf("%s: Reset with another seed does not draw that seed's noise", name)
		}
		if !sameBits(runFrames(t, ref, 7, sigmas, m, 1), runFrames(t, short, 7, sigmas, m, 1)) {
			t.Errorf("%s: back on the table's seed, the noise differs", name)
		}
	}
}

func TestNoiseDraws(t *testing.T) {
	sigmas := []float64{14.6, 6.1, 2.0, 0.5, 0}
	for _, c := range []struct {
		name string
		eta  float64
		want int
	}{{"lcm", 1, 3}, {"euler_ancestral", 1, 3}, {"euler_ancestral", 0, 3}, {"euler", 1, 0}, {"dpmpp_2m", 1, 0}} {
		if got := NoiseDraws(c.name, c.eta, sigmas); got != c.want {
			t.Errorf("%s eta %g: %d draws, want %d", c.name, c.eta, got, c.want)
		}
	}
	if got := NoiseDraws("lcm", 1, sigmas[:4]); got != 3 {
		t.Errorf("lcm ending at σ 0.5: %d draws, want 3", got)
	}
	if NoiseTableLen(3, 10) != 30 || NoiseTableLen(0, 10) != 0 || NoiseTableLen(MaxNoiseTable, 2) != 0 {
		t.Error("NoiseTableLen: wrong size or bound")
	}
	// Without step noise PrecomputeNoise only resets; a table past the
	// bound is not made.
	s, _ := NewSampler("euler", 8, 1)
	s.PrecomputeNoise(1, 5)
	big, _ := NewSampler("lcm", 1<<20, 1)
	big.PrecomputeNoise(1, 1<<7)
	if s.steps.table != nil || big.steps.table != nil {
		t.Error("a noise table was made where none should be")
	}
}

// With the table the steps do not allocate either.
func TestPrecomputedStepNoiseAllocs(t *testing.T) {
	sigmas, _ := Sigmas(SD15(), "karras", 4)
	const n = 256
	m := make([]float32, n)
	for _, name := range []string{"euler_ancestral", "lcm"} {
		s, _ := NewSampler(name, n, 3)
		s.PrecomputeNoise(3, s.NoiseDraws(sigmas))
		x := make([]float32, n)
		if a := testing.AllocsPerRun(10, func() {
			s.Reset(3)
			if err := s.Sample(closedForm(m), x, sigmas); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %v allocations per run", name, a)
		}
	}
}
