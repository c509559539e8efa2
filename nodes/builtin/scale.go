package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// imageScale mirrors nodes.py ImageScale: width = height = 0 passes the
// image through; one of them 0 keeps the aspect ratio
// (max(1, round(other·size/other_size)), Python rounding); otherwise
// comfy.utils.common_upscale with the method and crop.
type imageScale struct {
	base
	by bool // ImageScaleBy
	rs *resampler
	n  int // pass-through element count
}

func newImageScale(cfg nodes.Config) (nodes.Kernel, error) { return &imageScale{base: base{cfg}}, nil }

func newImageScaleBy(cfg nodes.Config) (nodes.Kernel, error) {
	return &imageScale{base: base{cfg}, by: true}, nil
}

func (k *imageScale) Prepare(in []value.Spec) ([]value.Spec, error) {
	k.rs, k.n = nil, 0
	var (
		a          *args
		b, h, w, c int
		method     int
		ow, oh     int
		crop       bool
	)
	if k.by {
		// ImageScaleBy: round(size·scale_by), crop disabled.
		a = newArgs(in, "image", "upscale_method", "scale_by")
		b, h, w, c = a.image(0)
		method = a.choice(1, upscaleMethods...)
		s := a.float(2)
		if err := a.Err(); err != nil {
			return nil, err
		}
		if s <= 0 {
			return nil, fmt.Errorf("input scale_by: must be positive, got %v", s)
		}
		ow, oh = pyRound(float64(w)*s), pyRound(float64(h)*s)
	} else {
		a = newArgs(in, "image", "upscale_method", "width", "height", "crop")
		b, h, w, c = a.image(0)
		method = a.choice(1, upscaleMethods...)
		tw, th := a.int(2), a.int(3)
		crop = a.choice(4, "disabled", "center") == 1
		if tw < 0 {
			a.errorf(2, "must not be negative, got %d", tw)
		}
		if th < 0 {
			a.errorf(3, "must not be negative, got %d", th)
		}
		if err := a.Err(); err != nil {
			return nil, err
		}
		if tw == 0 && th == 0 {
			k.n = in[0].Elems()
			return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
		}
		ow, oh = int(tw), int(th)
		if ow == 0 {
			ow = max(1, pyRound(float64(w)*float64(th)/float64(h)))
		} else if oh == 0 {
			oh = max(1, pyRound(float64(h)*float64(tw)/float64(w)))
		}
	}
	rs, err := newResampler(method, b, h, w, c, oh, ow, crop)
	if err != nil {
		return nil, err
	}
	k.rs = rs
	return []value.Spec{value.TensorSpec(value.Image, b, oh, ow, c)}, nil
}

func (k *imageScale) Run(in, out []value.Value) error {
	if k.rs == nil {
		if k.n == 0 {
			return errNotPrepared
		}
		if err := checkTensor(in[0], k.n, "image"); err != nil {
			return err
		}
		copy(out[0].Tensor.Data[:k.n], in[0].Tensor.Data)
		return nil
	}
	if err := checkTensor(in[0], k.rs.inElems, "image"); err != nil {
		return err
	}
	k.rs.run(out[0].Tensor.Data[:k.rs.outElems], in[0].Tensor.Data)
	return nil
}
