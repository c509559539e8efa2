package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// imageInvert mirrors nodes.py ImageInvert: 1 − image.
type imageInvert struct {
	base
	n int
}

func newImageInvert(cfg nodes.Config) (nodes.Kernel, error) {
	return &imageInvert{base: base{cfg}}, nil
}

func (k *imageInvert) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image")
	a.image(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.n = in[0].Elems()
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *imageInvert) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "image"); err != nil {
		return err
	}
	invert(out[0].Tensor.Data[:k.n], in[0].Tensor.Data[:k.n])
	return nil
}

func invert(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = 1 - x
	}
}

// invertMask mirrors nodes_mask.py InvertMask: 1 − mask.
type invertMask struct {
	base
	n int
}

func newInvertMask(cfg nodes.Config) (nodes.Kernel, error) { return &invertMask{base: base{cfg}}, nil }

func (k *invertMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "mask")
	a.mask(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.n = in[0].Elems()
	return []value.Spec{value.TensorSpec(value.Mask, in[0].Shape...)}, nil
}

func (k *invertMask) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "mask"); err != nil {
		return err
	}
	invert(out[0].Tensor.Data[:k.n], in[0].Tensor.Data[:k.n])
	return nil
}

// thresholdMask mirrors nodes_mask.py ThresholdMask: (mask > value) as 0/1.
// The comparison is in float32, as torch compares a float32 tensor with a
// Python scalar.
type thresholdMask struct {
	base
	n int
	t float32
}

func newThresholdMask(cfg nodes.Config) (nodes.Kernel, error) {
	return &thresholdMask{base: base{cfg}}, nil
}

func (k *thresholdMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "mask", "value")
	a.mask(0)
	t := a.float(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.n, k.t = in[0].Elems(), float32(t)
	return []value.Spec{value.TensorSpec(value.Mask, in[0].Shape...)}, nil
}

func (k *thresholdMask) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "mask"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[:k.n], out[0].Tensor.Data[:k.n]
	for i, x := range src {
		if x > k.t {
			dst[i] = 1
		} else {
			dst[i] = 0
		}
	}
	return nil
}

// imageToMask mirrors nodes_mask.py ImageToMask: one channel of the image.
// ComfyUI raises an IndexError for "alpha" on a 3-channel image; here it is
// a clear error from Prepare.
type imageToMask struct {
	base
	ch, c, px int
}

var channelNames = []string{"red", "green", "blue", "alpha"}

func newImageToMask(cfg nodes.Config) (nodes.Kernel, error) {
	return &imageToMask{base: base{cfg}}, nil
}

func (k *imageToMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "channel")
	b, h, w, c := a.image(0)
	ch := a.choice(1, channelNames...)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if ch >= c {
		return nil, fmt.Errorf("input channel: the image has %d channels, so it has no %s channel (an IMAGE is RGB; alpha comes as LoadImage's MASK output)", c, channelNames[ch])
	}
	k.ch, k.c, k.px = ch, c, b*h*w
	return []value.Spec{value.MaskSpec(b, h, w)}, nil
}

func (k *imageToMask) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.px*k.c, "image"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[k.ch:], out[0].Tensor.Data[:k.px]
	for i := range dst {
		dst[i] = src[i*k.c]
	}
	return nil
}

// maskToImage mirrors nodes_mask.py MaskToImage: the mask in all three
// channels.
type maskToImage struct {
	base
	px int
}

func newMaskToImage(cfg nodes.Config) (nodes.Kernel, error) {
	return &maskToImage{base: base{cfg}}, nil
}

func (k *maskToImage) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "mask")
	b, h, w := a.mask(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.px = b * h * w
	return []value.Spec{value.ImageSpec(b, h, w)}, nil
}

func (k *maskToImage) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.px, "mask"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[:k.px], out[0].Tensor.Data[:3*k.px]
	for i, x := range src {
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = x, x, x
	}
	return nil
}

// emptyImage mirrors nodes.py EmptyImage: a [batch,H,W,3] image of one
// colour given as 0xRRGGBB, each channel byte/255.
type emptyImage struct {
	base
	rgb [3]float32
}

func newEmptyImage(cfg nodes.Config) (nodes.Kernel, error) { return &emptyImage{base: base{cfg}}, nil }

