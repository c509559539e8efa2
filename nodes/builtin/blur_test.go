package builtin

import (
	"math"
	"slices"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// naiveConv2D is the slow reference: a full 2-D correlation of every
// channel with kern (size×size) over the picture padded by reflection
// (edge not repeated), computed in float64.
func naiveConv2D(in value.Value, kern [][]float64) []float32 {
	b, h, w, c, _ := value.ImageDims(in.Tensor.Shape)
	r := len(kern) / 2
	refl := func(i, n int) int {
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	}
	out := make([]float32, len(in.Tensor.Data))
	for bb := range b {
		for y := range h {
			for x := range w {
				for ch := range c {
					s := 0.0
					for dy := -r; dy <= r; dy++ {
						for dx := -r; dx <= r; dx++ {
							yy, xx := refl(y+dy, h), refl(x+dx, w)
							s += kern[dy+r][dx+r] * float64(in.Tensor.Data[((bb*h+yy)*w+xx)*c+ch])
						}
					}
					out[((bb*h+y)*w+x)*c+ch] = float32(s)
				}
			}
		}
	}
	return out
}

// comfyKernel2D builds ComfyUI's gaussian_kernel as written: a meshgrid of
// linspace(−1,1), d = √(x²+y²), exp(−d²/(2σ²)), divided by the sum.
func comfyKernel2D(size int, sigma float64) [][]float64 {
	k := make([][]float64, size)
	sum := 0.0
	for i := range size {
		k[i] = make([]float64, size)
		for j := range size {
			x := -1 + 2*float64(i)/float64(size-1)
			y := -1 + 2*float64(j)/float64(size-1)
			d := math.Sqrt(x*x + y*y)
			k[i][j] = math.Exp(-(d * d) / (2 * sigma * sigma))
			sum += k[i][j]
		}
	}
	for i := range k {
		for j := range k[i] {
			k[i][j] /= sum
		}
	}
	return k
}

func TestImageBlur_reference(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     int
		sigma float64
		h, w  int
	}{
		{"default", 1, 1, 9, 11},
		{"radius 4", 4, 0.7, 12, 10},
		{"radius larger than the picture", 6, 2, 5, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := randomImage(7, 2, tc.h, tc.w, 3)
			got := runKernel(t, "ImageBlur", in, i64(int64(tc.r)), f64(tc.sigma))[0]
			want := naiveConv2D(in, comfyKernel2D(2*tc.r+1, tc.sigma))
			if d := maxAbsDiff(got.Tensor.Data, want); d > 2e-6 {
				t.Errorf("max |fast − reference| = %g", d)
			}
		})
	}
}

func TestImageBlur_constant(t *testing.T) {
	in := mkImage(1, 8, 8, 3, func(_, _, _, ch int) float32 { return []float32{0.2, 0.5, 0.9}[ch] })
	out := runKernel(t, "ImageBlur", in, i64(3), f64(5))[0]
	if d := maxAbsDiff(out.Tensor.Data, in.Tensor.Data); d > 1e-6 {
		t.Errorf("blur of a constant image moved it by %g", d)
	}
}

func TestImageSharpen_reference(t *testing.T) {
	const r, sigma, alpha = 2, 1.5, 0.3
	in := randomImage(8, 1, 9, 7, 3)
	got := runKernel(t, "ImageSharpen", in, i64(r), f64(sigma), f64(alpha))[0]
	// ComfyUI's kernel: −10α·G, centre += 1 − Σ(−10α·G); then clamp.
	k := comfyKernel2D(2*r+1, sigma)
	sum := 0.0
	for i := range k {
		for j := range k[i] {
			k[i][j] *= -alpha * 10
			sum += k[i][j]
		}
	}
	k[r][r] += 1 - sum
	want := naiveConv2D(in, k)
	for i := range want {
		want[i] = clamp01(want[i])
	}
	if d := maxAbsDiff(got.Tensor.Data, want); d > 1e-5 {
		t.Errorf("max |fast − reference| = %g", d)
	}
	// alpha 0 is the identity.
	id := runKernel(t, "ImageSharpen", in, i64(r), f64(sigma), f64(0))[0]
	if d := maxAbsDiff(id.Tensor.Data, in.Tensor.Data); d > 1e-6 {
		t.Errorf("alpha 0 changed the image by %g", d)
	}
}

