package value

// ToRGB8 converts interleaved float samples (any channel count) to 8 bits
// exactly as ComfyUI saves pictures: clip(255·x, 0, 255) truncated toward
// zero, not rounded (SaveImage: np.clip(255.*i, 0, 255).astype(np.uint8)).
// NaN becomes 0. dst and src must have the same length; ToRGB8 converts
// min(len(dst), len(src)) samples.
//
// It is on the executor's per-frame path (every output frame), so the
// loop is unrolled by 8 without bounds checks and each sample is converted
// without data-dependent branches (see to8).
func ToRGB8(dst []byte, src []float32) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	// toRGB8SIMD converts a prefix with vector instructions where the CPU
	// has them (rgb8_amd64.s) and returns its length; the rest is done here.
	i := toRGB8SIMD(dst, src)
	for ; i+8 <= n; i += 8 {
		s := src[i : i+8 : i+8]
		d := dst[i : i+8 : i+8]
		d[0] = to8(s[0])
		d[1] = to8(s[1])
		d[2] = to8(s[2])
		d[3] = to8(s[3])
		d[4] = to8(s[4])
		d[5] = to8(s[5])
		d[6] = to8(s[6])
		d[7] = to8(s[7])
	}
	for ; i < n; i++ {
		dst[i] = to8(src[i])
	}
}

// to8 converts one sample as ToRGB8 does. The truncating conversion is
// done unconditionally (for v outside int32's range or NaN its result is
// implementation-dependent, never a panic) and then overridden by integer
// selects, which the compiler emits as conditional moves: images mix 0,
// 255 and mid-range samples, which defeats branch prediction.
func to8(x float32) byte {
	v := x * 255
	r := int32(v)
	if v >= 255 {
		r = 255
	}
	if !(v > 0) { // v <= 0 or NaN
		r = 0
	}
	return byte(r)
}

// FromRGB8 converts 8-bit samples to floats exactly as ComfyUI loads
// pictures: float32(b)/255 (LoadImage: np.array(i).astype(np.float32)/255).
// It converts min(len(dst), len(src)) samples.
func FromRGB8(dst []float32, src []byte) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	t := &rgb8Table
	// fromRGB8SIMD converts a prefix with vector instructions where the CPU
	// has them (rgb8_amd64.s) and returns its length; the rest is done here.
	i := fromRGB8SIMD(dst, src)
	for ; i+8 <= n; i += 8 {
		s := src[i : i+8 : i+8]
		d := dst[i : i+8 : i+8]
		d[0] = t[s[0]]
		d[1] = t[s[1]]
		d[2] = t[s[2]]
		d[3] = t[s[3]]
		d[4] = t[s[4]]
		d[5] = t[s[5]]
		d[6] = t[s[6]]
		d[7] = t[s[7]]
	}
	for ; i < n; i++ {
		dst[i] = t[src[i]]
	}
}

// rgb8Table[b] is float32(b)/255, computed once.
var rgb8Table = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// SwapRB writes the packed 3-byte pixels of src to dst with the first and
// third bytes of each exchanged (RGB24 ↔ BGR24); dst may be src. It
// converts min(len(dst), len(src))/3 whole pixels. The media back end uses
// it because swscale's fast path from packed 24-bit pixels to 4:2:0 YUV
// starts from BGR24.
func SwapRB(dst, src []byte) {
	n := min(len(dst), len(src))
	n -= n % 3
	dst, src = dst[:n], src[:n]
	i := swapRBSIMD(dst, src)
	for ; i+3 <= n; i += 3 {
		p := src[i : i+3 : i+3]
		q := dst[i : i+3 : i+3]
		q[0], q[1], q[2] = p[2], p[1], p[0]
	}
}
