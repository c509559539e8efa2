package builtin

import "math"

// apply changes the controller's value by r's action, as the pack does.
func (k *motionController) apply(r *roi, motion bool) {
	st := k.states[r.bounds]
	if st == nil {
		st = &roiState{}
		k.states[r.bounds] = st
	}
	v := r.value
	switch {
	case motion && !st.active:
		st.active = true
		k.trigger(r.action, v, st)
	case r.action == roiMomentary:
		k.value = k.lo
		if motion {
			k.value = k.hi
		}
	case !motion:
		st.active = false
		if r.action == roiTrigger {
			k.value = k.lo
		}
	}
}

// trigger applies an action on the frame an ROI starts seeing motion.
func (k *motionController) trigger(action int, v float64, st *roiState) {
	switch action {
	case roiAdd:
		k.value = min(k.hi, k.value+v)
	case roiSubtract:
		k.value = max(k.lo, k.value-v)
	case roiMultiply:
		k.value = min(k.hi, k.value*v)
	case roiDivide:
		if v != 0 {
			k.value = max(k.lo, k.value/v)
		}
	case roiSet:
		k.value = max(k.lo, min(k.hi, v))
	case roiToggle:
		if k.value == k.lo {
			k.value = k.hi
		} else {
			k.value = k.lo
		}
	case roiTrigger:
		k.value = k.hi
	case roiCounter:
		st.count++
		if span := int64(k.hi-k.lo) + 1; span != 0 {
			k.value = k.lo + float64(pyMod(st.count, span))
		}
	}
}

// pyMod is Python's % (the sign of the divisor).
func pyMod(a, b int64) int64 {
	m := a % b
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}

// output is the value rounded by rounding_mode, clamped to the range.
func (k *motionController) output() int64 {
	var v float64
	switch k.rounding {
	case 0:
		v = math.RoundToEven(k.value) // Python's round
	case 1:
		v = math.Floor(k.value)
	case 2:
		v = math.Ceil(k.value)
	default:
		v = math.Trunc(k.value)
	}
	return int64(max(k.lo, min(k.hi, v)))
}
