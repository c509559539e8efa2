package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// imageCompositeMasked mirrors nodes_mask.py ImageCompositeMasked (the
// composite helper with multiplier 1): the source, resized bilinearly to
// the destination first when resize_source is set, is pasted at (x, y) —
// clamped to the destination's size, cut at its edges — through the mask
// (resized bilinearly to the source's size; all ones when absent):
// m·source + (1−m)·destination. Source and mask batches repeat to the
// destination's batch (comfy.utils.repeat_to_batch_size). x and y linked
// to a per-frame node (an IntControl, say) are read on every Run and
// clamped as the helper clamps them, to [−source size, destination
// size]: a negative offset cuts the source's left or top.
type imageCompositeMasked struct {
	base
	bd, hd, wd, c int
	bs, hs, ws    int // source after resizing
	bm            int // mask batch (0: no mask)
	x, y, vw, vh  int // where the source lands, and the visible size
	sx, sy        int // the source's first visible column and row
	liveX, liveY  bool
	srcRS, maskRS *resampler
	srcBuf, mBuf  []float32
	nd, ns, nm    int // element counts of the inputs as given
}

func newImageCompositeMasked(cfg nodes.Config) (nodes.Kernel, error) {
	return &imageCompositeMasked{base: base{cfg}}, nil
}

func (k *imageCompositeMasked) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "destination", "source", "x", "y", "resize_source", "mask")
	bd, hd, wd, c := a.image(0)
	bs, hs, ws, cs := a.image(1)
	liveX, liveY := perFrameInt(a.spec(2)), perFrameInt(a.spec(3))
	var x, y int64
	if !liveX {
		x = a.int(2)
	}
	if !liveY {
		y = a.int(3)
	}
	resize := a.bool(4)
	var bm, hm, wm int
	if a.present(5) {
		bm, hm, wm = a.mask(5)
	}
	if x < 0 {
		a.errorf(2, "must not be negative, got %d", x)
	}
	if y < 0 {
		a.errorf(3, "must not be negative, got %d", y)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c != cs {
		return nil, fmt.Errorf("destination has %d channels and source %d", c, cs)
	}
	*k = imageCompositeMasked{base: k.base, bd: bd, hd: hd, wd: wd, c: c, bs: bs, hs: hs, ws: ws, bm: bm, liveX: liveX, liveY: liveY}
	k.nd, k.ns, k.nm = bd*hd*wd*c, bs*hs*ws*c, bm*hm*wm
	if resize && (hs != hd || ws != wd) {
		rs, err := newResampler(methodBilinear, bs, hs, ws, c, hd, wd, false)
		if err != nil {
			return nil, err
		}
		k.srcRS, k.srcBuf, k.hs, k.ws = rs, make([]float32, bs*hd*wd*c), hd, wd
	}
	if bm > 0 && (hm != k.hs || wm != k.ws) {
		rs, err := newResampler(methodBilinear, bm, hm, wm, 1, k.hs, k.ws, false)
		if err != nil {
			return nil, err
		}
		k.maskRS, k.mBuf = rs, make([]float32, bm*k.hs*k.ws)
	}
	k.place(x, y)
	return []value.Spec{value.TensorSpec(value.Image, bd, hd, wd, c)}, nil
}

// perFrameInt reports an INT (or FLOAT) input known only per frame.
func perFrameInt(s value.Spec) bool {
	return s.Const == nil && (s.Kind == value.Int || s.Kind == value.Float)
}

// place sets where the source lands for offsets x, y, clamped to
// [−source size, destination size] as ComfyUI's composite does.
func (k *imageCompositeMasked) place(x, y int64) {
	cx := int(max(-int64(k.ws), min(x, int64(k.wd))))
	cy := int(max(-int64(k.hs), min(y, int64(k.hd))))
	k.sx, k.sy = max(0, -cx), max(0, -cy)
	k.x, k.y = max(cx, 0), max(cy, 0)
	k.vw, k.vh = min(k.ws-k.sx, k.wd-k.x), min(k.hs-k.sy, k.hd-k.y)
}

// offset reads a per-frame x or y: an INT, or a FLOAT truncated as
// Python's int() does.
func offset(v value.Value, name string) (int64, error) {
	switch v.Kind {
	case value.Int:
		return v.Int, nil
	case value.Float:
		if v.Float != v.Float || v.Float > 1<<40 || v.Float < -(1<<40) {
			return 0, fmt.Errorf("input %s: %v is not a position", name, v.Float)
		}
		return int64(v.Float), nil
	}
	return 0, fmt.Errorf("input %s: want INT, got %s", name, v.Kind)
}