func (k *emptyImage) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "width", "height", "batch_size", "color")
	w, h, b, color := a.int(0), a.int(1), a.int(2), a.int(3)
	a.positive(0, w)
	a.positive(1, h)
	a.positive(2, b)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.rgb = colorRGB(color)
	return []value.Spec{value.ImageSpec(int(b), int(h), int(w))}, nil
}

// colorRGB splits 0xRRGGBB into channel values byte/255.
func colorRGB(c int64) [3]float32 {
	return [3]float32{
		float32(float64((c>>16)&0xFF) / 0xFF),
		float32(float64((c>>8)&0xFF) / 0xFF),
		float32(float64(c&0xFF) / 0xFF),
	}
}

func (k *emptyImage) Run(_, out []value.Value) error {
	fillRGB(out[0].Tensor.Data, k.rgb)
	return nil
}

func fillRGB(dst []float32, rgb [3]float32) {
	for i := 0; i+3 <= len(dst); i += 3 {
		d := dst[i : i+3 : i+3]
		d[0], d[1], d[2] = rgb[0], rgb[1], rgb[2]
	}
}

// solidMask mirrors nodes_mask.py SolidMask: a [1,H,W] mask of one value.
type solidMask struct {
	base
	v float32
}

func newSolidMask(cfg nodes.Config) (nodes.Kernel, error) { return &solidMask{base: base{cfg}}, nil }

func (k *solidMask) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "value", "width", "height")
	v, w, h := a.float(0), a.int(1), a.int(2)
	a.positive(1, w)
	a.positive(2, h)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.v = float32(v)
	return []value.Spec{value.MaskSpec(1, int(h), int(w))}, nil
}

func (k *solidMask) Run(_, out []value.Value) error {
	d := out[0].Tensor.Data
	for i := range d {
		d[i] = k.v
	}
	return nil
}

// backgroundColor mirrors ComfyUI-Background-Edit BackgroundColor: an image
// the shape of the input, black with one channel at 1 for red, green or
// blue.
type backgroundColor struct {
	base
	rgb [3]float32
	n   int
}

func newBackgroundColor(cfg nodes.Config) (nodes.Kernel, error) {
	return &backgroundColor{base: base{cfg}}, nil
}

func (k *backgroundColor) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "images", "color")
	_, _, _, c := a.image(0)
	col := a.choice(1, "black", "red", "blue", "green")
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c != 3 {
		return nil, fmt.Errorf("input images: want 3 channels, got %d", c)
	}
	k.rgb = [3]float32{}
	switch col {
	case 1:
		k.rgb[0] = 1
	case 2:
		k.rgb[2] = 1
	case 3:
		k.rgb[1] = 1
	}
	k.n = in[0].Elems()
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *backgroundColor) Run(_, out []value.Value) error {
	fillRGB(out[0].Tensor.Data[:k.n], k.rgb)
	return nil
}

// imageCrop mirrors nodes.py ImageCrop: x and y are clamped to the last
// column and row, and the crop is cut to the image, so the output may be
// smaller than width×height.
type imageCrop struct {
	base
	b, h, w, c   int // input
	x, y, ow, oh int
}

func newImageCrop(cfg nodes.Config) (nodes.Kernel, error) { return &imageCrop{base: base{cfg}}, nil }

func (k *imageCrop) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "width", "height", "x", "y")
	b, h, w, c := a.image(0)
	cw, ch, x, y := a.int(1), a.int(2), a.int(3), a.int(4)
	a.positive(1, cw)
	a.positive(2, ch)
	if x < 0 {
		a.errorf(3, "must not be negative, got %d", x)
	}
	if y < 0 {
		a.errorf(4, "must not be negative, got %d", y)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	x, y = min(x, int64(w-1)), min(y, int64(h-1))
	k.b, k.h, k.w, k.c = b, h, w, c
	k.x, k.y = int(x), int(y)
	k.ow, k.oh = int(min(cw, int64(w)-x)), int(min(ch, int64(h)-y))
	return []value.Spec{value.TensorSpec(value.Image, b, k.oh, k.ow, c)}, nil
}

func (k *imageCrop) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.b*k.h*k.w*k.c, "image"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data, out[0].Tensor.Data
	row := k.ow * k.c
	o := 0
	for b := 0; b < k.b; b++ {
		for y := 0; y < k.oh; y++ {
			s := ((b*k.h+k.y+y)*k.w + k.x) * k.c
			copy(dst[o:o+row], src[s:s+row])
			o += row
		}
	}
	return nil
}
