package value

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// refToRGB8 and refFromRGB8 are the original implementations, kept as the
// reference the optimised ones must match bit for bit.
func refToRGB8(dst []byte, src []float32) {
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

func refFromRGB8(dst []float32, src []byte) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, b := range src {
		dst[i] = float32(b) / 255
	}
}

// checkToRGB8Bits compares ToRGB8 with the reference on the float32 bit
// patterns lo, lo+step, … below hi, in chunks whose lengths exercise the
// unrolled loop and its tail.
func checkToRGB8Bits(t *testing.T, lo, hi, step uint64) {
	t.Helper()
	const chunk = 1<<16 + 5 // not a multiple of 8: a tail every chunk
	src := make([]float32, chunk)
	got, want := make([]byte, chunk), make([]byte, chunk)
	for bits := lo; bits < hi; {
		n := 0
		for ; n < chunk && bits < hi; n++ {
			src[n] = math.Float32frombits(uint32(bits))
			bits += step
		}
		ToRGB8(got[:n], src[:n])
		refToRGB8(want[:n], src[:n])
		for i := range n {
			if got[i] != want[i] {
				t.Fatalf("ToRGB8(%v, bits %#08x) = %d, want %d", src[i], math.Float32bits(src[i]), got[i], want[i])
			}
		}
	}
}

// TestToRGB8Dense checks every float32 from 2⁻⁹ (255·x < 1) to just past
// 1.0078 (255·x > 257): every truncation step and the clip at 255.
func TestToRGB8Dense(t *testing.T) {
	t.Parallel()
	checkToRGB8Bits(t, uint64(math.Float32bits(1.0/512)), uint64(math.Float32bits(1.0078))+1, 1)
}

// TestToRGB8Sweep checks one bit pattern in 61 over all of them (both
// signs, subnormals, infinities, NaNs) plus the special values.
func TestToRGB8Sweep(t *testing.T) {
	t.Parallel()
	checkToRGB8Bits(t, 0, 1<<32, 61)
	specials := []uint32{0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xffffffff,
		0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, math.Float32bits(1), math.Float32bits(254.0 / 255), math.Float32bits(255.0 / 255)}
	for _, b := range specials {
		checkToRGB8Bits(t, uint64(b), uint64(b)+1, 1)
	}
}

// TestToRGB8Exhaustive checks all 2³² bit patterns (about a minute):
// COMFYRT_EXHAUSTIVE=1 go test -run ToRGB8Exhaustive ./nodes/value/
func TestToRGB8Exhaustive(t *testing.T) {
	t.Parallel()
	if os.Getenv("COMFYRT_EXHAUSTIVE") == "" {
		t.Skip("set COMFYRT_EXHAUSTIVE=1 to check all 2³² float32 bit patterns")
	}
	checkToRGB8Bits(t, 0, 1<<32, 1)
}

// TestToRGB8Lengths checks every length up to 40 (tails, unequal dst and
// src) and that nothing past min(len) is written.
func TestToRGB8Lengths(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 41 {
		for _, extra := range []int{0, 3} {
			src := make([]float32, n)
			for i := range src {
				src[i] = r.Float32()*1.4 - 0.2
			}
			got, want := make([]byte, n+extra), make([]byte, n+extra)
			for i := range got {
				got[i], want[i] = 7, 7
			}
			ToRGB8(got, src)
			refToRGB8(want, src)
			if string(got) != string(want) {
				t.Fatalf("n=%d extra=%d: %v, want %v", n, extra, got, want)
			}
		}
	}
}

func TestFromRGB8Exhaustive(t *testing.T) {
	t.Parallel()
	for n := range 600 {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*7 + n)
		}
		got, want := make([]float32, n+2), make([]float32, n+2)
		got[n], want[n] = -1, -1
		FromRGB8(got, src)
		refFromRGB8(want, src)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d i=%d: %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}

func FuzzToRGB8(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 192, 127})
	f.Fuzz(func(t *testing.T, raw []byte) {
		src := make([]float32, len(raw)/4)
		for i := range src {
			src[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
		}
		got, want := make([]byte, len(src)), make([]byte, len(src))
		ToRGB8(got, src)
		refToRGB8(want, src)
		if string(got) != string(want) {
			t.Fatalf("%v: %v, want %v", src, got, want)
		}
	})
}

func benchFrame() ([]float32, []byte) {
	const n = 1280 * 720 * 3
	f := make([]float32, n)
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range b {
		// A picture mix: saturated and mid-range samples.
		switch r.IntN(4) {
		case 0:
			b[i] = 0
		case 1:
			b[i] = 255
		default:
			b[i] = byte(r.IntN(256))
		}
	}
	refFromRGB8(f, b)
	return f, b
}

func BenchmarkToRGB8_720p(b *testing.B) {
	f, px := benchFrame()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		ToRGB8(px, f)
	}
}

func BenchmarkToRGB8Ref_720p(b *testing.B) {
	f, px := benchFrame()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		refToRGB8(px, f)
	}
}

func BenchmarkFromRGB8_720p(b *testing.B) {
	f, px := benchFrame()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		FromRGB8(f, px)
	}
}

func BenchmarkFromRGB8Ref_720p(b *testing.B) {
	f, px := benchFrame()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		refFromRGB8(f, px)
	}
}

// TestSwapRB checks SwapRB (the SSSE3 steps and the Go tail) against a
// plain per-pixel swap for every length up to 200 bytes at several
// offsets, copying and in place, and that bytes past the last whole pixel
// stay untouched.
func TestSwapRB(t *testing.T) {
	t.Parallel()
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	for off := range 4 {
		for n := 0; n <= 200; n++ {
			s := src[off : off+n]
			want := make([]byte, n+8)
			for i := range want {
				want[i] = 0xAA
			}
			whole := n - n%3
			for i := 0; i < whole; i += 3 {
				want[i], want[i+1], want[i+2] = s[i+2], s[i+1], s[i]
			}
			got := make([]byte, n+8)
			for i := range got {
				got[i] = 0xAA
			}
			SwapRB(got[:n], s)
			if !bytes.Equal(got, want) {
				t.Fatalf("off %d n %d: got %v want %v", off, n, got, want)
			}
			in := append([]byte(nil), s...)
			SwapRB(in, in)
			if !bytes.Equal(in[:whole], want[:whole]) || !bytes.Equal(in[whole:], s[whole:]) {
				t.Fatalf("off %d n %d in place: got %v want %v", off, n, in, want[:n])
			}
		}
	}
	// Different lengths: the shorter decides.
	dst := make([]byte, 6)
	SwapRB(dst, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	if !bytes.Equal(dst, []byte{3, 2, 1, 6, 5, 4}) {
		t.Fatalf("short dst: %v", dst)
	}
}

func BenchmarkSwapRB720p(b *testing.B) {
	src := make([]byte, 1280*720*3)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		SwapRB(dst, src)
	}
}
