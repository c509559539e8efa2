package builtin

import (
	"math"
	"testing"

	"comfyrt/nodes/value"
)

func TestImageCompositeMasked(t *testing.T) {
	dst := mkImage(1, 4, 4, 3, func(int, int, int, int) float32 { return 0 })
	src := mkImage(1, 2, 2, 3, func(int, int, int, int) float32 { return 1 })
	at := func(v value.Value, y, x int) float32 { return v.Tensor.Data[(y*4+x)*3] }
	// Pasted at (3,1): cut at the right edge, so only column 3, rows 1–2.
	out := runKernel(t, "ImageCompositeMasked", dst, src, i64(3), i64(1), boolean(false), value.Value{})[0]
	for y := range 4 {
		for x := range 4 {
			want := float32(0)
			if x == 3 && (y == 1 || y == 2) {
				want = 1
			}
			if got := at(out, y, x); got != want {
				t.Errorf("no mask (%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
	// A 1×1 mask of 0.25 is resized to the source (bilinear: still 0.25).
	m := mkMask(1, 1, 1, func(int, int, int) float32 { return 0.25 })
	out = runKernel(t, "ImageCompositeMasked", dst, src, i64(0), i64(0), boolean(false), m)[0]
	for y := range 4 {
		for x := range 4 {
			want := float32(0)
			if x < 2 && y < 2 {
				want = 0.25
			}
			if got := at(out, y, x); got != want {
				t.Errorf("mask 0.25 (%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
	// resize_source stretches the source over the whole destination.
	out = runKernel(t, "ImageCompositeMasked", dst, src, i64(2), i64(2), boolean(true), value.Value{})[0]
	for y := range 4 {
		for x := range 4 {
			want := float32(0)
			if x >= 2 && y >= 2 {
				want = 1
			}
			if got := at(out, y, x); got != want {
				t.Errorf("resize_source (%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
}

func TestComposite(t *testing.T) {
	fg, bg, m := randomImage(31, 2, 3, 4, 3), randomImage(32, 2, 3, 4, 3), randomMask(33, 2, 3, 4)
	for _, mode := range []string{"cuda", "cpu"} {
		out := runKernel(t, "Composite", fg, bg, m, str(mode))[0]
		for i, v := range out.Tensor.Data {
			mv := float64(m.Tensor.Data[i/3])
			want := float64(fg.Tensor.Data[i])*mv + float64(bg.Tensor.Data[i])*(1-mv)
			if math.Abs(float64(v)-want) > 1e-6 {
				t.Fatalf("%s: element %d = %v, want %v", mode, i, v, want)
			}
		}
	}
	if err := prepareErr(t, "Composite", fg, randomImage(1, 1, 3, 4, 3), m, str("cuda")); err == nil {
		t.Error("batch mismatch accepted")
	}
}
