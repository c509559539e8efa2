package value

// ToRGB8 converts interleaved float samples (any channel count) to 8 bits
// exactly as ComfyUI saves pictures: clip(255·x, 0, 255) truncated toward
// zero, not rounded (SaveImage: np.clip(255.*i, 0, 255).astype(np.uint8)).
// NaN becomes 0. dst and src must have the same length; ToRGB8 converts
// min(len(dst), len(src)) samples.
func ToRGB8(dst []byte, src []float32) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, x := range src {
		v := x * 255
		switch {
		case v >= 255:
			dst[i] = 255
		case v > 0:
			dst[i] = byte(v)
		default: // v <= 0 or NaN
			dst[i] = 0
		}
	}
}

// FromRGB8 converts 8-bit samples to floats exactly as ComfyUI loads
// pictures: float32(b)/255 (LoadImage: np.array(i).astype(np.float32)/255).
// It converts min(len(dst), len(src)) samples.
func FromRGB8(dst []float32, src []byte) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, b := range src {
		dst[i] = rgb8Table[b]
	}
}

// rgb8Table[b] is float32(b)/255, computed once.
var rgb8Table = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()
