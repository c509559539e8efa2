package builtin

import (
	"fmt"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// fpsMonitor is ComfyUI_RealTimeNodes' FPSMonitor: a width×height IMAGE
// (black, the text in grey text_color/255) and its MASK (1 on the text)
// showing "FPS: <current> (avg: <average>)", the current rate from the
// time since the previous frame and the average over the last window_size
// intervals (0 until an interval is known; the first frame's interval is
// 0, as in the pack). The pack measures the wall clock; comfyrt measures
// the frames' timestamps (nodes.FrameTime), so the overlay shows the
// stream's frame rate and a run on a file is reproducible. As in the
// pack, the text is redrawn only when the current rate moved by more
// than 1 or the average by more than 0.5; it is drawn at (10, 30) with
// comfyrt's own stroke font at text_size (the pack uses OpenCV's Hershey
// simplex font: same place and size, other strokes).
type fpsMonitor struct {
	base
	w, h           int
	color          float32
	size           float64
	window         int
	always         bool
	now, last      time.Duration
	times          []float64 // the last window_size intervals, s
	lastFPS, lastA float64
	drawn          bool
	img, mask      []float32 // the cached overlay
	text           []byte
}

func newFPSMonitor(cfg nodes.Config) (nodes.Kernel, error) { return &fpsMonitor{base: base{cfg}}, nil }

func (k *fpsMonitor) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "always_execute", "width", "height", "text_color", "text_size", "window_size")
	always := a.bool(0)
	w, h, col, size, win := a.int(1), a.int(2), a.int(3), a.float(4), a.int(5)
	a.positive(1, w)
	a.positive(2, h)
	a.positive(5, win)
	if w*h > 1<<26 {
		a.errorf(1, "%d×%d is too large", w, h)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if int(w) != k.w || int(h) != k.h {
		k.img, k.mask, k.drawn = make([]float32, w*h*3), make([]float32, w*h), false
	}
	if c := float32(min(max(col, 0), 255)) / 255; c != k.color || size != k.size {
		k.drawn = false
		k.color, k.size = c, size
	}
	k.w, k.h, k.window, k.always = int(w), int(h), int(win), always
	if cap(k.times) < k.window {
		k.times = make([]float64, 0, k.window)
	}
	return []value.Spec{value.ImageSpec(1, k.h, k.w), value.MaskSpec(1, k.h, k.w)}, nil
}

// SetFrameTime takes the time of the frame about to run.
func (k *fpsMonitor) SetFrameTime(t nodes.FrameTime) { k.now = t.PTS }

func (k *fpsMonitor) Run(_, out []value.Value) error {
	if k.always || !k.drawn {
		k.measure()
	}
	copy(out[0].Tensor.Data, k.img)
	copy(out[1].Tensor.Data, k.mask)
	return nil
}

// measure takes the interval since the last frame and redraws the
// overlay when the pack would.
func (k *fpsMonitor) measure() {
	if !k.drawn && len(k.times) == 0 {
		k.last = k.now // the first frame: an interval of 0
	}
	dt := (k.now - k.last).Seconds()
	k.last = k.now
	fps := 0.0
	if dt > 0 {
		fps = 1 / dt
	}
	if len(k.times) >= k.window {
		n := copy(k.times, k.times[len(k.times)-k.window+1:])
		k.times = k.times[:n]
	}
	k.times = append(k.times, dt)
	sum := 0.0
	for _, t := range k.times {
		sum += t
	}
	avg := 0.0
	if d := sum / float64(len(k.times)); d > 0 {
		avg = 1 / d
	}
	if k.drawn && abs64(fps-k.lastFPS) <= 1 && abs64(avg-k.lastA) <= 0.5 {
		return
	}
	k.lastFPS, k.lastA, k.drawn = fps, avg, true
	clear(k.img)
	clear(k.mask)
	k.text = fmt.Appendf(k.text[:0], "FPS: %.1f (avg: %.1f)", fps, avg)
	drawText(string(k.text), 10, 30, k.size, k.w, k.h, func(x, y int) {
		i := y*k.w + x
		k.mask[i] = 1
		k.img[3*i], k.img[3*i+1], k.img[3*i+2] = k.color, k.color, k.color
	})
}

func abs64(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
