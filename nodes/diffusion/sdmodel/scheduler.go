package sdmodel

import (
	"fmt"
	"math"
)

// Scheduler is what comfyrt reads of scheduler/scheduler_config.json
// (diffusers' scheduler config; defaults are SD1.5's).
type Scheduler struct {
	// Class is _class_name ("PNDMScheduler", "LCMScheduler", …).
	Class string `json:"_class_name"`
	// PredictionType is "epsilon", "v_prediction" or "sample".
	PredictionType string `json:"prediction_type"`
	// BetaSchedule is "linear", "scaled_linear" or "squaredcos_cap_v2".
	BetaSchedule string  `json:"beta_schedule"`
	BetaStart    float64 `json:"beta_start"`
	BetaEnd      float64 `json:"beta_end"`
	// TrainSteps is num_train_timesteps (1000).
	TrainSteps  int `json:"num_train_timesteps"`
	StepsOffset int `json:"steps_offset"`
	// TimestepSpacing is "leading", "trailing" or "linspace" (empty when
	// the config does not say).
	TimestepSpacing string `json:"timestep_spacing"`
}

func (m *Model) readScheduler() (Scheduler, error) {
	s := Scheduler{PredictionType: "epsilon", BetaSchedule: "scaled_linear", BetaStart: 0.00085, BetaEnd: 0.012, TrainSteps: 1000}
	if err := m.readJSON("scheduler/scheduler_config.json", &s); err != nil {
		return s, err
	}
	if err := s.Check(); err != nil {
		return s, fmt.Errorf("%s/scheduler/scheduler_config.json: %w", m.Folder, err)
	}
	return s, nil
}

// Check reports a config comfyrt cannot sample with.
func (s Scheduler) Check() error {
	switch s.PredictionType {
	case "epsilon", "v_prediction", "sample":
	default:
		return fmt.Errorf("prediction_type %q: want epsilon, v_prediction or sample", s.PredictionType)
	}
	switch s.BetaSchedule {
	case "linear", "scaled_linear", "squaredcos_cap_v2":
	default:
		return fmt.Errorf("beta_schedule %q: want linear, scaled_linear or squaredcos_cap_v2", s.BetaSchedule)
	}
	if s.TrainSteps < 2 || s.TrainSteps > 100000 {
		return fmt.Errorf("num_train_timesteps %d: want 2 to 100000", s.TrainSteps)
	}
	if s.BetaSchedule != "squaredcos_cap_v2" && !(s.BetaStart > 0 && s.BetaStart < s.BetaEnd && s.BetaEnd < 1) {
		return fmt.Errorf("beta_start %g, beta_end %g: want 0 < beta_start < beta_end < 1", s.BetaStart, s.BetaEnd)
	}
	return nil
}

// Betas returns the noise schedule's betas (diffusers' definitions:
// linear, scaled_linear — linear in sqrt(beta) — and squaredcos_cap_v2).
func (s Scheduler) Betas() []float64 {
	n := s.TrainSteps
	b := make([]float64, n)
	for i := range b {
		f := float64(i) / float64(n-1)
		switch s.BetaSchedule {
		case "linear":
			b[i] = s.BetaStart + f*(s.BetaEnd-s.BetaStart)
		case "scaled_linear":
			r := math.Sqrt(s.BetaStart) + f*(math.Sqrt(s.BetaEnd)-math.Sqrt(s.BetaStart))
			b[i] = r * r
		default:
			ab := func(t float64) float64 { return math.Pow(math.Cos((t+0.008)/1.008*math.Pi/2), 2) }
			b[i] = min(1-ab(float64(i+1)/float64(n))/ab(float64(i)/float64(n)), 0.999)
		}
	}
	return b
}
