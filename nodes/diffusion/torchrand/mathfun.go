package torchrand

import "math"

// log32 and sincos32 compute, lane by lane and in the same float32
// operations, the Cephes-based log256_ps and sincos256_ps of avx_mathfun.h
// that PyTorch's AVX2 normal transform uses. PyTorch's AVX2 kernels are
// compiled with FMA and GCC contracts a multiply whose only use is an add
// into one fused multiply-add (-ffp-contract=fast): those places use fma32,
// the others round every product to float32 explicitly so that no platform
// fuses them. The reference data decides: with plain multiplies and adds
// about 1 % of the values differ from torch by 1–2 ulp; with these fusions
// none does.

const (
	cephesSQRTHF = float32(0.707106781186547524)
	logP0        = float32(7.0376836292e-2)
	logP1        = float32(-1.1514610310e-1)
	logP2        = float32(1.1676998740e-1)
	logP3        = float32(-1.2420140846e-1)
	logP4        = float32(1.4249322787e-1)
	logP5        = float32(-1.6668057665e-1)
	logP6        = float32(2.0000714765e-1)
	logP7        = float32(-2.4999993993e-1)
	logP8        = float32(3.3333331174e-1)
	logQ1        = float32(-2.12194440e-4)
	logQ2        = float32(0.693359375)

	minusDP1   = float32(-0.78515625)
	minusDP2   = float32(-2.4187564849853515625e-4)
	minusDP3   = float32(-3.77489497744594108e-8)
	sinP0      = float32(-1.9515295891e-4)
	sinP1      = float32(8.3321608736e-3)
	sinP2      = float32(-1.6666654611e-1)
	cosP0      = float32(2.443315711809948e-5)
	cosP1      = float32(-1.388731625493765e-3)
	cosP2      = float32(4.166664568298827e-2)
	cephesFOPI = float32(1.27323954473516) // 4/π
)

// log32 is log256_ps for one lane. Inputs ≤ 0 give NaN (torch never passes
// one: u1 is in (0, 1]).
func log32(v float32) float32 {
	if !(v > 0) {
		return float32(math.NaN())
	}
	const minNormPos = 0x00800000
	bits := math.Float32bits(v)
	if bits < minNormPos {
		bits = minNormPos
	}
	e := float32(int32(bits>>23)-0x7f) + 1
	x := math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5))
	var tmp float32
	if x < cephesSQRTHF {
		tmp = x
		e -= 1
	}
	x = x - 1
	x = x + tmp
	z := float32(x * x)
	y := logP0
	for _, p := range [...]float32{logP1, logP2, logP3, logP4, logP5, logP6, logP7, logP8} {
		y = fma32(y, x, p)
	}
	y = float32(y * x)
	y = fma32(y, z, float32(e*logQ1))
	y = fma32(-z, 0.5, y)
	x = x + y
	x = fma32(e, logQ2, x)
	return x
}

// sincos32 is sincos256_ps for one lane.
func sincos32(v float32) (sin, cos float32) {
	const signMask = 0x80000000
	signSin := math.Float32bits(v) & signMask
	x := math.Float32frombits(math.Float32bits(v) &^ signMask)
	j := int32(float32(x * cephesFOPI)) // cvttps: truncation
	j = (j + 1) &^ 1
	y := float32(j)
	swapSin := uint32(j&4) << 29
	polyCos := j&2 == 0
	x = fma32(y, minusDP1, x)
	x = fma32(y, minusDP2, x)
	x = fma32(y, minusDP3, x)
	signCos := uint32(^(j-2)&4) << 29
	signSin ^= swapSin

	z := float32(x * x)
	yc := fma32(cosP0, z, cosP1)
	yc = fma32(yc, z, cosP2)
	yc = float32(yc * z)
	yc = fma32(yc, z, -float32(z*0.5))
	yc = yc + 1

	ys := fma32(sinP0, z, sinP1)
	ys = fma32(ys, z, sinP2)
	ys = float32(ys * z)
	ys = fma32(ys, x, x)

	var s, c float32
	if polyCos {
		s, c = 0+ys, yc+0
	} else {
		s, c = yc+0, 0+ys
	}
	sin = math.Float32frombits(math.Float32bits(s) ^ signSin)
	cos = math.Float32frombits(math.Float32bits(c) ^ signCos)
	return sin, cos
}

// fma32 is a float32 fused multiply-add: a·b + c rounded once. The product
// is exact in float64; the sum's rounding error (TwoSum) breaks the tie when
// the float64 sum falls exactly halfway between two float32 values, so the
// result is the correctly rounded float32, as the hardware instruction.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	// s is the float64 nearest the exact sum; unless it is itself a
	// float32 midpoint, the exact sum lies on the same side of every
	// midpoint and rounding s to float32 is rounding the exact sum. On a
	// midpoint the sign of the rounding error (TwoSum) picks the side: s
	// moves one float64 step towards the exact sum.
	bits := math.Float64bits(s)
	if bits<<35 == 1<<63 {
		bb := s - p
		if e := (p - (s - bb)) + (float64(c) - bb); e != 0 {
			// +1 when e and s have the same sign, −1 (wrapping) otherwise.
			bits += 1 - 2*(math.Float64bits(e)>>63^bits>>63)
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}
