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
type growMask struct {
	base
	b, h, w int
	rounds  int
	erode   bool
	square  bool
	scratch []float32
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
	k.scratch = nil
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
	for y := range h {
		y0, y1 := max(y-1, 0), min(y+1, h-1)
		for x := range w {
			x0, x1 := max(x-1, 0), min(x+1, w-1)
			v := src[y*w+x]
			for yy := y0; yy <= y1; yy++ {
				for xx := x0; xx <= x1; xx++ {
					if !k.square && yy != y && xx != x {
						continue // a corner of the cross footprint
					}
					s := src[yy*w+xx]
					if k.erode {
						v = min(v, s)
					} else {
						v = max(v, s)
					}
				}
			}
			dst[y*w+x] = v
		}
	}
}
