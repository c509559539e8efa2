package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// Image batch and transform kernels: ImageFlip, RepeatImageBatch and
// ImageFromBatch (comfy_extras/nodes_images.py), ImageBatch and
// ImagePadForOutpaint (nodes.py). All of them keep the channel count, so
// they take RGB and RGBA images alike.

// flipMethods are ImageFlip's choices: "x-axis" flips the rows (upside
// down, torch.flip dims=[1]), "y-axis" the columns (mirror, dims=[2]).
var flipMethods = []string{"x-axis: vertically", "y-axis: horizontally"}

// imageFlip mirrors ImageFlip.
type imageFlip struct {
	base
	b, h, w, c int
	rows       bool // flip the rows (x-axis), else the columns
}

func newImageFlip(cfg nodes.Config) (nodes.Kernel, error) { return &imageFlip{base: base{cfg}}, nil }

func (k *imageFlip) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "flip_method")
	b, h, w, c := a.image(0)
	m := a.choice(1, flipMethods...)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.b, k.h, k.w, k.c, k.rows = b, h, w, c, m == 0
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *imageFlip) Run(in, out []value.Value) error {
	row := k.w * k.c
	n := k.b * k.h * row
	if err := checkTensor(in[0], n, "image"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[:n], out[0].Tensor.Data[:n]
	for p := range k.b {
		for y := range k.h {
			s := src[(p*k.h+y)*row:][:row]
			dy := y
			if k.rows {
				dy = k.h - 1 - y
			}
			d := dst[(p*k.h+dy)*row:][:row]
			if k.rows {
				copy(d, s)
				continue
			}
			mirrorRow(d, s, k.c)
		}
	}
	return nil
}

// mirrorRow writes the pixels (c channels each) of s into d in reverse
// order.
func mirrorRow(d, s []float32, c int) {
	n := len(s) / c
	d = d[:len(s)]
	if c == 3 {
		for x := range n {
			p, q := s[3*x:3*x+3:3*x+3], d[3*(n-1-x):3*(n-1-x)+3:3*(n-1-x)+3]
			q[0], q[1], q[2] = p[0], p[1], p[2]
		}
		return
	}
	for x := range n {
		copy(d[(n-1-x)*c:(n-x)*c], s[x*c:(x+1)*c])
	}
}

// repeatImageBatch mirrors RepeatImageBatch: image.repeat((amount,1,1,1)),
// the whole batch amount times.
type repeatImageBatch struct {
	base
	n, times int
}

func newRepeatImageBatch(cfg nodes.Config) (nodes.Kernel, error) {
	return &repeatImageBatch{base: base{cfg}}, nil
}

func (k *repeatImageBatch) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "amount")
	b, h, w, c := a.image(0)
	amount := a.int(1)
	a.positive(1, amount)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if amount > int64(maxPictures/b) {
		return nil, fmt.Errorf("input amount: %d copies of a batch of %d is more than %d pictures", amount, b, maxPictures)
	}
	k.n, k.times = b*h*w*c, int(amount)
	return []value.Spec{value.TensorSpec(value.Image, b*k.times, h, w, c)}, nil
}

// maxPictures bounds the batches these kernels make (ComfyUI's widgets stop
// at 4096 pictures); the plan's memory budget bounds their bytes.
const maxPictures = 1 << 16

func (k *repeatImageBatch) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "image"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[:k.n], out[0].Tensor.Data
	for i := range k.times {
		copy(dst[i*k.n:(i+1)*k.n], src)
	}
	return nil
}

// imageFromBatch mirrors ImageFromBatch: batch_index is clamped to the
// last picture and length to the pictures from there.
type imageFromBatch struct {
	base
	n, from, len int // elements: input, first copied, copied
}

func newImageFromBatch(cfg nodes.Config) (nodes.Kernel, error) {
	return &imageFromBatch{base: base{cfg}}, nil
}

