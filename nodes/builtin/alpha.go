package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// RGBA images (comfy_extras/nodes_compositing.py) and the empty latent
// (nodes.py).

// joinImageWithAlpha mirrors JoinImageWithAlpha: the batch is the larger
// of the two, each input repeated cyclically to it
// (comfy.utils.repeat_to_batch_size); the alpha MASK is resized bilinearly
// (torch interpolate, align_corners=False) to the image's size and the
// output is the image's RGB with 1 − mask as a fourth channel: an RGBA
// IMAGE [B,H,W,4].
type joinImageWithAlpha struct {
	base
	bi, ba, h, w, c int
	na              int // alpha elements as given
	rs              *resampler
	resized         []float32
}

func newJoinImageWithAlpha(cfg nodes.Config) (nodes.Kernel, error) {
	return &joinImageWithAlpha{base: base{cfg}}, nil
}

func (k *joinImageWithAlpha) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "alpha")
	bi, h, w, c := a.image(0)
	ba, ha, wa := a.mask(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c < 3 {
		return nil, fmt.Errorf("input image: want 3 or 4 channels, got %d", c)
	}
	*k = joinImageWithAlpha{base: k.base, bi: bi, ba: ba, h: h, w: w, c: c, na: ba * ha * wa}
	if ha != h || wa != w {
		rs, err := newResampler(methodBilinear, ba, ha, wa, 1, h, w, false)
		if err != nil {
			return nil, fmt.Errorf("input alpha: %w", err)
		}
		k.rs, k.resized = rs, make([]float32, ba*h*w)
	}
	return []value.Spec{value.TensorSpec(value.Image, max(bi, ba), h, w, 4)}, nil
}

func (k *joinImageWithAlpha) Run(in, out []value.Value) error {
	pic := k.h * k.w
	if err := checkTensor(in[0], k.bi*pic*k.c, "image"); err != nil {
		return err
	}
	if err := checkTensor(in[1], k.na, "alpha"); err != nil {
		return err
	}
	alpha := in[1].Tensor.Data[:k.na]
	if k.rs != nil {
		k.rs.run(k.resized, alpha)
		alpha = k.resized
	}
	img, dst := in[0].Tensor.Data, out[0].Tensor.Data
	for b := range max(k.bi, k.ba) {
		s := img[(b%k.bi)*pic*k.c:][:pic*k.c]
		m := alpha[(b%k.ba)*pic:][:pic]
		d := dst[b*pic*4:][:pic*4]
		for i, mv := range m {
			p, q := s[i*k.c:i*k.c+3:i*k.c+3], d[i*4:i*4+4:i*4+4]
			q[0], q[1], q[2], q[3] = p[0], p[1], p[2], 1-mv
		}
	}
	return nil
}

// Scratch is the resized alpha and its resampler, when the sizes differ.
func (k *joinImageWithAlpha) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "image", "alpha")
	_, h, w, _ := a.image(0)
	ba, ha, wa := a.mask(1)
	if a.Err() != nil || (ha == h && wa == w) {
		return 0, nil
	}
	return addSat(mulSat(4, int64(ba), int64(h), int64(w)), resamplerScratch(methodBilinear, ha, wa, 1, h, w)), nil
}

// splitImageWithAlpha mirrors SplitImageWithAlpha: the image's RGB, and
// the MASK 1 − alpha (the fourth channel), 0 for an image without one.
type splitImageWithAlpha struct {
	base
	px, c int
}

func newSplitImageWithAlpha(cfg nodes.Config) (nodes.Kernel, error) {
	return &splitImageWithAlpha{base: base{cfg}}, nil
}

func (k *splitImageWithAlpha) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image")
	b, h, w, c := a.image(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c < 3 {
		return nil, fmt.Errorf("input image: want 3 or 4 channels, got %d", c)
	}
	k.px, k.c = b*h*w, c
	return []value.Spec{value.ImageSpec(b, h, w), value.MaskSpec(b, h, w)}, nil
}

func (k *splitImageWithAlpha) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.px*k.c, "image"); err != nil {
		return err
	}
	src, rgb, m := in[0].Tensor.Data, out[0].Tensor.Data[:3*k.px], out[1].Tensor.Data[:k.px]
	for i := range m {
		p, q := src[i*k.c:(i+1)*k.c], rgb[3*i:3*i+3:3*i+3]
		q[0], q[1], q[2] = p[0], p[1], p[2]
		m[i] = 0
		if k.c > 3 {
			m[i] = 1 - p[3]
		}
	}
	return nil
}

// emptyLatentImage mirrors nodes.py EmptyLatentImage: a LATENT of zeros,
// [batch_size, 4, height//8, width//8].
type emptyLatentImage struct{ base }

func newEmptyLatentImage(cfg nodes.Config) (nodes.Kernel, error) {
	return &emptyLatentImage{base: base{cfg}}, nil
}

func (k *emptyLatentImage) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "width", "height", "batch_size")
	w, h, b := a.int(0), a.int(1), a.int(2)
	if w < 8 {
		a.errorf(0, "must be at least 8 (one latent pixel), got %d", w)
	}
	if h < 8 {
		a.errorf(1, "must be at least 8 (one latent pixel), got %d", h)
	}
	for i, v := range []int64{w, h} {
		if v > maxCanvasSide {
			a.errorf(i, "%d is more than %d pixels", v, maxCanvasSide)
		}
	}
	a.positive(2, b)
	if b > maxPictures {
		a.errorf(2, "%d is more than %d latents", b, maxPictures)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return []value.Spec{value.LatentSpec(int(b), 4, int(h/8), int(w/8))}, nil
}

func (k *emptyLatentImage) Run(_, out []value.Value) error {
	clear(out[0].Tensor.Data)
	return nil
}