func (k *imageCompositeMasked) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.nd, "destination"); err != nil {
		return err
	}
	if err := checkTensor(in[1], k.ns, "source"); err != nil {
		return err
	}
	if k.liveX || k.liveY {
		x, y := int64(k.x-k.sx), int64(k.y-k.sy)
		var err error
		if k.liveX {
			if x, err = offset(in[2], "x"); err != nil {
				return err
			}
		}
		if k.liveY {
			if y, err = offset(in[3], "y"); err != nil {
				return err
			}
		}
		k.place(x, y)
	}
	src := in[1].Tensor.Data
	if k.srcRS != nil {
		k.srcRS.run(k.srcBuf, src)
		src = k.srcBuf
	}
	var mask []float32
	if k.bm > 0 {
		if len(in) < 6 {
			return fmt.Errorf("mask: prepared with a mask, run without one")
		}
		if err := checkTensor(in[5], k.nm, "mask"); err != nil {
			return err
		}
		mask = in[5].Tensor.Data
		if k.maskRS != nil {
			k.maskRS.run(k.mBuf, mask)
			mask = k.mBuf
		}
	}
	dst := out[0].Tensor.Data[:k.nd]
	copy(dst, in[0].Tensor.Data)
	c := k.c
	srcPic, maskPic := k.hs*k.ws*c, k.hs*k.ws
	if k.vw <= 0 || k.vh <= 0 {
		return nil // the source lies wholly outside the destination
	}
	for b := range k.bd {
		sp := src[(b%k.bs)*srcPic:][:srcPic]
		for yy := range k.vh {
			drow := dst[((b*k.hd+k.y+yy)*k.wd+k.x)*c:][:k.vw*c]
			srow := sp[((k.sy+yy)*k.ws+k.sx)*c:][:k.vw*c]
			if mask == nil {
				copy(drow, srow)
				continue
			}
			mrow := mask[(b%k.bm)*maskPic+(k.sy+yy)*k.ws+k.sx:][:k.vw]
			for xx, m := range mrow {
				inv := 1 - m
				for ch := range c {
					i := xx*c + ch
					drow[i] = m*srow[i] + inv*drow[i]
				}
			}
		}
	}
	return nil
}

// composite mirrors ComfyUI-Background-Edit Composite: fg·m + bg·(1−m) per
// pixel, with equal batch counts (its error otherwise) and, here, equal
// sizes. Both modes ("cuda", "cpu") are accepted and computed on the CPU in
// float32; the original rounds to bytes on the way (within 2/255).
type composite struct {
	base
	px, c int
}

func newComposite(cfg nodes.Config) (nodes.Kernel, error) { return &composite{base: base{cfg}}, nil }

func (k *composite) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "foregrounds", "backgrounds", "foreground_masks", "mode")
	bf, hf, wf, cf := a.image(0)
	bb, hb, wb, cb := a.image(1)
	bm, hm, wm := a.mask(2)
	a.choice(3, "cuda", "cpu")
	if err := a.Err(); err != nil {
		return nil, err
	}
	if bf != bb || bf != bm {
		return nil, fmt.Errorf("mismatch number of backgrounds, foregrounds and foreground masks (%d, %d, %d)", bb, bf, bm)
	}
	if hf != hb || wf != wb || hf != hm || wf != wm || cf != cb {
		return nil, fmt.Errorf("sizes differ: foregrounds %dx%d, backgrounds %dx%d, foreground_masks %dx%d", wf, hf, wb, hb, wm, hm)
	}
	k.px, k.c = bf*hf*wf, cf
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *composite) Run(in, out []value.Value) error {
	n := k.px * k.c
	if err := checkTensor(in[0], n, "foregrounds"); err != nil {
		return err
	}
	if err := checkTensor(in[1], n, "backgrounds"); err != nil {
		return err
	}
	if err := checkTensor(in[2], k.px, "foreground_masks"); err != nil {
		return err
	}
	fg, bg, m, dst := in[0].Tensor.Data[:n], in[1].Tensor.Data[:n], in[2].Tensor.Data[:k.px], out[0].Tensor.Data[:n]
	c := k.c
	for p, mv := range m {
		inv := 1 - mv
		for ch := range c {
			i := p*c + ch
			dst[i] = fg[i]*mv + bg[i]*inv
		}
	}
	return nil
}
