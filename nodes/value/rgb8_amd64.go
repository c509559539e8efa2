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

// swapRBSIMD swaps the pixels of the longest prefix it can with SSSE3
// (15 bytes, five pixels, per step; each step reads and writes 16 bytes, so
// it stops while at least 16 remain) and returns that prefix's length.
// dst and src have the same length, a multiple of 3.
func swapRBSIMD(dst, src []byte) int {
	if len(src) < 16 || !useAVX2 {
		return 0
	}
	steps := (len(src) - 1) / 15 // 15·steps + 1 ≤ len: the 16th byte of the last step exists
	swapRBSSSE3(&dst[0], &src[0], steps)
	return 15 * steps
}

// swapRBSSSE3 runs steps steps of SwapRB from src to dst: 15·steps+1 bytes
// of each must be valid. The 16th byte of each step's store is the next
// pixel's first byte unchanged; the next step (or SwapRB's tail) rewrites
// it, and it is read before it is written, so dst may be src.
//
//go:noescape
func swapRBSSSE3(dst, src *byte, steps int)
