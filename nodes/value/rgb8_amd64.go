package value

// useAVX2 reports whether the CPU has AVX2 and FMA and the OS saves the
// YMM registers (CPUID and XGETBV, see rgb8_amd64.s). It is detected here
// rather than with golang.org/x/sys/cpu, which go.mod only lists as an
// indirect dependency.
var useAVX2 = hasAVX2FMA()

// rgb8Block is the number of samples the assembly loops convert per
// iteration; they are given a multiple of it.
const rgb8Block = 32

// toRGB8SIMD converts the longest prefix of src whose length is a multiple
// of rgb8Block with AVX2 and returns that length (0 without AVX2). dst and
// src have the same length.
func toRGB8SIMD(dst []byte, src []float32) int {
	n := len(src) &^ (rgb8Block - 1)
	if n == 0 || !useAVX2 {
		return 0
	}
	toRGB8AVX2(&dst[0], &src[0], n)
	return n
}

// fromRGB8SIMD is toRGB8SIMD for FromRGB8.
func fromRGB8SIMD(dst []float32, src []byte) int {
	n := len(src) &^ (rgb8Block - 1)
	if n == 0 || !useAVX2 {
		return 0
	}
	fromRGB8AVX2(&dst[0], &src[0], n)
	return n
}

// hasAVX2FMA reports whether AVX2 and FMA can be used.
func hasAVX2FMA() bool

// toRGB8AVX2 is to8 on n samples, n a positive multiple of rgb8Block:
// dst[0:n] and src[0:n] must be valid.
//
//go:noescape
func toRGB8AVX2(dst *byte, src *float32, n int)

// fromRGB8AVX2 is FromRGB8 on n samples, n a positive multiple of
// rgb8Block: dst[0:n] and src[0:n] must be valid.
//
//go:noescape
func fromRGB8AVX2(dst *float32, src *byte, n int)
