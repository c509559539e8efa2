package streamdiff

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sigmaData is the LCM boundary condition's σ_data.
const sigmaData = 0.5

// DefaultTimestepScaling is LCMScheduler's timestep_scaling.
const DefaultTimestepScaling = 10

// DefaultOriginalSteps is LCMScheduler's original_inference_steps.
const DefaultOriginalSteps = 50

// Schedule is the stream's table: the LCM timesteps of the step count and,
// per t_index, its timestep and scalars.
type Schedule struct {
	// Timesteps are the LCM inference timesteps, descending.
	Timesteps []int
	// T is the timestep of each t_index.
	T []int
	// AlphaSqrt is √ᾱ_t, BetaSqrt √(1−ᾱ_t), CSkip and COut the boundary
	// condition's scalings, per t_index.
	AlphaSqrt, BetaSqrt, CSkip, COut []float32
}

// ParseTIndexList reads StreamDiffusionConfig's t_index_list ("39,35,30").
func ParseTIndexList(s string) ([]int, error) {
	parts := strings.Split(s, ",")
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%q: want comma-separated integers such as 39,35,30", s)
		}
		out = append(out, v)
	}
	if len(out) > 64 {
		return nil, fmt.Errorf("%q: %d t_indexes; at most 64", s, len(out))
	}
	return out, nil
}

// LCMTimesteps is LCMScheduler.set_timesteps' list (diffusers 0.24) for
// steps inference steps over trainSteps training steps distilled with
// original steps.
func LCMTimesteps(trainSteps, original, steps int) ([]int, error) {
	if original < 1 || original > trainSteps {
		return nil, fmt.Errorf("original_inference_steps %d: want 1 to %d", original, trainSteps)
	}
	if steps < 1 || steps > original {
		return nil, fmt.Errorf("num_inference_steps %d: want 1 to %d (LCM's original_inference_steps)", steps, original)
	}
	k := trainSteps / original
	skip := original / steps
	ts := make([]int, 0, steps)
	for i := original; i >= 1 && len(ts) < steps; i -= skip {
		ts = append(ts, i*k-1)
	}
	return ts, nil
}

// AlphasCumprod is ᾱ of betas, as diffusers: β in float32, the product
// accumulated in float64 (PyTorch's CPU cumprod) and kept as float32.
func AlphasCumprod(betas []float64) []float32 {
	out := make([]float32, len(betas))
	acc := 1.0
	for i, b := range betas {
		acc *= float64(1 - float32(b))
		out[i] = float32(acc)
	}
	return out
}

// NewSchedule builds the table for a t_index_list. betas are the export's
// training betas; scaling is timestep_scaling (0: the default).
func NewSchedule(betas []float64, original, steps int, tIndex []int, scaling float64) (*Schedule, error) {
	if scaling == 0 {
		scaling = DefaultTimestepScaling
	}
	ts, err := LCMTimesteps(len(betas), original, steps)
	if err != nil {
		return nil, err
	}
	if len(tIndex) == 0 {
		return nil, fmt.Errorf("t_index_list is empty")
	}
	ac := AlphasCumprod(betas)
	s := &Schedule{Timesteps: ts}
	for _, ti := range tIndex {
		if ti < 0 || ti >= len(ts) {
			return nil, fmt.Errorf("t_index %d: want 0 to %d (num_inference_steps %d gives %d timesteps)", ti, len(ts)-1, steps, len(ts))
		}
		t := ts[ti]
		a := float64(ac[t])
		st := float64(t) * scaling
		s.T = append(s.T, t)
		s.AlphaSqrt = append(s.AlphaSqrt, float32(math.Sqrt(a)))
		s.BetaSqrt = append(s.BetaSqrt, float32(math.Sqrt(float64(float32(1-a)))))
		s.CSkip = append(s.CSkip, float32(sigmaData*sigmaData/(st*st+sigmaData*sigmaData)))
		s.COut = append(s.COut, float32(st/math.Sqrt(st*st+sigmaData*sigmaData)))
	}
	return s, nil
}
