package engine

import "math"

// Float16Bits returns the IEEE 754 binary16 encoding nearest to f (ties to
// even), with overflow to infinity, gradual underflow to subnormals and
// NaN kept a quiet NaN.
func Float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	// The common case, a result in binary16's normal range
	// [2⁻¹⁴, 65520): rebias the exponent (127 → 15) and round the 13
	// dropped bits to nearest even; a carry into the exponent is right.
	if a := b & 0x7fffffff; a >= 0x38800000 && a < 0x477ff000 {
		return uint16(b>>16)&0x8000 | uint16((a-0x38000000+0xfff+(a>>13)&1)>>13)
	}
	return float16Rare(b)
}

// float16Rare encodes the values outside binary16's normal range: zeros,
// subnormals, overflow, infinities and NaN.
func float16Rare(b uint32) uint16 {
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		// Subnormal half: value = m·2⁻²⁴ with m = M·2^(e−14).
		full := man | 1<<23
		shift := uint32(14 - e)
		m := full >> shift
		rem := full & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && m&1 == 1) {
			m++ // 0x400 is the smallest normal: still the right encoding
		}
		return sign | uint16(m)
	}
	h := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // a carry into the exponent is right, up to infinity
	}
	return sign | uint16(h)
}

// Float16Value returns the value of an IEEE 754 binary16 encoding.
func Float16Value(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch exp {
	case 0:
		f := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// ToFloat16 encodes src into dst (same length); it does not allocate.
func ToFloat16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = Float16Bits(v)
	}
}

// FromFloat16 decodes src into dst (same length); it does not allocate.
func FromFloat16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = Float16Value(h)
	}
}