func TestGaussianBlur_reference(t *testing.T) {
	const size, sigma = 7, 2
	in := randomImage(9, 1, 10, 12, 3)
	got := runKernel(t, "GaussianBlur", in, i64(size), i64(sigma), str("cuda"))[0]
	// OpenCV: exp(−x²/(2σ²)) at x = i − 3, normalized, outer product.
	g := make([]float64, size)
	s := 0.0
	for i := range g {
		x := float64(i - size/2)
		g[i] = math.Exp(-x * x / (2 * sigma * sigma))
		s += g[i]
	}
	k := make([][]float64, size)
	for i := range k {
		k[i] = make([]float64, size)
		for j := range k[i] {
			k[i][j] = g[i] * g[j] / (s * s)
		}
	}
	if d := maxAbsDiff(got.Tensor.Data, naiveConv2D(in, k)); d > 2e-6 {
		t.Errorf("max |fast − reference| = %g", d)
	}
	cpu := runKernel(t, "GaussianBlur", in, i64(size), i64(sigma), str("cpu"))[0]
	if d := maxAbsDiff(cpu.Tensor.Data, got.Tensor.Data); d != 0 {
		t.Errorf("cpu and cuda modes differ by %g", d)
	}
	if err := prepareErr(t, "GaussianBlur", in, i64(6), i64(2), str("cuda")); err == nil {
		t.Error("even kernel_size accepted")
	}
}

// Test_opencvGaussian1D_small checks OpenCV's fixed tables for σ ≤ 0.
func Test_opencvGaussian1D_small(t *testing.T) {
	got := opencvGaussian1D(3, 0)
	if want := []float32{0.25, 0.5, 0.25}; !slices.Equal(got, want) {
		t.Errorf("size 3, σ 0: %v, want %v", got, want)
	}
}

// TestGaussianBlur_perFrameSigma: a sigma linked to a per-frame node
// (no constant at Prepare) is read on every Run; each frame's result is
// the one a constant sigma gives, across changes and back, without
// allocating.
func TestGaussianBlur_perFrameSigma(t *testing.T) {
	const size = 7
	in := randomImage(3, 1, 9, 11, 3)
	k := kernel(t, "GaussianBlur")
	specs := []value.Spec{value.TensorSpec(value.Image, in.Tensor.Shape...), value.ConstSpec(i64(size)),
		{Kind: value.Int}, value.ConstSpec(str("cuda"))}
	outSpecs, err := nodes.SafePrepare(k, specs)
	if err != nil {
		t.Fatal(err)
	}
	out := []value.Value{value.New(outSpecs[0])}
	for _, sigma := range []int64{2, 5, 0, 2, -1} {
		if err := nodes.SafeRun(k, []value.Value{in, {}, i64(sigma), {}}, out); err != nil {
			t.Fatalf("sigma %d: %v", sigma, err)
		}
		want := runKernel(t, "GaussianBlur", in, i64(size), i64(sigma), str("cuda"))[0]
		if d := maxAbsDiff(out[0].Tensor.Data, want.Tensor.Data); d != 0 {
			t.Errorf("sigma %d per frame differs from the constant by %g", sigma, d)
		}
	}
	live := []value.Value{in, {}, value.OfFloat(3.5), {}}
	if allocs := testing.AllocsPerRun(5, func() { _ = k.Run(live, out) }); allocs != 0 {
		t.Errorf("Run allocates %v times", allocs)
	}
	if err := nodes.SafeRun(k, []value.Value{in, {}, value.OfString("x"), {}}, out); err == nil {
		t.Error("a STRING sigma was accepted")
	}
}
