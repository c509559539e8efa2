package builtin

import (
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// growMask mirrors nodes_mask.py GrowMask: |expand| rounds of
// scipy.ndimage grey dilation (expand > 0) or erosion (expand < 0) with a
// 3×3 footprint, a cross when tapered_corners is set, else a square.
// scipy's default "reflect" border mode repeats the edge sample, which for
// a max or min over a 3×3 window is the same as ignoring what lies outside,
// and so it is done here.
//
// Each round is row-wise: a horizontal 3-tap max (min) of every row into
// k.rows, then the square takes the vertical 3-tap max of those, the cross
// the max of the centre row's horizontal result and the samples above and
// below. Go's min and max are order-independent over a set of float32
// (NaN absorbs, −0 < +0), so the result is the 3×3 (or cross) window's,
// as scipy computes it.
type growMask struct {
	base
	b, h, w int
	rounds  int
	erode   bool
	square  bool
	scratch []float32
	rows    []float32 // h·w: the horizontal pass of one picture
}

func newGrowMask(cfg nodes.Config) (nodes.Kernel, error) { return &growMask{base: base{cfg}}, nil }

func (k *growMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "mask", "expand", "tapered_corners")
	b, h, w := a.mask(0)
	expand := a.int(1)
	tapered := a.bool(2)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.b, k.h, k.w = b, h, w
	k.erode, k.square = expand < 0, !tapered
	k.rounds = int(min(max(expand, -expand), int64(h+w))) // more rounds change nothing
	k.scratch, k.rows = nil, nil
	if k.rounds > 0 {
		k.rows = make([]float32, h*w)
	}
	if k.rounds > 1 {
		k.scratch = make([]float32, b*h*w)
	}
	return []value.Spec{value.MaskSpec(b, h, w)}, nil
}

func (k *growMask) Run(in, out []value.Value) error {
	n := k.b * k.h * k.w
	if err := checkTensor(in[0], n, "mask"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[:n], out[0].Tensor.Data[:n]
	if k.rounds == 0 {
		copy(dst, src)
		return nil
	}
	// Ping-pong so that the last round writes dst.
	a, b := dst, k.scratch
	if k.rounds%2 == 0 {
		a, b = k.scratch, dst
	}
	cur := src
	for r := range k.rounds {
		next := a
		if r%2 == 1 {
			next = b
		}
		pic := k.h * k.w
		for p := range k.b {
			k.step(next[p*pic:(p+1)*pic], cur[p*pic:(p+1)*pic])
		}
		cur = next
	}
	return nil
}

// step is one round of dilation or erosion of one picture.
func (k *growMask) step(dst, src []float32) {
	h, w := k.h, k.w
	rows := k.rows[:h*w]
	for y := range h {
		r, s := rows[y*w:(y+1)*w], src[y*w:(y+1)*w]
		if k.erode {
			hmin3(r, s)
		} else {
			hmax3(r, s)
		}
	}
	for y := range h {
		d := dst[y*w : (y+1)*w]
		y0, y1 := max(y-1, 0), min(y+1, h-1)
		mid := rows[y*w : (y+1)*w]
		var up, down []float32
		if k.square {
			up, down = rows[y0*w:(y0+1)*w], rows[y1*w:(y1+1)*w]
		} else {
			up, down = src[y0*w:(y0+1)*w], src[y1*w:(y1+1)*w]
		}
		if k.erode {
			vmin3(d, up, mid, down)
		} else {
			vmax3(d, up, mid, down)
		}
	}
}

// hmax3 sets d[x] to the max of s[x-1..x+1] within the row.
func hmax3(d, s []float32) {
	n := len(s)
	d = d[:n]
	if n == 1 {
		d[0] = s[0]
		return
	}
	d[0] = max(s[0], s[1])
	for x := 1; x < n-1; x++ {
		t := s[x-1 : x+2 : x+2]
		d[x] = max(t[0], t[1], t[2])
	}
	d[n-1] = max(s[n-2], s[n-1])
}

// hmin3 is hmax3 with min.
func hmin3(d, s []float32) {
	n := len(s)
	d = d[:n]
	if n == 1 {
		d[0] = s[0]
		return
	}
	d[0] = min(s[0], s[1])
	for x := 1; x < n-1; x++ {
		t := s[x-1 : x+2 : x+2]
		d[x] = min(t[0], t[1], t[2])
	}
	d[n-1] = min(s[n-2], s[n-1])
}

// vmax3 sets d[x] to the max of a[x], b[x] and c[x].
func vmax3(d, a, b, c []float32) {
	n := len(d)
	a, b, c = a[:n], b[:n], c[:n]
	for x := range d {
		d[x] = max(a[x], b[x], c[x])
	}
}

// vmin3 is vmax3 with min.
func vmin3(d, a, b, c []float32) {
	n := len(d)
	a, b, c = a[:n], b[:n], c[:n]
	for x := range d {
		d[x] = min(a[x], b[x], c[x])
	}
}
