package builtin

import (
	"math"

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
//
// A picture whose samples are all exactly 0 or 1 (a thresholded mask, such
// as TextDetection's) runs the same rounds on bit sets (binaryGrow), with
// the same result.
type growMask struct {
	base
	b, h, w int
	rounds  int
	erode   bool
	square  bool
	scratch []float32
	rows    []float32 // h·w: the horizontal pass of one picture
	words   int       // 64-sample words per row of the binary path
	bits    [3][]uint64
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
	k.bits = [3][]uint64{}
	if k.rounds > 0 {
		k.rows = make([]float32, h*w)
		k.words = (w + 63) / 64
		for i := range k.bits {
			k.bits[i] = make([]uint64, h*k.words)
		}
	}
	if k.rounds > 1 {
		k.scratch = make([]float32, h*w)
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
	pic := k.h * k.w
	for p := range k.b {
		s, d := src[p*pic:(p+1)*pic], dst[p*pic:(p+1)*pic]
		if !k.binaryGrow(d, s) {
			k.rounds3(d, s)
		}
	}
	return nil
}

// rounds3 runs the rounds on one picture, ping-ponging with k.scratch so
// that the last round writes dst.
func (k *growMask) rounds3(dst, src []float32) {
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
		k.step(next, cur)
		cur = next
	}
}

// binaryGrow runs the rounds on a binary picture as bit sets, and
// reports false, writing nothing, when the picture is not binary: some
// sample is neither +0 nor 1 exactly (by bit pattern: −0 and NaN take the
// general way, which keeps them as scipy would). t is the value that
// spreads (1 when dilating, 0 when eroding: the erosion of a mask is the
// complement of the dilation of its complement, borders ignored alike),
// one bit per sample, 64 samples a word, so that a round is a few word
// operations per 64 samples.
func (k *growMask) binaryGrow(dst, src []float32) bool {
	t, other := float32(1), float32(0)
	var tBits uint32 = 0x3f800000
	if k.erode {
		t, other, tBits = 0, 1, 0
	}
	h, w, nw := k.h, k.w, k.words
	cur, next, hr := k.bits[0], k.bits[1], k.bits[2]
	for y := range h {
		row, s := cur[y*nw:(y+1)*nw], src[y*w:(y+1)*w]
		for i := range row {
			var word uint64
			var odd uint32 // bits of samples other than +0 and 1
			chunk := s[i*64 : min((i+1)*64, w)]
			for j, v := range chunk {
				b := math.Float32bits(v)
				x := b
				if x == 0x3f800000 {
					x = 0
				}
				odd |= x // nonzero unless b is +0 or 1
				var bit uint64
				if b == tBits {
					bit = 1
				}
				word |= bit << j
			}
			if odd != 0 {
				return false
			}
			row[i] = word
		}
	}
	tail := ^uint64(0) >> (uint(nw*64-w) & 63) // the last word's samples
	for range k.rounds {
		if k.square {
			for y := range h {
				horiz3(hr[y*nw:(y+1)*nw], cur[y*nw:(y+1)*nw], tail)
			}
			for y := range h {
				d, mid := next[y*nw:(y+1)*nw], hr[y*nw:(y+1)*nw]
				up, down := hr[max(y-1, 0)*nw:][:nw], hr[min(y+1, h-1)*nw:][:nw]
				for i := range d {
					d[i] = up[i] | mid[i] | down[i]
				}
			}
		} else {
			for y := range h {
				d := next[y*nw : (y+1)*nw]
				horiz3(d, cur[y*nw:(y+1)*nw], tail)
				up, down := cur[max(y-1, 0)*nw:][:nw], cur[min(y+1, h-1)*nw:][:nw]
				for i := range d {
					d[i] |= up[i] | down[i]
				}
			}
		}
		cur, next = next, cur
	}
	vals := [2]float32{other, t}
	for y := range h {
		row, d := cur[y*nw:(y+1)*nw], dst[y*w:(y+1)*w]
		for i, word := range row {
			chunk := d[i*64 : min((i+1)*64, w)]
			for j := range chunk {
				chunk[j] = vals[word>>j&1]
			}
		}
	}
	return true
}

// horiz3 sets each bit of d to the OR of the bit and its two neighbours
// in s (one row of samples, 64 a word; bits past the row's end stay 0).
func horiz3(d, s []uint64, tail uint64) {
	n := len(s)
	d = d[:n]
	for i, v := range s {
		x := v | v<<1 | v>>1
		if i > 0 {
			x |= s[i-1] >> 63
		}
		if i < n-1 {
			x |= s[i+1] << 63
		}
		d[i] = x
	}
	d[n-1] &= tail
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
