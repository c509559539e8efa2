package builtin

import (
	"math"
	"slices"
	"strings"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// Edge cases of the mask and image kernels that the reference file
// (reference_test.go) does not hold: NaN, [H,W] masks, refused inputs.

// wantErr fails unless Prepare of class on in fails naming every one of
// want.
func wantErr(t *testing.T, class string, in []value.Value, want ...string) {
	t.Helper()
	err := prepareErr(t, class, in...)
	if err == nil {
		t.Fatalf("%s: Prepare accepted %v", class, in)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", class, err, w)
		}
	}
}

func TestMaskComposite_edges(t *testing.T) {
	// NaN stays NaN through the clamp (torch.clamp keeps it) and counts as
	// true for the logical operations (bool(round(NaN))).
	nan := float32(math.NaN())
	d := mkMask(1, 1, 3, func(_, _, x int) float32 { return []float32{nan, 0, 2}[x] })
	s := mkMask(1, 1, 3, func(_, _, x int) float32 { return []float32{0, nan, 0.5}[x] })
	got := runKernel(t, "MaskComposite", d, s, i64(0), i64(0), str("add"))[0].Tensor.Data
	if !(got[0] != got[0]) || !(got[1] != got[1]) || got[2] != 1 {
		t.Errorf("add with NaN = %v, want [NaN NaN 1]", got)
	}
	got = runKernel(t, "MaskComposite", d, s, i64(0), i64(0), str("and"))[0].Tensor.Data
	if !slices.Equal(got, []float32{0, 0, 0}) {
		t.Errorf("and with NaN = %v, want [0 0 0] (NaN∧0, 0∧NaN, 2∧0.5)", got)
	}
	got = runKernel(t, "MaskComposite", d, s, i64(0), i64(0), str("xor"))[0].Tensor.Data
	if !slices.Equal(got, []float32{1, 1, 1}) {
		t.Errorf("xor with NaN = %v, want [1 1 1]", got)
	}
	// [H,W] masks are a batch of one; an offset past the destination
	// leaves it (clamped) as it was.
	d2 := value.OfTensor(value.Mask, value.Tensor{Shape: []int{2, 2}, Data: []float32{0.5, 1.5, -1, 0.25}})
	out := runKernel(t, "MaskComposite", d2, d2, i64(9), i64(0), str("add"))[0]
	wantShape(t, out, 1, 2, 2)
	if !slices.Equal(out.Tensor.Data, []float32{0.5, 1, 0, 0.25}) {
		t.Errorf("offset past the width: %v", out.Tensor.Data)
	}
	wantErr(t, "MaskComposite", []value.Value{randomMask(1, 2, 4, 4), randomMask(2, 3, 4, 4), i64(0), i64(0), str("add")}, "input source", "batch of 3")
	wantErr(t, "MaskComposite", []value.Value{randomMask(1, 1, 4, 4), randomMask(2, 1, 4, 4), i64(-1), i64(0), str("nand")}, "input x", "input operation")
	wantErr(t, "MaskComposite", []value.Value{randomImage(1, 1, 4, 4, 3), randomMask(2, 1, 4, 4), i64(0), i64(0), str("or")}, "input destination", "want MASK")
}

func TestCropFeatherColor_edges(t *testing.T) {
	m := randomMask(1, 2, 5, 6)
	wantErr(t, "CropMask", []value.Value{m, i64(6), i64(0), i64(2), i64(2)}, "input x", "width 6")
	wantErr(t, "CropMask", []value.Value{m, i64(0), i64(5), i64(2), i64(2)}, "input y", "height 5")
	wantErr(t, "CropMask", []value.Value{m, i64(0), i64(0), i64(0), i64(2)}, "input width")
	wantErr(t, "FeatherMask", []value.Value{m, i64(-1), i64(0), i64(0), i64(0)}, "input left")
	// No feathering is a copy.
	if got := runKernel(t, "FeatherMask", m, i64(0), i64(0), i64(0), i64(0))[0]; !slices.Equal(got.Tensor.Data, m.Tensor.Data) {
		t.Error("FeatherMask with no edges changed the mask")
	}
	// A 1-channel image has no colour to match; NaN matches nothing.
	wantErr(t, "ImageColorToMask", []value.Value{randomImage(1, 1, 2, 2, 1), i64(0)}, "input image", "channels")
	px := mkImage(1, 1, 2, 3, func(_, _, x, _ int) float32 { return []float32{float32(math.NaN()), 0}[x] })
	if got := runKernel(t, "ImageColorToMask", px, i64(0))[0].Tensor.Data; !slices.Equal(got, []float32{0, 255}) {
		t.Errorf("ImageColorToMask NaN, black = %v, want [0 255]", got)
	}
}

