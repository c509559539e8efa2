package sampling

// StepRange is KSampler.sample's start_step/last_step handling (the
// KSamplerAdvanced node: start_at_step, end_at_step, and
// force_full_denoise = return_with_leftover_noise disabled). It returns
// the sigmas to run and, when start is at or past the last step, skip:
// ComfyUI then returns the input latent unchanged (zeros without one).
// last < 0 or start < 0 mean none. The result is a new slice.
func StepRange(sigmas []float64, start, last int, forceFullDenoise bool) (out []float64, skip bool) {
	out = append([]float64(nil), sigmas...)
	if last >= 0 && last < len(out)-1 {
		out = out[:last+1]
		if forceFullDenoise {
			out[len(out)-1] = 0
		}
	}
	if start >= 0 {
		if start >= len(out)-1 {
			return nil, true
		}
		out = out[start:]
	}
	return out, false
}

// ApplyCFG is ComfyUI's cfg_function on denoised predictions:
// dst = uncond + (cond − uncond)·scale. dst may alias cond or uncond. At
// scale 1 ComfyUI skips the unconditional pass altogether (dst = cond).
func ApplyCFG(cond, uncond []float32, scale float64, dst []float32) {
	s := float32(scale)
	cond, uncond = cond[:len(dst)], uncond[:len(dst)]
	for i := range dst {
		dst[i] = uncond[i] + float32((cond[i]-uncond[i])*s)
	}
}