func (k *imageFromBatch) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "batch_index", "length")
	b, h, w, c := a.image(0)
	idx, length := a.int(1), a.int(2)
	notNegative(a, 1, idx)
	a.positive(2, length)
	if err := a.Err(); err != nil {
		return nil, err
	}
	idx = min(int64(b-1), idx)
	length = min(int64(b)-idx, length)
	pic := h * w * c
	k.n, k.from, k.len = b*pic, int(idx)*pic, int(length)*pic
	return []value.Spec{value.TensorSpec(value.Image, int(length), h, w, c)}, nil
}

func (k *imageFromBatch) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "image"); err != nil {
		return err
	}
	copy(out[0].Tensor.Data[:k.len], in[0].Tensor.Data[k.from:k.from+k.len])
	return nil
}

// imageBatch mirrors nodes.py ImageBatch: when the channel counts differ
// (RGB and RGBA), the one with fewer gets an alpha channel of 1; when
// image2's size then differs from image1's, it is resized to image1's
// width and height with common_upscale's bilinear and centre crop; the
// output is image1's pictures followed by image2's. Other channel
// combinations fail in ComfyUI's torch.cat, and in Prepare here.
type imageBatch struct {
	base
	b1, b2, h, w, c int
	c1, c2          int
	n1, n2          int // input elements
	rs              *resampler
	padded, resized []float32 // image2 with an alpha channel; image2 resized
}

func newImageBatch(cfg nodes.Config) (nodes.Kernel, error) { return &imageBatch{base: base{cfg}}, nil }

func (k *imageBatch) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image1", "image2")
	b1, h1, w1, c1 := a.image(0)
	b2, h2, w2, c2 := a.image(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c1 != c2 && (min(c1, c2) != 3 || max(c1, c2) != 4) {
		return nil, fmt.Errorf("input image2: %d channels cannot be batched with image1's %d (RGB with RGBA only)", c2, c1)
	}
	c := max(c1, c2)
	*k = imageBatch{base: k.base, b1: b1, b2: b2, h: h1, w: w1, c: c, c1: c1, c2: c2, n1: b1 * h1 * w1 * c1, n2: b2 * h2 * w2 * c2}
	if h2 != h1 || w2 != w1 {
		rs, err := newResampler(methodBilinear, b2, h2, w2, c, h1, w1, true)
		if err != nil {
			return nil, fmt.Errorf("input image2: %w", err)
		}
		k.rs, k.resized = rs, make([]float32, b2*h1*w1*c)
		if c2 < c {
			k.padded = make([]float32, b2*h2*w2*c)
		}
	}
	return []value.Spec{value.TensorSpec(value.Image, b1+b2, h1, w1, c)}, nil
}

func (k *imageBatch) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n1, "image1"); err != nil {
		return err
	}
	if err := checkTensor(in[1], k.n2, "image2"); err != nil {
		return err
	}
	n1 := k.b1 * k.h * k.w * k.c
	dst := out[0].Tensor.Data
	withAlpha(dst[:n1], in[0].Tensor.Data[:k.n1], k.c1, k.c)
	img2 := in[1].Tensor.Data[:k.n2]
	if k.rs == nil {
		withAlpha(dst[n1:], img2, k.c2, k.c)
		return nil
	}
	if k.padded != nil {
		withAlpha(k.padded, img2, k.c2, k.c)
		img2 = k.padded
	}
	k.rs.run(k.resized, img2)
	copy(dst[n1:], k.resized)
	return nil
}

// withAlpha copies src (pixels of sc channels) into dst (dc channels),
// adding a channel of 1 when dc is sc+1.
func withAlpha(dst, src []float32, sc, dc int) {
	if sc == dc {
		copy(dst, src)
		return
	}
	px := len(src) / sc
	dst = dst[:px*dc]
	for i := range px {
		d := dst[i*dc : (i+1)*dc]
		copy(d, src[i*sc:(i+1)*sc])
		d[sc] = 1
	}
}

// Scratch is image2 resized (and with its alpha channel added) and the
// resampler, when the sizes differ.
func (k *imageBatch) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "image1", "image2")
	_, h1, w1, c1 := a.image(0)
	b2, h2, w2, c2 := a.image(1)
	if a.Err() != nil || (h1 == h2 && w1 == w2) {
		return 0, nil
	}
	c := max(c1, c2)
	n := addSat(mulSat(4, int64(b2), int64(h1), int64(w1), int64(c)), resamplerScratch(methodBilinear, h2, w2, c, h1, w1))
	if c2 < c {
		n = addSat(n, mulSat(4, int64(b2), int64(h2), int64(w2), int64(c)))
	}
	return n, nil
}

