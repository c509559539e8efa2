package builtin

import (
	"fmt"

	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/value"
)

// ModelSamplingDiscrete (ComfyUI comfy_extras/nodes_model_advanced.py):
// a MODEL whose model sampling is replaced (ComfyUI's add_object_patch of
// "model_sampling") by ModelSamplingDiscrete with the chosen prediction
// (eps, v_prediction, lcm, x0, img_to_img) and zsnr; lcm also makes the
// table ModelSamplingDiscreteDistilled's (original_timesteps 50: 50 sigmas,
// timesteps 19, 39, …, 999). The schedule's betas are the model's: its
// export's scheduler config (scheduler_config.json), or SD1.5's for a
// TensorRTLoader UNet. ComfyUI instead takes them from the model family's
// sampling_settings (SD1.x and SD2: linear 0.00085…0.012, i.e. the same as
// SD1.5's export), so an export whose config names other betas differs
// from ComfyUI there, deliberately: the export says what it was trained
// with. The samplers read the result through SDUNet.modelSampling.

// SDModelSampling is a ModelSamplingDiscrete patch on a MODEL.
type SDModelSampling struct {
	Sampling string // eps, v_prediction, lcm, x0, img_to_img
	ZSNR     bool
}

var modelSamplingInputs = []string{"model", "sampling", "zsnr"}

// patchModelSampling is ModelSamplingDiscrete's kernel: → *SDUNet.
func patchModelSampling(_ *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, modelSamplingInputs...)
	u := handleOf[*SDUNet](a, 0, "MODEL", "CheckpointLoaderSimple or TensorRTLoader")
	name := a.str(1)
	zsnr := false
	if a.present(2) {
		zsnr = a.bool(2)
	}
	if _, ok := sampling.Predictions[name]; !ok && name != "" {
		a.errorf(1, "%q is not one of eps, v_prediction, lcm, x0, img_to_img", name)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	m := *u
	m.Sampling = &SDModelSampling{Sampling: name, ZSNR: zsnr}
	if _, err := m.modelSampling(); err != nil {
		return nil, err
	}
	return []any{&m}, nil
}

// diffusersBetas maps a diffusers scheduler config's beta_schedule to
// make_beta_schedule's name for the same betas.
var diffusersBetas = map[string]string{"scaled_linear": "linear", "linear": "sqrt_linear", "squaredcos_cap_v2": "squaredcos_cap_v2"}

// discreteConfig is the model's ModelSamplingDiscrete settings: the
// export's scheduler config (beta schedule, betas, timesteps, prediction
// type), with a ModelSamplingDiscrete patch's prediction and zsnr.
func (u *SDUNet) discreteConfig() (sampling.DiscreteConfig, error) {
	sc := u.Scheduler
	cfg := sampling.DiscreteConfig{Timesteps: sc.TrainSteps, LinearStart: sc.BetaStart, LinearEnd: sc.BetaEnd}
	bs := sc.BetaSchedule
	if bs == "" {
		bs = "scaled_linear"
	}
	var ok bool
	if cfg.BetaSchedule, ok = diffusersBetas[bs]; !ok {
		return cfg, fmt.Errorf("input model: beta_schedule %q is not supported (scaled_linear, linear or squaredcos_cap_v2)", sc.BetaSchedule)
	}
	if p := u.Sampling; p != nil {
		cfg.Prediction = sampling.Predictions[p.Sampling]
		cfg.ZSNR = p.ZSNR
		if cfg.Prediction == sampling.LCM {
			cfg.OriginalTimesteps = 50
		}
		return cfg, nil
	}
	switch sc.PredictionType {
	case "epsilon", "":
		cfg.Prediction = sampling.Eps
	case "v_prediction":
		cfg.Prediction = sampling.V
	case "sample":
		cfg.Prediction = sampling.X0
	default:
		return cfg, fmt.Errorf("input model: prediction_type %q is not supported (epsilon, v_prediction or sample)", sc.PredictionType)
	}
	return cfg, nil
}

// modelSampling builds the model's sigma table.
func (u *SDUNet) modelSampling() (*sampling.Discrete, error) {
	cfg, err := u.discreteConfig()
	if err != nil {
		return nil, err
	}
	d, err := sampling.NewDiscrete(cfg)
	if err != nil {
		return nil, fmt.Errorf("input model: %w", err)
	}
	return d, nil
}
