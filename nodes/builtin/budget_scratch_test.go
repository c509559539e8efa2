package builtin

import (
	"image"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"comfyrt/internal/testkit"
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

// leastAllocated is allocated for a fresh kernel of class, three times,
// and returns the least. TotalAlloc counts the whole process, so another
// goroutine (or the runtime's own bookkeeping) can add a few KiB to one
// measurement (CI once saw 6 KB more than Prepare's own); such noise only
// ever adds. Fresh kernels, because a kernel may keep what its first
// Prepare made.
func leastAllocated(t *testing.T, class string, specs []value.Spec) int64 {
	t.Helper()
	least := int64(-1)
	for range 3 {
		if n := allocated(t, kernel(t, class), specs); least < 0 || n < least {
			least = n
		}
	}
	return least
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
			declared, got := declaredAllocated(t, c.class, c.in)
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

// TestBudgetScratch_LoadImage: LoadImage declares the decoded picture from
// the file's header: about what Prepare allocates for a real picture, and
// the full size for a file whose header claims 100000×100000 pixels
// (which Prepare would try to allocate), read without decoding it.
func TestBudgetScratch_LoadImage(t *testing.T) {
	dir := t.TempDir()
	testkit.WritePNG(t, filepath.Join(dir, "a.png"), image.NewNRGBA(image.Rect(0, 0, 300, 200)))
	if err := os.WriteFile(filepath.Join(dir, "bomb.png"), testkit.HeaderPNG(100000, 100000, testkit.EmptyZlib), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := registry(t).New(nodes.Config{NodeID: "1", Class: "LoadImage", InputDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sc := k.(nodes.Scratcher)
	in := []value.Spec{value.ConstSpec(str("a.png"))}
	declared, err := sc.Scratch(in)
	if err != nil {
		t.Fatal(err)
	}
	got := allocated(t, k, in)
	t.Logf("declared %d B, allocated %d B", declared, got)
	if declared+4<<10 < got || declared > 8*got+64<<10 {
		t.Errorf("declared %d B, Prepare allocated %d B", declared, got)
	}
	// Over --max-image-pixels: Prepare refuses it before decoding (with
	// the limit in its message), so it declares nothing.
	if n, err := sc.Scratch([]value.Spec{value.ConstSpec(str("bomb.png"))}); err != nil || n != 0 {
		t.Errorf("the 100000² bomb over the pixel limit declares %d B (%v)", n, err)
	}
	// With the pixel limit raised, the budget is what refuses it.
	kb, err := registry(t).New(nodes.Config{NodeID: "1", Class: "LoadImage", InputDir: dir, MaxImagePixels: 1e11})
	if err != nil {
		t.Fatal(err)
	}
	n, err := kb.(nodes.Scratcher).Scratch([]value.Spec{value.ConstSpec(str("bomb.png"))})
	if err != nil || n < 100000*100000*12 {
		t.Errorf("the 100000² bomb declares %d B (%v)", n, err)
	}
	if n, _ := sc.Scratch([]value.Spec{value.ImageSpec(1, 512, 512)}); n != 0 {
		t.Errorf("bound as the frame it declares %d B", n)
	}
}

// declaredAllocated returns the scratch a kernel of class declares for in
// and the bytes its Prepare allocates.
func declaredAllocated(t *testing.T, class string, in []value.Spec) (declared, got int64) {
	t.Helper()
	k := kernel(t, class)
	sc, ok := k.(nodes.Scratcher)
	if !ok {
		t.Fatalf("%s is not a nodes.Scratcher", class)
	}
	declared, err := sc.Scratch(in)
	if err != nil {
		t.Fatal(err)
	}
	got = leastAllocated(t, class, in)
	t.Logf("declared %d B, allocated %d B", declared, got)
	return declared, got
}
