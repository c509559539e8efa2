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

// TestImageCompositeMasked_perFrameOffsets: x and y linked to a per-frame
// node are read on every Run; each frame's picture is the naive
// composite (ComfyUI's helper: offsets clamped to [−source, destination],
// a negative one cutting the source), including offsets that move the
// source wholly out, and the Run does not allocate.
func TestImageCompositeMasked_perFrameOffsets(t *testing.T) {
	const hd, wd, hs, ws = 5, 6, 2, 3
	dst := mkImage(1, hd, wd, 3, func(_, y, x, c int) float32 { return float32(y*wd+x) / 100 })
	src := mkImage(1, hs, ws, 3, func(_, y, x, c int) float32 { return 1 + float32(y*ws+x+c) })
	m := mkMask(1, hs, ws, func(_, y, x int) float32 { return float32(1+y*ws+x) / 8 })
	k := kernel(t, "ImageCompositeMasked")
	specs := specsOf([]value.Value{dst, src, {}, {}, boolean(false), m})
	specs[2], specs[3] = value.Spec{Kind: value.Int}, value.Spec{Kind: value.Float}
	outSpecs, err := k.Prepare(specs)
	if err != nil {
		t.Fatal(err)
	}
	out := []value.Value{value.New(outSpecs[0])}
	for _, o := range [][2]int{{0, 0}, {-1, -1}, {-2, 3}, {4, 4}, {5, -1}, {-3, 0}, {6, 5}, {-9, 2}, {2, 9}} {
		in := []value.Value{dst, src, i64(int64(o[0])), value.OfFloat(float64(o[1]) + 0.5*float64(sign(o[1]))), boolean(false), m}
		if err := k.Run(in, out); err != nil {
			t.Fatalf("offset %v: %v", o, err)
		}
		// The reference: every destination pixel, from the formula.
		cx, cy := max(-ws, min(o[0], wd)), max(-hs, min(o[1], hd))
		for y := range hd {
			for x := range wd {
				for c := range 3 {
					d := dst.Tensor.Data[(y*wd+x)*3+c]
					want := d
					if sy, sx := y-cy, x-cx; sy >= 0 && sy < hs && sx >= 0 && sx < ws {
						mv := m.Tensor.Data[sy*ws+sx]
						want = mv*src.Tensor.Data[(sy*ws+sx)*3+c] + (1-mv)*d
					}
					if got := out[0].Tensor.Data[(y*wd+x)*3+c]; math.Abs(float64(got-want)) > 1e-6 {
						t.Fatalf("offset %v: (%d,%d,%d) = %v, want %v", o, y, x, c, got, want)
					}
				}
			}
		}
	}
	live := []value.Value{dst, src, i64(1), value.OfFloat(1), boolean(false), m}
	if allocs := testing.AllocsPerRun(5, func() { _ = k.Run(live, out) }); allocs != 0 {
		t.Errorf("Run allocates %v times", allocs)
	}
	if err := k.Run([]value.Value{dst, src, value.OfString("1"), value.OfFloat(0), boolean(false), m}, out); err == nil {
		t.Error("a STRING x was accepted")
	}
}

// sign is −1, 0 or 1 (a FLOAT offset is truncated toward zero, as
// Python's int()).
func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
