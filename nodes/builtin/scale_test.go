package builtin

import (
	"math"
	"slices"
	"testing"

	"comfyrt/nodes/value"
)

// naiveResize is the slow reference for torch's interpolate
// (align_corners=False): each output sample computed directly in 2-D, in
// float64, from the formulas of the documentation rather than from tap
// tables.
func naiveResize(in value.Value, method string, oh, ow int) []float32 {
	b, h, w, c, _ := value.ImageDims(in.Tensor.Shape)
	at := func(bb, y, x, ch int) float64 {
		y, x = min(max(y, 0), h-1), min(max(x, 0), w-1)
		return float64(in.Tensor.Data[((bb*h+y)*w+x)*c+ch])
	}
	keys := func(d float64) float64 { // Keys cubic, a = −0.75, in |d| form
		const a = -0.75
		d = math.Abs(d)
		switch {
		case d <= 1:
			return (a+2)*d*d*d - (a+3)*d*d + 1
		case d < 2:
			return a*d*d*d - 5*a*d*d + 8*a*d - 4*a
		}
		return 0
	}
	sy, sx := float64(h)/float64(oh), float64(w)/float64(ow)
	out := make([]float32, b*oh*ow*c)
	for bb := range b {
		for y := range oh {
			for x := range ow {
				for ch := range c {
					var v float64
					switch method {
					case "nearest-exact":
						v = at(bb, int(math.Floor((float64(y)+0.5)*sy)), int(math.Floor((float64(x)+0.5)*sx)), ch)
					case "bilinear":
						fy, fx := max((float64(y)+0.5)*sy-0.5, 0), max((float64(x)+0.5)*sx-0.5, 0)
						y0, x0 := int(fy), int(fx)
						ly, lx := fy-float64(y0), fx-float64(x0)
						v = (1-ly)*((1-lx)*at(bb, y0, x0, ch)+lx*at(bb, y0, x0+1, ch)) +
							ly*((1-lx)*at(bb, y0+1, x0, ch)+lx*at(bb, y0+1, x0+1, ch))
					case "bicubic":
						fy, fx := (float64(y)+0.5)*sy-0.5, (float64(x)+0.5)*sx-0.5
						y0, x0 := int(math.Floor(fy)), int(math.Floor(fx))
						for i := -1; i <= 2; i++ {
							for j := -1; j <= 2; j++ {
								v += keys(fy-float64(y0+i)) * keys(fx-float64(x0+j)) * at(bb, y0+i, x0+j, ch)
							}
						}
					case "area":
						ys, ye := y*h/oh, ((y+1)*h+oh-1)/oh
						xs, xe := x*w/ow, ((x+1)*w+ow-1)/ow
						for yy := ys; yy < ye; yy++ {
							for xx := xs; xx < xe; xx++ {
								v += at(bb, yy, xx, ch)
							}
						}
						v /= float64((ye - ys) * (xe - xs))
					}
					out[((bb*oh+y)*ow+x)*c+ch] = float32(v)
				}
			}
		}
	}
	return out
}

func TestImageScale_reference(t *testing.T) {
	in := randomImage(11, 2, 13, 17, 3)
	for _, method := range []string{"nearest-exact", "bilinear", "bicubic", "area"} {
		for _, size := range [][2]int{{6, 5}, {31, 40}, {13, 17}, {9, 29}} {
			oh, ow := size[0], size[1]
			out := runKernel(t, "ImageScale", in, str(method), i64(int64(ow)), i64(int64(oh)), str("disabled"))[0]
			wantShape(t, out, 2, oh, ow, 3)
			if d := maxAbsDiff(out.Tensor.Data, naiveResize(in, method, oh, ow)); d > 2e-6 {
				t.Errorf("%s to %dx%d: max |fast − reference| = %g", method, ow, oh, d)
			}
		}
	}
}

func TestImageScale_bicubicNotClamped(t *testing.T) {
	// A hard edge upscaled bicubically overshoots on both sides (COMFYUI.md g).
	in := mkImage(1, 2, 4, 3, func(_, _, x, _ int) float32 { return float32(x / 2) })
	out := runKernel(t, "ImageScale", in, str("bicubic"), i64(16), i64(2), str("disabled"))[0]
	lo, hi := float32(1), float32(0)
	for _, v := range out.Tensor.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo >= 0 || hi <= 1 {
		t.Errorf("range [%v, %v], want values below 0 and above 1", lo, hi)
	}
}

