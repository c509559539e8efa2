package builtin

import (
	"runtime"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// allocated returns the bytes Prepare allocates for specs.
func allocated(t *testing.T, k nodes.Kernel, specs []value.Spec) int64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := k.Prepare(specs); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// TestBudgetScratch_BoundsWhatPrepareAllocates: each Scratcher declares at
// least what its Prepare allocates (less a little for small bookkeeping),
// and not wildly more.
func TestBudgetScratch_BoundsWhatPrepareAllocates(t *testing.T) {
	img := func(b, h, w int) value.Spec { return value.ImageSpec(b, h, w) }
	for _, c := range []struct {
		name, class string
		in          []value.Spec
	}{
		{"scale by 8 bilinear", "ImageScaleBy", []value.Spec{img(1, 64, 64), value.ConstSpec(str("bilinear")), value.ConstSpec(f64(8))}},
		{"scale by 8 lanczos", "ImageScaleBy", []value.Spec{img(1, 64, 64), value.ConstSpec(str("lanczos")), value.ConstSpec(f64(8))}},
		{"scale down area", "ImageScaleBy", []value.Spec{img(1, 1024, 1024), value.ConstSpec(str("area")), value.ConstSpec(f64(0.1))}},
		{"scale to tall", "ImageScale", []value.Spec{img(1, 16, 2048), value.ConstSpec(str("bicubic")), value.ConstSpec(i64(16)), value.ConstSpec(i64(2048)), value.ConstSpec(str("disabled"))}},
		{"blend resizes a batch", "ImageBlend", []value.Spec{img(1, 256, 256), img(16, 32, 32), value.ConstSpec(f64(0.5)), value.ConstSpec(str("normal"))}},
		{"composite resizes", "ImageCompositeMasked", []value.Spec{img(1, 256, 256), img(4, 32, 32), value.ConstSpec(i64(0)), value.ConstSpec(i64(0)), value.ConstSpec(boolean(true)), value.MaskSpec(1, 64, 64)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := kernel(t, c.class)
			sc, ok := k.(nodes.Scratcher)
			if !ok {
				t.Fatalf("%s is not a nodes.Scratcher", c.class)
			}
			declared, err := sc.Scratch(c.in)
			if err != nil {
				t.Fatal(err)
			}
			got := allocated(t, k, c.in)
			t.Logf("declared %d B, allocated %d B", declared, got)
			if declared+4<<10 < got || declared > 8*got+64<<10 {
				t.Errorf("declared %d B, Prepare allocated %d B", declared, got)
			}
		})
	}
}

// TestBudgetScratch_HugeInputsDoNotOverflow: the declaration of a resize
// to a size no machine holds is huge and positive, and computing it
// allocates nothing of that size.
func TestBudgetScratch_HugeInputsDoNotOverflow(t *testing.T) {
	k := kernel(t, "ImageScaleBy").(nodes.Scratcher)
	n, err := k.Scratch([]value.Spec{value.ImageSpec(4096, 131072, 131072), value.ConstSpec(str("lanczos")), value.ConstSpec(f64(8))})
	if err != nil {
		t.Fatal(err)
	}
	if n < 1<<38 {
		t.Errorf("scratch of an 8× lanczos upscale of 131072² is %d B", n)
	}
}
