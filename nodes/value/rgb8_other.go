//go:build !amd64

package value

// toRGB8SIMD has no vector version on this architecture: ToRGB8 converts
// everything in Go.
func toRGB8SIMD(dst []byte, src []float32) int { return 0 }

// fromRGB8SIMD has no vector version on this architecture: FromRGB8
// converts everything in Go.
func fromRGB8SIMD(dst []float32, src []byte) int { return 0 }

// swapRBSIMD has no vector version on this architecture.
func swapRBSIMD(dst, src []byte) int { return 0 }
