package sampling

import (
	"slices"
	"testing"
)

// Hand-checked against KSampler.sample's slicing: sigmas[:last+1] (last
// set to 0 when forcing a full denoise), then sigmas[start:].
func TestStepRange(t *testing.T) {
	s := []float64{10, 5, 2, 1, 0}
	for _, c := range []struct {
		start, last int
		force       bool
		want        []float64
		skip        bool
	}{
		{-1, -1, false, []float64{10, 5, 2, 1, 0}, false},
		{0, 10000, true, []float64{10, 5, 2, 1, 0}, false},
		{1, -1, false, []float64{5, 2, 1, 0}, false},
		{0, 2, false, []float64{10, 5, 2}, false},
		{0, 2, true, []float64{10, 5, 0}, false},
		{1, 3, false, []float64{5, 2, 1}, false},
		{3, 3, false, nil, true},
		{4, -1, false, nil, true},
	} {
		got, skip := StepRange(s, c.start, c.last, c.force)
		if skip != c.skip || !slices.Equal(got, c.want) {
			t.Errorf("start %d last %d force %v: %v skip %v, want %v skip %v", c.start, c.last, c.force, got, skip, c.want, c.skip)
		}
	}
	if s[2] != 2 {
		t.Errorf("StepRange changed its input: %v", s)
	}
}

func TestApplyCFG(t *testing.T) {
	cond, uncond := []float32{1, 2, -1}, []float32{0.5, 2, 1}
	dst := make([]float32, 3)
	ApplyCFG(cond, uncond, 7.5, dst)
	for i, want := range []float32{4.25, 2, -14} {
		if dst[i] != want {
			t.Errorf("[%d] = %v, want %v", i, dst[i], want)
		}
	}
	ApplyCFG(cond, uncond, 1, dst)
	if !slices.Equal(dst, cond) {
		t.Errorf("scale 1: %v, want cond %v", dst, cond)
	}
}
