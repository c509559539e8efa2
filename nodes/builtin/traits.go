package builtin

import "comfyrt/nodes"

// classTraits are the traits of the built-in classes that have some (see
// nodes.Traits): the ComfyUI_RealTimeNodes controllers and monitors, whose
// IS_CHANGED re-runs them every time (always_execute) and which keep state
// between runs; ComfyStream's SaveTextTensor (IS_CHANGED NaN); the
// Torch-Compile loaders and ComfyUI's TorchCompileModel, pass-throughs
// here (comfyrt compiles its plans ahead anyway).
func classTraits() map[string]nodes.Traits {
	tv := nodes.Traits{TimeVarying: true, Stateful: true}
	return map[string]nodes.Traits{
		"FloatControl":               tv,
		"IntControl":                 tv,
		"StringControl":              tv,
		"IntegerMotionController":    tv,
		"FPSMonitor":                 tv,
		"SimilarityFilter":           {Stateful: true},
		"LazyCondition":              {Stateful: true},
		"SaveTextTensor":             {TimeVarying: true},
		"TorchCompileLoadVAE":        {PassThrough: true},
		"TorchCompileLoadControlNet": {PassThrough: true},
		"TorchCompileModel":          {PassThrough: true},
		"StreamDiffusionSampler":     tv,
		"StreamFrameBuffer":          {Stateful: true},
	}
}
