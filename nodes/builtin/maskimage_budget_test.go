package builtin

import (
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// TestBudgetScratch_maskImageNodes: the new kernels whose Prepare holds
// input-sized scratch declare at least what it allocates, and not wildly
// more; the same kernels without a resize declare nothing.
func TestBudgetScratch_maskImageNodes(t *testing.T) {
	k := value.ConstSpec
	for _, c := range []struct {
		name, class string
		in          []value.Spec
	}{
		{"feather", "FeatherMask", []value.Spec{value.MaskSpec(2, 4096, 3000), k(i64(5)), k(i64(5)), k(i64(5)), k(i64(5))}},
		{"batch resizes rgb to rgba", "ImageBatch", []value.Spec{value.TensorSpec(value.Image, 1, 256, 256, 4), value.ImageSpec(3, 300, 200)}},
		{"join resizes the alpha", "JoinImageWithAlpha", []value.Spec{value.ImageSpec(1, 512, 384), value.MaskSpec(2, 64, 48)}},
		{"text", "TextRenderer", []value.Spec{k(str("hello")), k(i64(512)), k(i64(512)), k(i64(48)), k(str("white")), k(str("black")),
			k(i64(0)), k(i64(0)), k(str("center")), k(i64(0))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			declared, got := declaredAllocated(t, c.class, c.in)
			if declared+4<<10 < got || declared > 8*got+64<<10 {
				t.Errorf("declared %d B, Prepare allocated %d B", declared, got)
			}
		})
	}
	for _, c := range []struct {
		class string
		in    []value.Spec
	}{
		{"ImageBatch", []value.Spec{value.ImageSpec(1, 256, 256), value.TensorSpec(value.Image, 3, 256, 256, 4)}},
		{"JoinImageWithAlpha", []value.Spec{value.ImageSpec(1, 512, 384), value.MaskSpec(2, 512, 384)}},
	} {
		if n, err := kernel(t, c.class).(nodes.Scratcher).Scratch(c.in); err != nil || n != 0 {
			t.Errorf("%s without a resize declares %d B (%v)", c.class, n, err)
		}
	}
}

// benchmarks of the per-frame kernels at 512×512 (go test -bench).

func BenchmarkMaskComposite512(b *testing.B) {
	d, s := randomMask(1, 1, 512, 512), randomMask(2, 1, 256, 256)
	for _, op := range maskOps {
		b.Run(op, func(b *testing.B) { benchKernel(b, "MaskComposite", d, s, i64(128), i64(128), str(op)) })
	}
}

func BenchmarkFeatherMask512(b *testing.B) {
	benchKernel(b, "FeatherMask", randomMask(1, 1, 512, 512), i64(40), i64(40), i64(40), i64(40))
}

func BenchmarkCropMask512(b *testing.B) {
	benchKernel(b, "CropMask", randomMask(1, 1, 512, 512), i64(64), i64(64), i64(256), i64(256))
}

func BenchmarkImageColorToMask512(b *testing.B) {
	benchKernel(b, "ImageColorToMask", randomImage(1, 1, 512, 512, 3), i64(0x808080))
}

func BenchmarkImageFlip512(b *testing.B) {
	img := randomImage(1, 1, 512, 512, 3)
	for _, m := range flipMethods {
		b.Run(m[:6], func(b *testing.B) { benchKernel(b, "ImageFlip", img, str(m)) })
	}
}

func BenchmarkImagePadForOutpaint512(b *testing.B) {
	benchKernel(b, "ImagePadForOutpaint", randomImage(1, 1, 512, 512, 3), i64(64), i64(64), i64(64), i64(64), i64(40))
}

func BenchmarkImageBatch512(b *testing.B) {
	img := randomImage(1, 1, 512, 512, 3)
	b.Run("same-size", func(b *testing.B) { benchKernel(b, "ImageBatch", img, randomImage(2, 1, 512, 512, 3)) })
	b.Run("resize", func(b *testing.B) { benchKernel(b, "ImageBatch", img, randomImage(2, 1, 480, 640, 3)) })
}

func BenchmarkRepeatImageBatch512(b *testing.B) {
	benchKernel(b, "RepeatImageBatch", randomImage(1, 1, 512, 512, 3), i64(2))
}

func BenchmarkImageFromBatch512(b *testing.B) {
	benchKernel(b, "ImageFromBatch", randomImage(1, 4, 512, 512, 3), i64(1), i64(2))
}

func BenchmarkJoinImageWithAlpha512(b *testing.B) {
	benchKernel(b, "JoinImageWithAlpha", randomImage(1, 1, 512, 512, 3), randomMask(2, 1, 512, 512))
}

func BenchmarkSplitImageWithAlpha512(b *testing.B) {
	benchKernel(b, "SplitImageWithAlpha", randomImage(1, 1, 512, 512, 4))
}

func BenchmarkQuickShapeMask512(b *testing.B) {
	benchKernel(b, "QuickShapeMask", str("circle"), i64(128), i64(96), i64(256), i64(256), i64(512), i64(512), i64(1))
}

// BenchmarkTextRenderer512: an unchanged text (a copy) and a text that
// changes every frame (drawn again).
func BenchmarkTextRenderer512(b *testing.B) {
	params := []value.Value{i64(512), i64(512), i64(48), str("white"), str("black"), i64(0), i64(0), str("center"), i64(0)}
	b.Run("same", func(b *testing.B) {
		benchKernel(b, "TextRenderer", append([]value.Value{str("comfyrt")}, params...)...)
	})
	b.Run("changing", func(b *testing.B) {
		k := kernel(b, "TextRenderer")
		specs := []value.Spec{{Kind: value.Int}}
		for _, p := range params {
			specs = append(specs, value.ConstSpec(p))
		}
		outSpecs, err := k.Prepare(specs)
		if err != nil {
			b.Fatal(err)
		}
		out := []value.Value{value.New(outSpecs[0]), value.New(outSpecs[1])}
		in := append([]value.Value{i64(0)}, params...)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			in[0] = i64(int64(i))
			if err := k.Run(in, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
