package builtin

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
)

// sameBits reports whether a and b are equal bit for bit, any NaN equal to
// any NaN.
func sameBits(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return i, false
		}
	}
	return 0, true
}

// specialFloats fills d with random samples in [-0.5, 1.5) and, one in
// ten, ±0, ±Inf or NaN.
func specialFloats(r *rand.Rand, d []float32) {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1}
	for i := range d {
		if r.IntN(10) == 0 {
			d[i] = specials[r.IntN(len(specials))]
		} else {
			d[i] = r.Float32()*2 - 0.5
		}
	}
}

// TestSameSizeBilinear: the shortcut matches the bilinear resampler from a
// size to the same size bit for bit, non-finite samples and −0 included.
func TestSameSizeBilinear(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{1, 1, 3}, {1, 1, 1}, {1, 6, 1}, {7, 1, 3}, {9, 13, 3}, {16, 16, 1}, {5, 33, 3}} {
		h, w, c := sz[0], sz[1], sz[2]
		src := make([]float32, h*w*c)
		specialFloats(r, src)
		rs, err := newResampler(methodBilinear, 1, h, w, c, h, w, false)
		if err != nil {
			t.Fatal(err)
		}
		want, got := make([]float32, len(src)), make([]float32, len(src))
		rs.run(want, src)
		sameSizeBilinear(got, src, w, c)
		if i, ok := sameBits(got, want); !ok {
			t.Fatalf("%dx%dx%d: [%d] = %v (%#x), resampler %v (%#x), src %v", h, w, c, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]), src[i])
		}
	}
}

// TestImagePipeline_sameSize: when the model's input and output have the
// frame's size the pipeline skips the resamplers, with the very results
// they give (checked against the same pipeline forced through them).
func TestImagePipeline_sameSize(t *testing.T) {
	dir := t.TempDir()
	path := touch(t, filepath.Join(dir, "m.onnx"))
	p := fake.New()
	// A model of the same size in and out: a per-element affine map of the
	// input (NCHW), so that every input sample reaches the output.
	p.Add(path, fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{-1, 3, -1, -1}}},
		Outputs: []engine.TensorInfo{{Name: "y", DType: engine.Float32, Shape: []int{-1, 3, -1, -1}}},
		Fn: func(in, out []engine.Tensor) {
			for i, v := range in[0].Data {
				out[0].Data[i] = v*0.25 + 0.4
			}
		},
	})
	r := rand.New(rand.NewPCG(9, 10))
	const b, h, w = 2, 64, 96
	frame := make([]float32, b*h*w*3)
	specialFloats(r, frame)
	for _, tc := range []struct {
		name string
		spec pipelineSpec
	}{
		{"mask", pipelineSpec{path: path, b: b, h: h, w: w, mh: h, mw: w, bgr: true, mean: imagenetMean, std: imagenetStd, scale: scaleNone, mask: true}},
		{"image+mask", pipelineSpec{path: path, b: b, h: h, w: w, mh: h, mw: w, mean: [3]float32{0.5, 0.5, 0.5}, std: [3]float32{1, 1, 1}, scale: scaleNone, image: true, mask: true, quantize: true}},
	} {
		cfg := nodes.Config{Engines: p}
		fast, err := openPipeline(cfg, tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := openPipeline(cfg, tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if !fast.sameIn || !fast.sameOut || fast.down != nil || fast.up1 != nil || fast.up3 != nil {
			t.Fatalf("%s: same sizes not detected (sameIn %v, sameOut %v)", tc.name, fast.sameIn, fast.sameOut)
		}
		// Force the general path on slow.
		slow.sameIn, slow.sameOut = false, false
		slow.down, _ = newResampler(methodBilinear, 1, h, w, 3, h, w, false)
		slow.up3, _ = newResampler(methodBilinear, 1, h, w, 3, h, w, false)
		slow.up1, _ = newResampler(methodBilinear, 1, h, w, 1, h, w, false)
		var imgF, imgS []float32
		if tc.spec.image {
			imgF, imgS = make([]float32, b*h*w*3), make([]float32, b*h*w*3)
		}
		maskF, maskS := make([]float32, b*h*w), make([]float32, b*h*w)
		if err := fast.run(frame, imgF, maskF); err != nil {
			t.Fatal(err)
		}
		if err := slow.run(frame, imgS, maskS); err != nil {
			t.Fatal(err)
		}
		if i, ok := sameBits(maskF, maskS); !ok {
			t.Errorf("%s: mask [%d] = %v, resampled %v", tc.name, i, maskF[i], maskS[i])
		}
		if i, ok := sameBits(imgF, imgS); !ok {
			t.Errorf("%s: image [%d] = %v, resampled %v", tc.name, i, imgF[i], imgS[i])
		}
		if a := testing.AllocsPerRun(2, func() { fast.run(frame, imgF, maskF) }); a != 0 {
			t.Errorf("%s: run allocates %v times", tc.name, a)
		}
		fast.close()
		slow.close()
	}
}