func TestImageScale_sizes(t *testing.T) {
	in := randomImage(12, 1, 20, 40, 3)
	// 0×0 passes through.
	out := runKernel(t, "ImageScale", in, str("bilinear"), i64(0), i64(0), str("disabled"))[0]
	if !slices.Equal(out.Tensor.Data, in.Tensor.Data) {
		t.Error("width = height = 0 did not pass the image through")
	}
	// One side 0 keeps the aspect ratio.
	out = runKernel(t, "ImageScale", in, str("area"), i64(0), i64(10), str("disabled"))[0]
	wantShape(t, out, 1, 10, 20, 3)
	out = runKernel(t, "ImageScale", in, str("area"), i64(30), i64(0), str("disabled"))[0]
	wantShape(t, out, 1, 15, 30, 3)
	// ImageScaleBy rounds half to even: 40·0.0625 = 2.5 → 2, 20·0.0625 = 1.25 → 1.
	out = runKernel(t, "ImageScaleBy", in, str("nearest-exact"), f64(0.0625))[0]
	wantShape(t, out, 1, 1, 2, 3)
}

func TestImageScale_centerCrop(t *testing.T) {
	// 8×4 to 4×4 with crop center: the middle 4 columns, unscaled.
	in := mkImage(1, 4, 8, 3, func(_, y, x, ch int) float32 { return float32(y*100 + x*10 + ch) })
	out := runKernel(t, "ImageScale", in, str("nearest-exact"), i64(4), i64(4), str("center"))[0]
	wantShape(t, out, 1, 4, 4, 3)
	for y := range 4 {
		for x := range 4 {
			if got, want := out.Tensor.Data[(y*4+x)*3], float32(y*100+(x+2)*10); got != want {
				t.Fatalf("(%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
}

func TestImageScale_lanczos(t *testing.T) {
	// A constant picture stays constant, and every output is a multiple
	// of 1/255 (Pillow works on bytes).
	in := mkImage(1, 9, 10, 3, func(_, _, _, ch int) float32 { return []float32{0.2, 0.6, 1}[ch] })
	out := runKernel(t, "ImageScale", in, str("lanczos"), i64(23), i64(4), str("disabled"))[0]
	for i, v := range out.Tensor.Data {
		want := float32(int([]float32{0.2, 0.6, 1}[i%3]*255)) / 255
		if v != want {
			t.Fatalf("element %d = %v, want %v", i, v, want)
		}
	}
	// Against a float Lanczos-3 reference (Pillow's filter, support scaled
	// when shrinking), each pass rounded to bytes as Pillow does; fixed-point weights may
	// move a byte by one.
	r := randomImage(13, 1, 12, 16, 3)
	for _, size := range [][2]int{{5, 7}, {30, 20}} {
		oh, ow := size[0], size[1]
		got := runKernel(t, "ImageScale", r, str("lanczos"), i64(int64(ow)), i64(int64(oh)), str("disabled"))[0]
		want := naiveLanczos(r, oh, ow)
		if d := maxAbsDiff(got.Tensor.Data, want); d > 1.5/255 {
			t.Errorf("lanczos to %dx%d: max |fast − reference| = %g", ow, oh, d)
		}
	}
}

func naiveLanczos(in value.Value, oh, ow int) []float32 {
	_, h, w, c, _ := value.ImageDims(in.Tensor.Shape)
	lz := func(x float64) float64 {
		if x == 0 {
			return 1
		}
		if math.Abs(x) >= 3 {
			return 0
		}
		return 3 * math.Sin(math.Pi*x) * math.Sin(math.Pi*x/3) / (math.Pi * math.Pi * x * x)
	}
	weights := func(o, n, out int) (ws map[int]float64) {
		scale := float64(n) / float64(out)
		fs := max(scale, 1)
		center := (float64(o) + 0.5) * scale
		ws = map[int]float64{}
		sum := 0.0
		for i := range n {
			if v := lz((float64(i) + 0.5 - center) / fs); v != 0 {
				ws[i] = v
				sum += v
			}
		}
		for i := range ws {
			ws[i] /= sum
		}
		return ws
	}
	// Pillow works on bytes: each pass rounds and clips.
	byteOf := func(v float64) float64 { return math.Min(math.Max(math.Floor(v+0.5), 0), 255) }
	tmp := make([]float64, h*ow*c)
	for y := range h {
		for x := range ow {
			for ch := range c {
				s := 0.0
				for xx, b := range weights(x, w, ow) {
					s += b * float64(int(in.Tensor.Data[(y*w+xx)*c+ch]*255))
				}
				tmp[(y*ow+x)*c+ch] = byteOf(s)
			}
		}
	}
	out := make([]float32, oh*ow*c)
	for y := range oh {
		wy := weights(y, h, oh)
		for x := range ow {
			for ch := range c {
				s := 0.0
				for yy, a := range wy {
					s += a * tmp[(yy*ow+x)*c+ch]
				}
				out[(y*ow+x)*c+ch] = float32(byteOf(s)) / 255
			}
		}
	}
	return out
}
