package builtin

import (
	"testing"

	"comfyrt/nodes/value"
)

// benchKernel prepares class on in (512×512 pictures) and times Run.
func benchKernel(b *testing.B, class string, in ...value.Value) {
	k := kernel(b, class)
	out := prepare(b, k, in)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := k.Run(in, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKernels(b *testing.B) {
	img, img2 := randomImage(1, 1, 512, 512, 3), randomImage(2, 1, 512, 512, 3)
	m := randomMask(3, 1, 512, 512)
	cases := []struct {
		name  string
		class string
		in    []value.Value
	}{
		{"ImageInvert", "ImageInvert", []value.Value{img}},
		{"ImageBlur/r1", "ImageBlur", []value.Value{img, i64(1), f64(1)}},
		{"ImageBlur/r10", "ImageBlur", []value.Value{img, i64(10), f64(1)}},
		{"ImageSharpen/r1", "ImageSharpen", []value.Value{img, i64(1), f64(1), f64(1)}},
		{"GaussianBlur/k61", "GaussianBlur", []value.Value{img, i64(61), i64(7), str("cuda")}},
		{"ImageScale/bilinear-256", "ImageScale", []value.Value{img, str("bilinear"), i64(256), i64(256), str("disabled")}},
		{"ImageScale/bicubic-768", "ImageScale", []value.Value{img, str("bicubic"), i64(768), i64(768), str("disabled")}},
		{"ImageScale/area-256", "ImageScale", []value.Value{img, str("area"), i64(256), i64(256), str("disabled")}},
		{"ImageScale/lanczos-256", "ImageScale", []value.Value{img, str("lanczos"), i64(256), i64(256), str("disabled")}},
		{"ImageBlend/overlay", "ImageBlend", []value.Value{img, img2, f64(0.5), str("overlay")}},
		{"ImageCompositeMasked/mask", "ImageCompositeMasked", []value.Value{img, img2, i64(0), i64(0), boolean(false), m}},
		{"Composite", "Composite", []value.Value{img, img2, m, str("cuda")}},
		{"ThresholdMask", "ThresholdMask", []value.Value{m, f64(0.5)}},
		{"GrowMask/5", "GrowMask", []value.Value{m, i64(5), boolean(true)}},
		{"ImageToMask", "ImageToMask", []value.Value{img, str("red")}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) { benchKernel(b, tc.class, tc.in...) })
	}
}
