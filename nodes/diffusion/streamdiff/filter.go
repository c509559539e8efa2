package streamdiff

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// cosEps is torch.nn.CosineSimilarity's eps in SimilarImageFilter.
const cosEps = 1e-6

// CosineSimilarity is torch's cosine similarity of two flat vectors
// (x·y / √max(‖x‖²‖y‖², eps²)), accumulated in float64.
func CosineSimilarity(x, y []float32) float64 {
	var xy, xx, yy float64
	for i, a := range x {
		b := float64(y[i])
		xy += float64(a) * b
		xx += float64(a) * float64(a)
		yy += b * b
	}
	return xy / math.Sqrt(max(xx*yy, cosEps*cosEps))
}

// SkipProbability is SimilarImageFilter's: max(0, 1 − (1 − cos)/(1 −
// threshold)), 0 for a threshold of 1 or more.
func SkipProbability(cos, threshold float64) float64 {
	if threshold >= 1 {
		return 0
	}
	return max(0, 1-(1-cos)/(1-threshold))
}

// Filter is the stochastic similar-image filter.
type Filter struct {
	Threshold float64
	MaxSkip   int
	seed      uint64
	prev      []float32
	has       bool
	skips     int
	src       *rand.PCG
	rng       *rand.Rand
	// LastProbability is the skip probability of the last Keep.
	LastProbability float64
}

// NewFilter sizes a filter for frames of n values (n > 0).
func NewFilter(threshold float64, maxSkip int, seed uint64, n int) (*Filter, error) {
	if n <= 0 {
		return nil, fmt.Errorf("similar-image filter: frames of %d values", n)
	}
	f := &Filter{Threshold: threshold, MaxSkip: maxSkip, seed: seed, prev: make([]float32, n)}
	f.src = rand.NewPCG(seed, 0x5d1f)
	f.rng = rand.New(f.src)
	return f, nil
}

// Reset forgets the previous frame and reseeds the sampler.
func (f *Filter) Reset() {
	f.has, f.skips = false, 0
	f.src.Seed(f.seed, 0x5d1f)
}

// Keep says whether frame x (mapped v → scale·v + offset first: the
// picture as StreamDiffusion preprocesses it) is processed; false: skip it
// and repeat the previous output. A frame of another length than the
// filter's is an error (the filter is left as it was).
func (f *Filter) Keep(x []float32, scale, offset float32) (bool, error) {
	if len(x) != len(f.prev) {
		return false, fmt.Errorf("similar-image filter: a frame of %d values; the filter compares frames of %d values", len(x), len(f.prev))
	}
	if !f.has {
		f.remember(x, scale, offset)
		f.has = true
		f.LastProbability = 0
		return true, nil
	}
	prev := f.prev[:len(x)]
	var xy, xx, yy float64
	for i, v := range x {
		a, b := float64(scale*v+offset), float64(prev[i])
		xy += a * b
		xx += a * a
		yy += b * b
	}
	cos := xy / math.Sqrt(max(xx*yy, cosEps*cosEps))
	sample := f.rng.Float64()
	p := SkipProbability(cos, f.Threshold)
	f.LastProbability = p
	if p < sample {
		f.remember(x, scale, offset)
		return true, nil
	}
	if f.skips > f.MaxSkip {
		f.skips = 0
		f.remember(x, scale, offset)
		return true, nil
	}
	f.skips++
	return false, nil
}

func (f *Filter) remember(x []float32, scale, offset float32) {
	prev := f.prev[:len(x)]
	for i, v := range x {
		prev[i] = scale*v + offset
	}
}
