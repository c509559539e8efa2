package builtin

import (
	"slices"
	"testing"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// fpsRun runs an FPSMonitor at frame times pts and returns, per frame, the
// overlay's text and a copy of its mask.
func fpsRun(t *testing.T, window int64, pts ...time.Duration) (texts []string, masks [][]float32) {
	t.Helper()
	k := kernel(t, "FPSMonitor")
	in := []value.Value{boolean(true), i64(256), i64(64), i64(200), f64(1), i64(window)}
	out := prepare(t, k, in)
	wantShape(t, out[0], 1, 64, 256, 3)
	wantShape(t, out[1], 1, 64, 256)
	for i, p := range pts {
		k.(nodes.Clocked).SetFrameTime(nodes.FrameTime{PTS: p, Index: int64(i)})
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(k.(*fpsMonitor).text))
		masks = append(masks, append([]float32(nil), out[1].Tensor.Data...))
		for j, m := range out[1].Tensor.Data {
			if c := out[0].Tensor.Data[3*j]; (m == 1) != (c == float32(200)/255) || (m != 0 && m != 1) {
				t.Fatalf("frame %d pixel %d: mask %v, image %v", i, j, m, c)
			}
		}
	}
	return texts, masks
}

// TestFPSMonitor: the rates come from the frame timestamps: the current
// one from the last interval, the average over the window; the first
// frame shows 0 (an interval of 0, as in the pack).
func TestFPSMonitor(t *testing.T) {
	ms := time.Millisecond
	texts, masks := fpsRun(t, 3, 0, 40*ms, 80*ms, 120*ms, 220*ms, 320*ms, 420*ms)
	want := []string{
		"FPS: 0.0 (avg: 0.0)",
		"FPS: 25.0 (avg: 50.0)", // intervals 0, 0.04: mean 0.02
		"FPS: 25.0 (avg: 37.5)", // 0, 0.04, 0.04
		"FPS: 25.0 (avg: 25.0)", // window 3: 0.04 ×3
		"FPS: 10.0 (avg: 16.7)", // 0.04, 0.04, 0.1
		"FPS: 10.0 (avg: 12.5)", // 0.04, 0.1, 0.1
		"FPS: 10.0 (avg: 10.0)",
	}
	for i := range want {
		if texts[i] != want[i] {
			t.Errorf("frame %d: %q, want %q", i, texts[i], want[i])
		}
	}
	lit := 0
	for _, m := range masks[1] {
		if m == 1 {
			lit++
		}
	}
	if lit < 100 {
		t.Errorf("%d text pixels: nothing drawn", lit)
	}
	if slices.Equal(masks[1], masks[4]) {
		t.Error("a different text gives the same overlay")
	}
	// The same timestamps give the same overlays.
	again, masks2 := fpsRun(t, 3, 0, 40*ms, 80*ms, 120*ms, 220*ms, 320*ms, 420*ms)
	for i := range masks {
		if again[i] != texts[i] || !slices.Equal(masks[i], masks2[i]) {
			t.Fatalf("frame %d differs between two runs", i)
		}
	}
}

// Small changes keep the cached overlay (the pack's redraw thresholds).
func TestFPSMonitor_redrawThreshold(t *testing.T) {
	ms := time.Millisecond
	texts, _ := fpsRun(t, 1, 0, 40*ms, 80*ms, 120500*time.Microsecond)
	// 1/0.0405 = 24.7: within 1 of 25, and within 0.5 for the average: not redrawn.
	if texts[3] != "FPS: 25.0 (avg: 25.0)" {
		t.Errorf("a change under the thresholds redrew: %q", texts[3])
	}
}
