package builtin

import (
	"slices"
	"strings"
	"testing"

	"comfyrt/nodes/value"
)

func TestImageInvert(t *testing.T) {
	in := randomImage(1, 2, 5, 7, 3)
	once := runKernel(t, "ImageInvert", in)[0]
	for i, x := range in.Tensor.Data {
		if once.Tensor.Data[i] != 1-x {
			t.Fatalf("element %d: %v, want 1-%v", i, once.Tensor.Data[i], x)
		}
	}
	// Inverting twice gives back the image up to float rounding.
	twice := runKernel(t, "ImageInvert", once)[0]
	if d := maxAbsDiff(twice.Tensor.Data, in.Tensor.Data); d > 1e-7 {
		t.Errorf("invert twice differs by %g", d)
	}
}

func TestInvertMask_ThresholdMask(t *testing.T) {
	m := mkMask(1, 1, 4, func(_, _, x int) float32 { return []float32{0, 0.25, 0.5, 0.75}[x] })
	inv := runKernel(t, "InvertMask", m)[0].Tensor.Data
	if want := []float32{1, 0.75, 0.5, 0.25}; !slices.Equal(inv, want) {
		t.Errorf("InvertMask = %v, want %v", inv, want)
	}
	// mask > value, strictly.
	th := runKernel(t, "ThresholdMask", m, f64(0.5))[0].Tensor.Data
	if want := []float32{0, 0, 0, 1}; !slices.Equal(th, want) {
		t.Errorf("ThresholdMask(0.5) = %v, want %v", th, want)
	}
	th = runKernel(t, "ThresholdMask", m, f64(0))[0].Tensor.Data
	if want := []float32{0, 1, 1, 1}; !slices.Equal(th, want) {
		t.Errorf("ThresholdMask(0) = %v, want %v", th, want)
	}
}

func TestImageToMask_MaskToImage(t *testing.T) {
	in := mkImage(2, 3, 4, 3, func(b, y, x, ch int) float32 { return float32(b*100+y*10+x) + float32(ch)/10 })
	for ch, name := range []string{"red", "green", "blue"} {
		m := runKernel(t, "ImageToMask", in, str(name))[0]
		wantShape(t, m, 2, 3, 4)
		for i, v := range m.Tensor.Data {
			if want := in.Tensor.Data[3*i+ch]; v != want {
				t.Fatalf("%s: element %d = %v, want %v", name, i, v, want)
			}
		}
		back := runKernel(t, "MaskToImage", m)[0]
		wantShape(t, back, 2, 3, 4, 3)
		for i, v := range back.Tensor.Data {
			if v != m.Tensor.Data[i/3] {
				t.Fatalf("MaskToImage element %d = %v, want %v", i, v, m.Tensor.Data[i/3])
			}
		}
	}
	err := prepareErr(t, "ImageToMask", in, str("alpha"))
	if err == nil || !strings.Contains(err.Error(), "alpha") {
		t.Errorf("alpha of an RGB image: error %v, want one naming alpha", err)
	}
	if err := prepareErr(t, "ImageToMask", in, str("purple")); err == nil {
		t.Error("unknown channel accepted")
	}
}

func TestEmptyImage_SolidMask(t *testing.T) {
	out := runKernel(t, "EmptyImage", i64(3), i64(2), i64(2), i64(0x3366FF))[0]
	wantShape(t, out, 2, 2, 3, 3)
	want := []float32{float32(0x33) / 255, float32(0x66) / 255, 1}
	for i, v := range out.Tensor.Data {
		if v != want[i%3] {
			t.Fatalf("element %d = %v, want %v", i, v, want[i%3])
		}
	}
	m := runKernel(t, "SolidMask", f64(0.3), i64(5), i64(4))[0]
	wantShape(t, m, 1, 4, 5)
	for _, v := range m.Tensor.Data {
		if v != float32(0.3) {
			t.Fatalf("SolidMask value %v, want 0.3", v)
		}
	}
	if err := prepareErr(t, "EmptyImage", i64(0), i64(2), i64(1), i64(0)); err == nil {
		t.Error("width 0 accepted")
	}
}

func TestBackgroundColor(t *testing.T) {
	in := randomImage(3, 1, 2, 2, 3)
	for _, tc := range []struct {
		color string
		want  [3]float32
	}{
		{"black", [3]float32{0, 0, 0}},
		{"red", [3]float32{1, 0, 0}},
		{"green", [3]float32{0, 1, 0}},
		{"blue", [3]float32{0, 0, 1}},
	} {
		out := runKernel(t, "BackgroundColor", in, str(tc.color))[0]
		for i, v := range out.Tensor.Data {
			if v != tc.want[i%3] {
				t.Fatalf("%s: element %d = %v, want %v", tc.color, i, v, tc.want[i%3])
			}
		}
	}
}

func TestImageCrop(t *testing.T) {
	in := mkImage(1, 4, 5, 3, func(_, y, x, ch int) float32 { return float32(y*100 + x*10 + ch) })
	tests := []struct {
		name           string
		w, h, x, y     int64
		wantW, wantH   int
		wantX0, wantY0 int
	}{
		{"inside", 2, 3, 1, 1, 2, 3, 1, 1},
		{"cut at the edge", 10, 10, 3, 2, 2, 2, 3, 2},
		{"x and y clamped to the last column and row", 4, 4, 50, 50, 1, 1, 4, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := runKernel(t, "ImageCrop", in, i64(tc.w), i64(tc.h), i64(tc.x), i64(tc.y))[0]
			wantShape(t, out, 1, tc.wantH, tc.wantW, 3)
			for y := range tc.wantH {
				for x := range tc.wantW {
					for ch := range 3 {
						got := out.Tensor.Data[(y*tc.wantW+x)*3+ch]
						want := float32((tc.wantY0+y)*100 + (tc.wantX0+x)*10 + ch)
						if got != want {
							t.Fatalf("(%d,%d,%d) = %v, want %v", y, x, ch, got, want)
						}
					}
				}
			}
		})
	}
}

func TestPrepare_parameterNotKnown(t *testing.T) {
	k := kernel(t, "ThresholdMask")
	_, err := k.Prepare([]value.Spec{value.MaskSpec(1, 2, 2), {Kind: value.Float}})
	if err == nil || !strings.Contains(err.Error(), "value") {
		t.Errorf("per-frame threshold: error %v, want one naming input value", err)
	}
}
