package builtin

import (
	"fmt"
	"math"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// The motion controls of ComfyUI_RealTimeNodes: ROINode describes a region
// of interest (a mask, an action, a value, the next ROI of a chain) and
// IntegerMotionController detects motion in each ROI of a chain between
// consecutive frames and changes its value by the ROI's action.

// roiActions are the pack's actions, in its order.
var roiActions = []string{"toggle", "momentary", "trigger", "counter", "add", "subtract", "multiply", "divide", "set"}

const (
	roiToggle = iota
	roiMomentary
	roiTrigger
	roiCounter
	roiAdd
	roiSubtract
	roiMultiply
	roiDivide
	roiSet
)

// roiBounds is an ROI's bounding box (inclusive), the pack's ROI id.
type roiBounds struct{ y0, x0, y1, x1 int }

// roi is the value of an ROI output (a Handle).
type roi struct {
	mask   []float32 // the ROI's mask (the first of the batch), h×w
	h, w   int
	bounds roiBounds
	action int
	value  float64
	next   *roi
}

// roiNode is ROINode. Its output is recomputed on each Run into the
// kernel's own roi.
type roiNode struct {
	base
	r roi
}

func newROINode(cfg nodes.Config) (nodes.Kernel, error) { return &roiNode{base: base{cfg}}, nil }

func (k *roiNode) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "mask", "action", "value", "next_roi")
	_, h, w := a.mask(0)
	act := a.choice(1, roiActions...)
	v := a.float(2)
	if a.present(3) && a.spec(3).Kind != value.Handle {
		a.errorf(3, "want ROI, got %s", a.spec(3).Kind)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if len(k.r.mask) != h*w {
		k.r.mask = make([]float32, h*w)
	}
	k.r.h, k.r.w, k.r.action, k.r.value = h, w, act, v
	return []value.Spec{{Kind: value.Handle}}, nil
}

func (k *roiNode) Run(in, out []value.Value) error {
	m := in[0].Tensor.Data
	if len(m) < len(k.r.mask) {
		return fmt.Errorf("input mask: %d values, prepared for %d", len(m), len(k.r.mask))
	}
	copy(k.r.mask, m)
	b, found := roiBounds{}, false
	for y := range k.r.h {
		for x := range k.r.w {
			if k.r.mask[y*k.r.w+x] == 0 {
				continue
			}
			if !found {
				b, found = roiBounds{y, x, y, x}, true
			}
			b.y0, b.y1 = min(b.y0, y), max(b.y1, y)
			b.x0, b.x1 = min(b.x0, x), max(b.x1, x)
		}
	}
	k.r.bounds = b // an empty mask: (0,0,0,0), as in the pack
	k.r.next = nil
	if len(in) > 3 && in[3].Kind == value.Handle {
		next, ok := in[3].Handle.(*roi)
		if !ok {
			return fmt.Errorf("input next_roi: not an ROI (%T)", in[3].Handle)
		}
		k.r.next = next
	}
	out[0] = value.OfHandle(&k.r)
	return nil
}

// roiState is the per-ROI state of a motion controller.
type roiState struct {
	active bool
	count  int64
}

// motionController is IntegerMotionController. The frame is turned into
// 8-bit grey (truncated, as numpy's uint8 cast; OpenCV's RGB→grey weights
// in its 14-bit fixed point), blurred with a Gaussian of blur_size (sigma
// from the size, as OpenCV's sigma 0, reflected borders; comfyrt blurs in
// floating point and rounds, so a pixel may differ by one grey level from
// OpenCV's fixed-point blur) and compared with the previous frame's. A
// pixel of an ROI moved when its grey changed by more than threshold·255;
// an ROI saw motion when the moving share of its mask exceeds threshold.
// The value starts at starting_value and changes by the actions of the
// ROIs that saw motion (see the pack); the output is the value rounded
// by rounding_mode and clamped to [minimum_value, maximum_value], and the
// mask of the moving pixels. ROI states no longer in the chain are
// forgotten every 60 s of stream time (the pack: of wall-clock time).
type motionController struct {
	base
	thresh         float64
	lo, hi, start  float64
	rounding       int
	h, w           int
	blur           []float32 // the Gaussian kernel
	gray, tmp, cur []float32
	prev           []float32
	havePrev       bool
	value          float64
	states         map[roiBounds]*roiState
	seen           map[roiBounds]bool
	now, cleaned   time.Duration
}

func newMotionController(cfg nodes.Config) (nodes.Kernel, error) {
	return &motionController{base: base{cfg}, states: map[roiBounds]*roiState{}, seen: map[roiBounds]bool{}}, nil
}

