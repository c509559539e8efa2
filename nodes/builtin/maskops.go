package builtin

import (
	"fmt"
	"math"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// Mask kernels of comfy_extras/nodes_mask.py: MaskComposite, FeatherMask,
// CropMask and ImageColorToMask. Masks given as [H,W] are a batch of one,
// as ComfyUI's reshape((-1, H, W)) makes them.

// maskOps are MaskComposite's operations, in the combo's order.
var maskOps = []string{"multiply", "add", "subtract", "and", "or", "xor"}

const (
	opMultiply = iota
	opAdd
	opSubtract
	opAnd
	opOr
	opXor
)

// maskComposite mirrors MaskComposite: the source is placed at (x, y) on
// the destination, cut at the destination's right and bottom edges, and
// the overlap becomes destination op source — multiply, add, subtract, or
// the logical and/or/xor of the two rounded to booleans (round() half to
// even, so a value counts as true when |v| > 0.5, NaN too), as 0 or 1 —
// and then the whole output is clamped to [0,1]. Batches: the source's
// batch equals the destination's or is 1 (broadcast), as torch's
// broadcasting allows; otherwise Prepare says so. An offset at or past the
// destination's width or height leaves no overlap: the output is the
// clamped destination (ComfyUI gives the same for an offset equal to the
// size, and fails with a size mismatch beyond it).
type maskComposite struct {
	base
	bd, hd, wd int
	bs, hs, ws int
	x, y       int
	vw, vh     int // visible overlap (0 when none)
	op         int
}

func newMaskComposite(cfg nodes.Config) (nodes.Kernel, error) {
	return &maskComposite{base: base{cfg}}, nil
}

func (k *maskComposite) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "destination", "source", "x", "y", "operation")
	bd, hd, wd := a.mask(0)
	bs, hs, ws := a.mask(1)
	x, y := a.int(2), a.int(3)
	op := a.choice(4, maskOps...)
	notNegative(a, 2, x)
	notNegative(a, 3, y)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if bs != bd && bs != 1 {
		return nil, fmt.Errorf("input source: a batch of %d masks does not broadcast to the destination's %d (equal batches or a single source mask)", bs, bd)
	}
	*k = maskComposite{base: k.base, bd: bd, hd: hd, wd: wd, bs: bs, hs: hs, ws: ws, op: op}
	if x < int64(wd) && y < int64(hd) {
		k.x, k.y = int(x), int(y)
		k.vw, k.vh = min(k.x+ws, wd)-k.x, min(k.y+hs, hd)-k.y
	}
	return []value.Spec{value.MaskSpec(bd, hd, wd)}, nil
}

func (k *maskComposite) Run(in, out []value.Value) error {
	nd, ns := k.bd*k.hd*k.wd, k.bs*k.hs*k.ws
	if err := checkTensor(in[0], nd, "destination"); err != nil {
		return err
	}
	if err := checkTensor(in[1], ns, "source"); err != nil {
		return err
	}
	dst, src := out[0].Tensor.Data[:nd], in[1].Tensor.Data[:ns]
	for i, v := range in[0].Tensor.Data[:nd] {
		dst[i] = clamp01(v)
	}
	dpic, spic := k.hd*k.wd, k.hs*k.ws
	for b := range k.bd {
		sp := src[(b%k.bs)*spic:][:spic]
		dp, op := in[0].Tensor.Data[b*dpic:][:dpic], dst[b*dpic:][:dpic]
		for yy := range k.vh {
			o := (k.y+yy)*k.wd + k.x
			maskOp(k.op, op[o:o+k.vw], dp[o:o+k.vw], sp[yy*k.ws:][:k.vw])
		}
	}
	return nil
}