// imagePadForOutpaint mirrors nodes.py ImagePadForOutpaint: the image on a
// canvas grown by left, top, right and bottom, filled with 0.5; the MASK
// [1,H',W'] is 1 on the new border and 0 over the image, except that with
// feathering f (when 2f is less than the image's height and width) a pixel
// of the image at distance d < f from a padded side gets ((f−d)/f)², the
// distance to an unpadded side counting as the image's size.
type imagePadForOutpaint struct {
	base
	b, h, w, c               int
	left, top, right, bottom int
	feather                  int
}

func newImagePadForOutpaint(cfg nodes.Config) (nodes.Kernel, error) {
	return &imagePadForOutpaint{base: base{cfg}}, nil
}

func (k *imagePadForOutpaint) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "left", "top", "right", "bottom", "feathering")
	b, h, w, c := a.image(0)
	pads := [4]int64{a.int(1), a.int(2), a.int(3), a.int(4)}
	f := a.int(5)
	for i, p := range pads {
		notNegative(a, i+1, p)
		if p > maxPad {
			a.errorf(i+1, "%d is more than %d pixels", p, maxPad)
		}
	}
	notNegative(a, 5, f)
	if err := a.Err(); err != nil {
		return nil, err
	}
	*k = imagePadForOutpaint{base: k.base, b: b, h: h, w: w, c: c,
		left: int(pads[0]), top: int(pads[1]), right: int(pads[2]), bottom: int(pads[3]), feather: int(min(f, int64(h+w)))}
	oh, ow := h+k.top+k.bottom, w+k.left+k.right
	return []value.Spec{value.TensorSpec(value.Image, b, oh, ow, c), value.MaskSpec(1, oh, ow)}, nil
}

// maxPad bounds each padding (ComfyUI's widget maximum, MAX_RESOLUTION).
const maxPad = 16384

// maxCanvasSide bounds the width and height of the pictures the generator nodes
// make (far above ComfyUI's 16384), so that sizes never overflow; the
// plan's memory budget bounds their bytes.
const maxCanvasSide = 1 << 20

func (k *imagePadForOutpaint) Run(in, out []value.Value) error {
	row := k.w * k.c
	if err := checkTensor(in[0], k.b*k.h*row, "image"); err != nil {
		return err
	}
	oh, ow := k.h+k.top+k.bottom, k.w+k.left+k.right
	orow := ow * k.c
	dst := out[0].Tensor.Data[:k.b*oh*orow]
	for i := range dst {
		dst[i] = 0.5
	}
	src := in[0].Tensor.Data
	for p := range k.b {
		for y := range k.h {
			copy(dst[(p*oh+k.top+y)*orow+k.left*k.c:][:row], src[(p*k.h+y)*row:][:row])
		}
	}
	m := out[1].Tensor.Data[:oh*ow]
	for i := range m {
		m[i] = 1
	}
	f := k.feather
	feathered := f > 0 && 2*f < k.h && 2*f < k.w
	for i := range k.h {
		mrow := m[(k.top+i)*ow+k.left:][:k.w]
		for j := range mrow {
			mrow[j] = 0
			if feathered {
				mrow[j] = k.featherAt(i, j)
			}
		}
	}
	return nil
}

// featherAt is the mask inside the image at row i, column j: ((f−d)/f)²
// in float64, stored as float32, for d < f.
func (k *imagePadForOutpaint) featherAt(i, j int) float32 {
	dt, db, dl, dr := k.h, k.h, k.w, k.w
	if k.top != 0 {
		dt = i
	}
	if k.bottom != 0 {
		db = k.h - i
	}
	if k.left != 0 {
		dl = j
	}
	if k.right != 0 {
		dr = k.w - j
	}
	d := min(dt, db, dl, dr)
	if d >= k.feather {
		return 0
	}
	v := float64(k.feather-d) / float64(k.feather)
	return float32(v * v)
}