func (k *motionController) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "always_execute", "image", "roi_chain", "threshold", "blur_size", "minimum_value", "maximum_value",
		"starting_value", "rounding_mode")
	_, h, w, c := a.image(1)
	if c < 3 && a.Err() == nil {
		a.errorf(1, "want 3 channels, got %d", c)
	}
	if s := a.spec(2); s.Kind != value.Handle {
		a.errorf(2, "want ROI, got %s", s.Kind)
	}
	th, bs := a.float(3), a.int(4)
	if bs < 1 || bs%2 == 0 {
		a.errorf(4, "must be odd and positive (OpenCV's Gaussian kernel), got %d", bs)
	}
	lo, hi, start := float64(a.int(5)), float64(a.int(6)), float64(a.int(7))
	rounding := a.choice(8, "round", "floor", "ceil", "truncate")
	if err := a.Err(); err != nil {
		return nil, err
	}
	if h != k.h || w != k.w { // a new size: the state starts over
		n := h * w
		k.gray, k.tmp, k.cur, k.prev = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		k.havePrev, k.value = false, start
		clear(k.states)
	}
	if !k.havePrev {
		k.value = start
	}
	k.h, k.w, k.thresh, k.lo, k.hi, k.start, k.rounding = h, w, th, lo, hi, start, rounding
	k.blur = gaussKernel(int(bs))
	return []value.Spec{{Kind: value.Int}, value.MaskSpec(1, h, w)}, nil
}

// gaussKernel is OpenCV's Gaussian kernel of size n for sigma 0: its fixed
// tables for n ≤ 7, else sigma = 0.3·((n−1)/2 − 1) + 0.8.
func gaussKernel(n int) []float32 {
	switch n {
	case 1:
		return []float32{1}
	case 3:
		return []float32{0.25, 0.5, 0.25}
	case 5:
		return []float32{0.0625, 0.25, 0.375, 0.25, 0.0625}
	case 7:
		return []float32{0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125}
	}
	sigma := 0.3*(float64(n-1)*0.5-1) + 0.8
	k := make([]float32, n)
	var sum float64
	ws := make([]float64, n)
	for i := range n {
		x := float64(i - (n-1)/2)
		ws[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += ws[i]
	}
	for i := range n {
		k[i] = float32(ws[i] / sum)
	}
	return k
}

// SetFrameTime takes the frame's time (for the forgetting of ROI states).
func (k *motionController) SetFrameTime(t nodes.FrameTime) { k.now = t.PTS }

func (k *motionController) Run(in, out []value.Value) error {
	img := in[1].Tensor.Data
	_, _, _, c, _ := value.ImageDims(in[1].Tensor.Shape)
	if len(img) < k.h*k.w*c || c < 3 {
		return fmt.Errorf("input image: shape %s, prepared for %d×%d", value.ShapeString(in[1].Tensor.Shape), k.w, k.h)
	}
	chain, ok := in[2].Handle.(*roi)
	if !ok {
		return fmt.Errorf("input roi_chain: not an ROI (%T)", in[2].Handle)
	}
	for r := chain; r != nil; r = r.next {
		if r.h != k.h || r.w != k.w {
			return fmt.Errorf("input roi_chain: ROI mask %d×%d differs from the image %d×%d", r.w, r.h, k.w, k.h)
		}
	}
	k.grey(img, c)
	motion := out[1].Tensor.Data
	clear(motion)
	if k.havePrev {
		clear(k.seen)
		for r := chain; r != nil; r = r.next {
			k.seen[r.bounds] = true
			k.apply(r, k.detect(r, motion))
		}
		if k.now-k.cleaned > time.Minute {
			for b := range k.states {
				if !k.seen[b] {
					delete(k.states, b)
				}
			}
			k.cleaned = k.now
		}
	} else {
		k.cleaned = k.now
	}
	k.prev, k.cur = k.cur, k.prev
	k.havePrev = true
	out[0] = value.OfInt(k.output())
	return nil
}

// grey makes k.cur the blurred 8-bit grey of the frame.
func (k *motionController) grey(img []float32, c int) {
	for i := range k.gray {
		r, g, b := u8(img[i*c]), u8(img[i*c+1]), u8(img[i*c+2])
		k.gray[i] = float32((r*4899 + g*9617 + b*1868 + 1<<13) >> 14)
	}
	r := len(k.blur) / 2
	for y := range k.h {
		for x := range k.w {
			var s float32
			for j, wt := range k.blur {
				s += wt * k.gray[y*k.w+reflect101(x+j-r, k.w)]
			}
			k.tmp[y*k.w+x] = s
		}
	}
	for y := range k.h {
		for x := range k.w {
			var s float32
			for j, wt := range k.blur {
				s += wt * k.tmp[reflect101(y+j-r, k.h)*k.w+x]
			}
			k.cur[y*k.w+x] = float32(math.Floor(float64(s) + 0.5))
		}
	}
}

// u8 is numpy's (x*255).astype(uint8) for x in [0, 1] (clamped).
func u8(x float32) int { return int(min(max(x*255, 0), 255)) }

// detect marks the moving pixels of r in motion and says whether r saw
// motion.
func (k *motionController) detect(r *roi, motion []float32) bool {
	b := r.bounds
	lim := float32(k.thresh * 255)
	var moved, area int
	for y := b.y0; y <= b.y1; y++ {
		for x := b.x0; x <= b.x1; x++ {
			i := y*k.w + x
			if r.mask[i] <= 0.5 {
				continue
			}
			area++
			if abs32(k.cur[i]-k.prev[i]) > lim {
				moved++
				motion[i] = 1
			}
		}
	}
	return area > 0 && float64(moved)/float64(area) > k.thresh
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
