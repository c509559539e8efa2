package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// quickShapeMask mirrors ComfyUI_RealTimeNodes QuickShapeMask
// (misc_nodes.py): a [batch_size, canvas_height, canvas_width] mask of 0
// with a shape of 1 centred on (x, y). With hw = width//2 and hh =
// height//2 the shape's box is [max(0,x−hw), min(canvas_width,x+hw)) by
// [max(0,y−hh), min(canvas_height,y+hh)); a square fills it, a circle
// keeps the pixels of the box with (X−x)²/(width/2)² + (Y−y)²/(height/2)² ≤
// 1 (float64, as numpy).
//
// The canvas and batch size the output; they must be known when the plan
// is built. The shape's size and position may come per frame (from a
// controller node): a linked INT is read on every Run.
type quickShapeMask struct {
	base
	circle     bool
	b, ch, cw  int
	geom       [4]linkedInt // width, height, x, y
	geomInputs [4]int       // their slots
}

func newQuickShapeMask(cfg nodes.Config) (nodes.Kernel, error) {
	return &quickShapeMask{base: base{cfg}}, nil
}

func (k *quickShapeMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "shape", "width", "height", "x", "y", "canvas_width", "canvas_height", "batch_size")
	shape := a.choice(0, "circle", "square")
	k.geomInputs = [4]int{1, 2, 3, 4}
	for i, slot := range k.geomInputs {
		minimum := int64(1)
		if i >= 2 {
			minimum = 0
		}
		k.geom[i] = newLinkedInt(a, slot, minimum)
	}
	cw, ch, b := a.int(5), a.int(6), a.int(7)
	for i, v := range []int64{cw, ch} {
		a.positive(5+i, v)
		if v > maxCanvasSide {
			a.errorf(5+i, "%d is more than %d pixels", v, maxCanvasSide)
		}
	}
	a.positive(7, b)
	if b > maxPictures {
		a.errorf(7, "%d is more than %d masks", b, maxPictures)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.circle, k.b, k.ch, k.cw = shape == 0, int(b), int(ch), int(cw)
	return []value.Spec{value.MaskSpec(k.b, k.ch, k.cw)}, nil
}

func (k *quickShapeMask) Run(in, out []value.Value) error {
	var g [4]int64
	for i, slot := range k.geomInputs {
		v, err := k.geom[i].get(in, slot)
		if err != nil {
			return err
		}
		g[i] = v
	}
	pic := k.ch * k.cw
	dst := out[0].Tensor.Data[:k.b*pic]
	first := dst[:pic]
	clear(first)
	k.draw(first, g[0], g[1], g[2], g[3])
	for p := 1; p < k.b; p++ {
		copy(dst[p*pic:(p+1)*pic], first)
	}
	return nil
}

// draw sets the shape's pixels of one cleared picture.
func (k *quickShapeMask) draw(m []float32, width, height, x, y int64) {
	hw, hh := width/2, height/2
	left, right := max(0, x-hw), min(int64(k.cw), x+hw)
	top, bottom := max(0, y-hh), min(int64(k.ch), y+hh)
	rx, ry := float64(width)/2, float64(height)/2
	rx2, ry2 := rx*rx, ry*ry
	for yy := top; yy < bottom; yy++ {
		row := m[yy*int64(k.cw) : (yy+1)*int64(k.cw)]
		dy := float64((yy - y) * (yy - y))
		for xx := left; xx < right; xx++ {
			if k.circle && float64((xx-x)*(xx-x))/rx2+dy/ry2 > 1 {
				continue
			}
			row[xx] = 1
		}
	}
}

// linkedInt is an INT input that is either known when the plan is built
// (a widget) or read on every Run (a link from a per-frame node).
type linkedInt struct {
	name     string
	konst    bool
	v, floor int64
}

// newLinkedInt checks slot i of a: a constant must be at least floor; a
// per-frame value must be an INT (or a FLOAT, truncated as Python's int()).
func newLinkedInt(a *args, i int, floor int64) linkedInt {
	f := linkedInt{name: a.name(i), floor: floor}
	s := a.spec(i)
	if s.Kind == value.None || s.Const != nil {
		f.konst, f.v = true, a.int(i)
		if f.v < floor || f.v > maxShapeInt {
			a.errorf(i, "must be within [%d, %d], got %d", floor, int64(maxShapeInt), f.v)
		}
		return f
	}
	if s.Kind != value.Int && s.Kind != value.Float {
		a.errorf(i, "want INT, got %s", s.Kind)
	}
	return f
}

// get returns the value for this Run.
func (f linkedInt) get(in []value.Value, slot int) (int64, error) {
	if f.konst {
		return f.v, nil
	}
	var v int64
	switch x := in[slot]; x.Kind {
	case value.Int:
		v = x.Int
	case value.Float:
		if x.Float != x.Float || x.Float > maxShapeInt+1 || x.Float < -1 {
			return 0, fmt.Errorf("input %s: %v is not an integer", f.name, x.Float)
		}
		v = int64(x.Float)
	default:
		return 0, fmt.Errorf("input %s: want INT, got %s", f.name, x.Kind)
	}
	if v < f.floor || v > maxShapeInt {
		return 0, fmt.Errorf("input %s: must be within [%d, %d], got %d", f.name, f.floor, int64(maxShapeInt), v)
	}
	return v, nil
}

// maxShapeInt bounds a shape's size and position (ComfyUI's widgets stop at
// 4096), so that squared distances stay exact.
const maxShapeInt = 1 << 24
