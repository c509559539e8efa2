package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// FeatureBankAttentionProcessor (livepeer/ComfyUI-Stream-Pack,
// src/feature_bank/feature_bank.py; read at commit 3cf283e): StreamV2V's
// feature bank. What it does to a MODEL, from its sources:
//
//   - update_node (feature_bank.py:464–535) clones the model (line 525,
//     m = model.clone()) and walks m.model with nn.Module.apply (line 534),
//     registering a forward hook on every submodule that has a to_q
//     attribute (lines 527–532); the hook (lines 508–520) swaps that
//     module's forward for the feature-bank attention (lines 175–418:
//     self-attention keys and values concatenated with a cached frame's,
//     outputs blended with the nearest cached outputs when
//     use_feature_injection is on). Only attention modules of a PyTorch
//     UNet have to_q.
//   - Over a TensorRTLoader MODEL there is none: ComfyUI_TensorRT's
//     load_unet (comfyanonymous/ComfyUI_TensorRT tensorrt_loader.py at
//     5bcc3f1, lines 123–172) sets unet_config["disable_unet_model_creation"]
//     (lines 130–155), so comfy.model_base.BaseModel creates no UNetModel,
//     then assigns model.diffusion_model = TrTUnet (line 167), a plain
//     Python class wrapping the engine (line 38: class TrTUnet:, not an
//     nn.Module), which apply() does not visit. m.model's modules are the
//     BaseModel and its model_sampling, neither with to_q: no hook is
//     registered, and the returned clone samples exactly as the input MODEL.
//     (In the newer TRTDiffusionBackbone layout the engine wrapper is an
//     nn.Module, but it too has no to_q submodule.)
//
// So over a TensorRTLoader MODEL — every corpus workflow that uses it —
// the node changes nothing: comfyrt passes the MODEL through (compile
// --explain says so). Over a CheckpointLoaderSimple MODEL ComfyUI would
// patch the PyTorch UNet's attention, which an ONNX UNet export does not
// expose: refused, naming the input.

var featureBankInputs = []string{"model", "use_feature_injection", "feature_injection_strength", "feature_similarity_threshold",
	"feature_cache_interval", "feature_bank_max_frames"}

// featureBankNote is what compile --explain says about the node.
const featureBankNote = "FeatureBankAttentionProcessor changes nothing over a TensorRTLoader MODEL: it hooks modules with to_q, " +
	"and ComfyUI_TensorRT's model has none (its UNet is the engine); the MODEL is passed through"

type featureBank struct {
	base
	model *SDUNet
}

func newFeatureBank(cfg nodes.Config) (nodes.Kernel, error) {
	return &featureBank{base: base{cfg}}, nil
}

func (k *featureBank) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, featureBankInputs...)
	u := handleOf[*SDUNet](a, 0, "MODEL", "TensorRTLoader")
	if a.present(1) {
		a.bool(1)
	}
	for i := 2; i <= 3; i++ {
		if v := a.float(i); a.present(i) && !(v >= 0 && v <= 1) {
			a.errorf(i, "%v is not in 0..1", v)
		}
	}
	for _, r := range []struct {
		i  int
		hi int64
	}{{4, 64}, {5, 16}} {
		if v := a.int(r.i); a.present(r.i) && (v < 1 || v > r.hi) {
			a.errorf(r.i, "%d is not in 1..%d", v, r.hi)
		}
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if u.Loader != "TensorRTLoader" {
		return nil, fmt.Errorf("input model: a MODEL from %s: FeatureBankAttentionProcessor patches the self-attention of a PyTorch UNet, "+
			"which an ONNX UNet export does not expose; comfyrt runs it over a TensorRTLoader MODEL, where ComfyUI's node changes nothing", u.Loader)
	}
	k.model = u
	return handleSpecs(u), nil
}

func (k *featureBank) Run(_, out []value.Value) error {
	if k.model == nil {
		return errNotPrepared
	}
	out[0] = value.OfHandle(k.model)
	return nil
}

// Note is compile --explain's note on the node.
func (k *featureBank) Note() string { return featureBankNote }
