package builtin

import (
	"math"
	"testing"
)

func TestImageBlend_modes(t *testing.T) {
	// Pixel pairs (a, b) and the mode formulas, computed here in float64.
	pairs := [][2]float64{{0.2, 0.7}, {0.6, 0.3}, {0.1, 0.1}, {0.9, 0.95}, {0.5, 0.5}, {0.25, 0.8}}
	g := func(x float64) float64 {
		if x <= 0.25 {
			return ((16*x-12)*x + 4) * x
		}
		return math.Sqrt(x)
	}
	modes := map[string]func(a, b float64) float64{
		"normal":   func(_, b float64) float64 { return b },
		"multiply": func(a, b float64) float64 { return a * b },
		"screen":   func(a, b float64) float64 { return 1 - (1-a)*(1-b) },
		"overlay": func(a, b float64) float64 {
			if a <= 0.5 {
				return 2 * a * b
			}
			return 1 - 2*(1-a)*(1-b)
		},
		"soft_light": func(a, b float64) float64 {
			if b <= 0.5 {
				return a - (1-2*b)*a*(1-a)
			}
			return a + (2*b-1)*(g(a)-a)
		},
		"difference": func(a, b float64) float64 { return a - b },
	}
	img1 := mkImage(1, 1, len(pairs), 3, func(_, _, x, _ int) float32 { return float32(pairs[x][0]) })
	img2 := mkImage(1, 1, len(pairs), 3, func(_, _, x, _ int) float32 { return float32(pairs[x][1]) })
	for name, f := range modes {
		for _, factor := range []float64{0, 0.35, 1} {
			out := runKernel(t, "ImageBlend", img1, img2, f64(factor), str(name))[0]
			for x, p := range pairs {
				a, b := float64(float32(p[0])), float64(float32(p[1]))
				want := math.Min(math.Max(a*(1-factor)+f(a, b)*factor, 0), 1)
				if got := float64(out.Tensor.Data[3*x]); math.Abs(got-want) > 1e-6 {
					t.Errorf("%s f=%v on (%v,%v): %v, want %v", name, factor, p[0], p[1], got, want)
				}
			}
		}
	}
}

func TestImageBlend_resizeAndBroadcast(t *testing.T) {
	img1 := randomImage(21, 3, 8, 10, 3)
	// A constant image2 of another size stays that constant once resized.
	img2 := mkImage(1, 5, 4, 3, func(int, int, int, int) float32 { return 0.5 })
	out := runKernel(t, "ImageBlend", img1, img2, f64(1), str("normal"))[0]
	wantShape(t, out, 3, 8, 10, 3)
	for i, v := range out.Tensor.Data {
		if math.Abs(float64(v)-0.5) > 1e-6 {
			t.Fatalf("element %d = %v, want 0.5", i, v)
		}
	}
	if err := prepareErr(t, "ImageBlend", randomImage(1, 2, 4, 4, 3), randomImage(2, 3, 4, 4, 3), f64(0.5), str("normal")); err == nil {
		t.Error("batches 2 and 3 accepted")
	}
}