// maskOp sets out to clamp(d op s) over one row.
func maskOp(op int, out, d, s []float32) {
	n := len(out)
	d, s = d[:n], s[:n]
	switch op {
	case opMultiply:
		for i := range out {
			out[i] = clamp01(d[i] * s[i])
		}
	case opAdd:
		for i := range out {
			out[i] = clamp01(d[i] + s[i])
		}
	case opSubtract:
		for i := range out {
			out[i] = clamp01(d[i] - s[i])
		}
	default:
		for i := range out {
			p, q := roundedTrue(d[i]), roundedTrue(s[i])
			var r bool
			switch op {
			case opAnd:
				r = p && q
			case opOr:
				r = p || q
			default:
				r = p != q
			}
			out[i] = 0
			if r {
				out[i] = 1
			}
		}
	}
}

// roundedTrue is bool(round(v)) in torch: round half to even gives 0 for
// |v| ≤ 0.5, and NaN is true. By bit pattern: |v| > 0.5, NaN included.
func roundedTrue(v float32) bool { return math.Float32bits(v)&0x7fffffff > 0x3f000000 }

// notNegative records an error for a negative offset (ComfyUI's minimum is
// 0; Python would count a negative slice from the end).
func notNegative(a *args, i int, v int64) {
	if v < 0 {
		a.errorf(i, "must not be negative, got %d", v)
	}
}

// featherMask mirrors FeatherMask: each edge is faded over its width
// (clamped to the mask's size) by multiplying column x (row y) from that
// edge with (x+1)/left and so on, in the order left, right, top, bottom.
// ComfyUI indexes the right and bottom edges as output[:, :, -x], so its
// first factor, 1/right, lands on column 0 (and 1/bottom on row 0) rather
// than on the last column: that is what this kernel does too. Factors are
// float64 rates rounded to float32, as torch multiplies a float32 tensor
// by a Python float.
type featherMask struct {
	base
	b, h, w      int
	left, right  []float32 // per column
	top, bottom  []float32 // per row
	anyL, anyR   bool
	anyT, anyBot bool
}

func newFeatherMask(cfg nodes.Config) (nodes.Kernel, error) {
	return &featherMask{base: base{cfg}}, nil
}

func (k *featherMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "mask", "left", "top", "right", "bottom")
	b, h, w := a.mask(0)
	l, t, r, bo := a.int(1), a.int(2), a.int(3), a.int(4)
	for i, v := range []int64{l, t, r, bo} {
		notNegative(a, i+1, v)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	*k = featherMask{base: k.base, b: b, h: h, w: w}
	k.left, k.anyL = edgeFactors(w, int(min(l, int64(w))), false)
	k.right, k.anyR = edgeFactors(w, int(min(r, int64(w))), true)
	k.top, k.anyT = edgeFactors(h, int(min(t, int64(h))), false)
	k.bottom, k.anyBot = edgeFactors(h, int(min(bo, int64(h))), true)
	return []value.Spec{value.MaskSpec(b, h, w)}, nil
}

// edgeFactors returns n factors, 1 except for the fade of width e: index
// i < e gets (i+1)/e from the start, or, from the end, index −i (Python)
// gets (i+1)/e. ok is false when e is 0 (all ones).
func edgeFactors(n, e int, fromEnd bool) ([]float32, bool) {
	f := make([]float32, n)
	for i := range f {
		f[i] = 1
	}
	for i := range e {
		j := i
		if fromEnd && i > 0 {
			j = n - i
		}
		f[j] = float32(float64(i+1) / float64(e))
	}
	return f, e > 0
}

func (k *featherMask) Run(in, out []value.Value) error {
	n := k.b * k.h * k.w
	if err := checkTensor(in[0], n, "mask"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[:n], out[0].Tensor.Data[:n]
	copy(dst, src)
	for p := range k.b * k.h {
		row := dst[p*k.w : (p+1)*k.w]
		if k.anyL {
			mulRow(row, k.left)
		}
		if k.anyR {
			mulRow(row, k.right)
		}
	}
	for p := range k.b * k.h {
		row, y := dst[p*k.w:(p+1)*k.w], p%k.h
		if k.anyT {
			scaleRow(row, k.top[y])
		}
		if k.anyBot {
			scaleRow(row, k.bottom[y])
		}
	}
	return nil
}

func mulRow(row, f []float32) {
	f = f[:len(row)]
	for i := range row {
		row[i] *= f[i]
	}
}

func scaleRow(row []float32, f float32) {
	if f == 1 {
		return
	}
	for i := range row {
		row[i] *= f
	}
}

// Scratch is the four factor tables: two of w and two of h floats.
func (k *featherMask) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "mask", "left", "top", "right", "bottom")
	_, h, w := a.mask(0)
	if a.Err() != nil {
		return 0, nil
	}
	return mulSat(8, addSat(int64(h), int64(w))), nil
}

