package builtin

import (
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// TestR2BudgetScratch_FiltersAndGrowMask: the kernels whose Prepare holds
// a picture-sized temporary (the separable convolution of ImageBlur,
// ImageSharpen and GaussianBlur; GrowMask's row pass, bit planes and
// ping-pong picture) declare at least what Prepare allocates, and not
// wildly more; a pass-through (radius 0, expand 0) declares nothing.
func TestR2BudgetScratch_FiltersAndGrowMask(t *testing.T) {
	img := value.ImageSpec(2, 512, 384)
	mask := value.MaskSpec(2, 512, 384)
	for _, c := range []struct {
		name, class string
		in          []value.Spec
	}{
		{"blur", "ImageBlur", []value.Spec{img, value.ConstSpec(i64(5)), value.ConstSpec(f64(1))}},
		{"sharpen", "ImageSharpen", []value.Spec{img, value.ConstSpec(i64(3)), value.ConstSpec(f64(1)), value.ConstSpec(f64(0.5))}},
		{"gaussian", "GaussianBlur", []value.Spec{img, value.ConstSpec(i64(31)), value.ConstSpec(f64(4)), value.ConstSpec(str("cpu"))}},
		{"grow one round", "GrowMask", []value.Spec{mask, value.ConstSpec(i64(1)), value.ConstSpec(boolean(true))}},
		{"grow many rounds", "GrowMask", []value.Spec{mask, value.ConstSpec(i64(-7)), value.ConstSpec(boolean(false))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			declared, got := declaredAllocated(t, c.class, c.in)
			if got < 512*384*4 {
				t.Fatalf("Prepare allocated only %d B: the case does not exercise the scratch", got)
			}
			if declared+4<<10 < got || declared > 8*got+64<<10 {
				t.Errorf("declared %d B, Prepare allocated %d B", declared, got)
			}
		})
	}
	for _, c := range []struct {
		class string
		in    []value.Spec
	}{
		{"ImageBlur", []value.Spec{img, value.ConstSpec(i64(0)), value.ConstSpec(f64(1))}},
		{"ImageSharpen", []value.Spec{img, value.ConstSpec(i64(0)), value.ConstSpec(f64(1)), value.ConstSpec(f64(0.5))}},
		{"GrowMask", []value.Spec{mask, value.ConstSpec(i64(0)), value.ConstSpec(boolean(true))}},
	} {
		if n, err := kernel(t, c.class).(nodes.Scratcher).Scratch(c.in); err != nil || n != 0 {
			t.Errorf("%s as a pass-through declares %d B (%v)", c.class, n, err)
		}
	}
}

// TestR2BudgetScratch_HugeFilterInputs: an 8192² blur declares its
// 768 MiB temporary, computed without allocating it.
func TestR2BudgetScratch_HugeFilterInputs(t *testing.T) {
	k := kernel(t, "ImageBlur").(nodes.Scratcher)
	n, err := k.Scratch([]value.Spec{value.ImageSpec(1, 8192, 8192), value.ConstSpec(i64(31)), value.ConstSpec(f64(1))})
	if err != nil || n < 8192*8192*3*4 {
		t.Errorf("an 8192² blur declares %d B (%v), want at least %d", n, err, 8192*8192*3*4)
	}
}