func TestBatchNodes_edges(t *testing.T) {
	img := randomImage(1, 2, 3, 4, 3)
	wantErr(t, "ImageBatch", []value.Value{img, randomImage(2, 1, 3, 4, 1)}, "input image2", "1 channels")
	wantErr(t, "RepeatImageBatch", []value.Value{img, i64(0)}, "input amount")
	wantErr(t, "RepeatImageBatch", []value.Value{img, i64(1 << 20)}, "input amount", "pictures")
	wantErr(t, "ImageFromBatch", []value.Value{img, i64(-1), i64(0)}, "input batch_index", "input length")
	wantErr(t, "ImagePadForOutpaint", []value.Value{img, i64(0), i64(-8), i64(1 << 20), i64(0), i64(0)}, "input top", "input right")
	wantErr(t, "ImageFlip", []value.Value{img, str("z-axis")}, "input flip_method")
	wantErr(t, "JoinImageWithAlpha", []value.Value{randomImage(1, 1, 2, 2, 1), randomMask(1, 1, 2, 2)}, "input image")
	wantErr(t, "SplitImageWithAlpha", []value.Value{randomImage(1, 1, 2, 2, 2)}, "input image")
	// Flipping twice is the identity, on RGBA too.
	rgba := randomImage(3, 2, 5, 7, 4)
	for _, m := range flipMethods {
		once := runKernel(t, "ImageFlip", rgba, str(m))[0]
		twice := runKernel(t, "ImageFlip", once, str(m))[0]
		if !slices.Equal(twice.Tensor.Data, rgba.Tensor.Data) || slices.Equal(once.Tensor.Data, rgba.Tensor.Data) {
			t.Errorf("%s: flip is not an involution", m)
		}
	}
	// Join then split gives the image and the mask back.
	rgb, mask := randomImage(4, 2, 5, 7, 3), randomMask(5, 2, 5, 7)
	joined := runKernel(t, "JoinImageWithAlpha", rgb, mask)[0]
	wantShape(t, joined, 2, 5, 7, 4)
	split := runKernel(t, "SplitImageWithAlpha", joined)
	if d := maxAbsDiff(split[0].Tensor.Data, rgb.Tensor.Data); d != 0 {
		t.Errorf("split RGB differs by %v", d)
	}
	if d := maxAbsDiff(split[1].Tensor.Data, mask.Tensor.Data); d > 1e-7 {
		t.Errorf("split mask differs by %v", d)
	}
}

func TestEmptyLatentImage(t *testing.T) {
	k := kernel(t, "EmptyLatentImage")
	in := []value.Value{i64(512), i64(300), i64(2)}
	out := prepare(t, k, in)
	wantShape(t, out[0], 2, 4, 37, 64)
	if out[0].Kind != value.Latent {
		t.Fatalf("kind %s, want LATENT", out[0].Kind)
	}
	for i := range out[0].Tensor.Data {
		out[0].Tensor.Data[i] = 7 // a reused buffer
	}
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(out[0].Tensor.Data, func(v float32) bool { return v != 0 }) {
		t.Error("the latent is not all zeros")
	}
	wantErr(t, "EmptyLatentImage", []value.Value{i64(4), i64(1 << 30), i64(0)}, "input width", "input height", "input batch_size")
}

// TestQuickShapeMask_perFrame: the shape's position may come per frame
// (a controller's INT); each Run draws it where that frame says.
func TestQuickShapeMask_perFrame(t *testing.T) {
	k := kernel(t, "QuickShapeMask")
	konst := func(v value.Value) value.Spec { return value.ConstSpec(v) }
	specs := []value.Spec{konst(str("square")), konst(i64(4)), konst(i64(2)), {Kind: value.Int}, konst(i64(3)), konst(i64(16)), konst(i64(8)), konst(i64(2))}
	outSpecs, err := nodes.SafePrepare(k, specs)
	if err != nil {
		t.Fatal(err)
	}
	out := []value.Value{value.New(outSpecs[0])}
	for _, x := range []int64{2, 9, 15} {
		in := []value.Value{str("square"), i64(4), i64(2), i64(x), i64(3), i64(16), i64(8), i64(2)}
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		for p := range 2 {
			for y := range 8 {
				for xx := range 16 {
					want := float32(0)
					if y >= 2 && y < 4 && int64(xx) >= x-2 && int64(xx) < min(x+2, 16) {
						want = 1
					}
					if got := out[0].Tensor.Data[(p*8+y)*16+xx]; got != want {
						t.Fatalf("x=%d: picture %d pixel %d,%d = %v, want %v", x, p, xx, y, got, want)
					}
				}
			}
		}
	}
	in := []value.Value{str("square"), i64(4), i64(2), i64(-3), i64(3), i64(16), i64(8), i64(2)}
	if err := nodes.SafeRun(k, in, out); err == nil || !strings.Contains(err.Error(), "input x") {
		t.Errorf("a negative x per frame: %v", err)
	}
	wantErr(t, "QuickShapeMask", []value.Value{str("star"), i64(0), i64(4), i64(1), i64(1), i64(0), i64(8), i64(0)},
		"input shape", "input width", "input canvas_width", "input batch_size")
}

// TestByte255_roundsHalfToEven: near every k+0.5, byte255 agrees with
// RoundToEven of the float32 product (torch's round), ties included.
func TestByte255_roundsHalfToEven(t *testing.T) {
	ties := 0
	for k := range 255 {
		v := float32((float64(k) + 0.5) / 255)
		for range 4 {
			v = math.Nextafter32(v, 0)
		}
		for range 9 {
			x := v * 255
			if x == float32(k)+0.5 {
				ties++
			}
			if got, want := byte255(v), int64(math.RoundToEven(float64(x))); got != want {
				t.Fatalf("byte255(%v) = %d, want %d (v·255 = %v)", v, got, want, x)
			}
			v = math.Nextafter32(v, 1)
		}
	}
	if ties == 0 {
		t.Error("no exact tie was tried")
	}
	t.Logf("%d exact ties", ties)
}