// cropMask mirrors CropMask: mask[:, y:y+height, x:x+width], cut at the
// mask's edges as Python slices are. A crop that starts at or past the
// right or bottom edge would be empty, which a tensor here cannot be: Prepare
// says so, naming x or y.
type cropMask struct {
	base
	b, h, w      int
	x, y, ow, oh int
}

func newCropMask(cfg nodes.Config) (nodes.Kernel, error) { return &cropMask{base: base{cfg}}, nil }

func (k *cropMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "mask", "x", "y", "width", "height")
	b, h, w := a.mask(0)
	x, y, cw, ch := a.int(1), a.int(2), a.int(3), a.int(4)
	notNegative(a, 1, x)
	notNegative(a, 2, y)
	a.positive(3, cw)
	a.positive(4, ch)
	if a.Err() == nil {
		if x >= int64(w) {
			a.errorf(1, "%d is at or past the mask's width %d: the crop would be empty", x, w)
		}
		if y >= int64(h) {
			a.errorf(2, "%d is at or past the mask's height %d: the crop would be empty", y, h)
		}
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	*k = cropMask{base: k.base, b: b, h: h, w: w, x: int(x), y: int(y)}
	k.ow, k.oh = int(min(cw, int64(w)-x)), int(min(ch, int64(h)-y))
	return []value.Spec{value.MaskSpec(b, k.oh, k.ow)}, nil
}

func (k *cropMask) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.b*k.h*k.w, "mask"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data, out[0].Tensor.Data
	o := 0
	for b := range k.b {
		for y := range k.oh {
			s := (b*k.h+k.y+y)*k.w + k.x
			copy(dst[o:o+k.ow], src[s:s+k.ow])
			o += k.ow
		}
	}
	return nil
}

// imageColorToMask mirrors ImageColorToMask: each pixel's RGB, clamped to
// [0,1], times 255 and rounded half to even (float32, as torch), packed as
// 0xRRGGBB, compared with color. ComfyUI's output is 255 where it matches
// (torch.where(temp == color, 255, 0)), not 1, and so is this kernel's. A
// fourth (alpha) channel is ignored.
type imageColorToMask struct {
	base
	px, c int
	color int64
}

func newImageColorToMask(cfg nodes.Config) (nodes.Kernel, error) {
	return &imageColorToMask{base: base{cfg}}, nil
}

func (k *imageColorToMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "color")
	b, h, w, c := a.image(0)
	color := a.int(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c < 3 {
		return nil, fmt.Errorf("input image: want 3 or 4 channels, got %d", c)
	}
	k.px, k.c, k.color = b*h*w, c, color
	return []value.Spec{value.MaskSpec(b, h, w)}, nil
}

func (k *imageColorToMask) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.px*k.c, "image"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data, out[0].Tensor.Data[:k.px]
	for i := range dst {
		p := src[i*k.c : i*k.c+3 : i*k.c+3]
		r, g, b := byte255(p[0]), byte255(p[1]), byte255(p[2])
		var m float32
		if (r|g|b) >= 0 && r<<16+g<<8+b == k.color {
			m = 255
		}
		dst[i] = m
	}
	return nil
}

// byte255 is round(clamp(v,0,1)·255) in float32, half to even; −1 for NaN
// (torch's conversion of NaN to int gives a value no colour matches).
func byte255(v float32) int64 {
	if v != v {
		return -1
	}
	x := float64(clamp01(v)*255) + 0.5 // exact in float64
	r := int64(x)
	if float64(r) == x && r&1 == 1 { // a tie, rounded up to odd: to even
		r--
	}
	return r
}
