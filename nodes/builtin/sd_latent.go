package builtin

import (
	"fmt"
	"math"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// latentMethods are LatentUpscale's and LatentUpscaleBy's upscale_method
// choices, in ComfyUI's order.
var latentMethods = []string{"nearest-exact", "bilinear", "area", "bicubic", "bislerp"}

const latentBislerp = 4 // index of bislerp in latentMethods

// latentUpscale is nodes.py LatentUpscale and LatentUpscaleBy on a LATENT
// [B,C,h,w]:
//
//   - LatentUpscale: width = height = 0 passes the latent through; one of
//     them 0 keeps the aspect (the other max(64, round(size·given/other)),
//     Python rounding); the given sides are at least 64; the latent
//     becomes (height//8)×(width//8) through comfy.utils.common_upscale
//     with the method and crop (disabled or center).
//   - LatentUpscaleBy: round(side·scale_by) per side, crop disabled.
//
// nearest-exact, bilinear, area and bicubic are torch's interpolate
// (align_corners=False), run by the image resampler on each channel plane;
// bislerp is comfy.utils.bislerp: along x, then along y, each output pixel's
// channel vector is the spherical interpolation of its two bilinear
// neighbours (norm interpolated linearly; the neighbours' own values where
// they are parallel, linear interpolation where opposite). Run does not
// allocate.
type latentUpscale struct {
	base
	by   bool
	rs   *resampler
	bs   *bislerp
	n    int // pass-through values
	inN  int
	outN int
}

func newLatentUpscale(by bool) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) { return &latentUpscale{base: base{cfg}, by: by}, nil }
}

// latentTarget reads the inputs: the latent's shape, the method, the
// output latent's size and the crop; pass is true for width = height = 0.
func (k *latentUpscale) latentTarget(in []value.Spec) (shape []int, method, oh, ow int, crop, pass bool, err error) {
	names := []string{"samples", "upscale_method", "width", "height", "crop"}
	if k.by {
		names = []string{"samples", "upscale_method", "scale_by"}
	}
	a := newArgs(in, names...)
	if s := a.spec(0); s.Kind != value.Latent || len(s.Shape) != 4 {
		a.errorf(0, "want LATENT [B,C,H,W], got %s", s)
	} else {
		shape = s.Shape
	}
	method = a.choice(1, latentMethods...)
	if k.by {
		s := a.float(2)
		if !(s >= 0.01 && s <= 8) {
			a.errorf(2, "%v is not in 0.01..8", s)
		}
		if err := a.Err(); err != nil {
			return nil, 0, 0, 0, false, false, err
		}
		oh, ow = pyRound(float64(shape[2])*s), pyRound(float64(shape[3])*s)
		return shape, method, oh, ow, false, false, nil
	}
	tw, th := a.int(2), a.int(3)
	crop = a.choice(4, "disabled", "center") == 1
	for i, v := range []int64{tw, th} {
		if v < 0 || v > 16384 {
			a.errorf(2+i, "%d is not in 0..16384", v)
		}
	}
	if err := a.Err(); err != nil {
		return nil, 0, 0, 0, false, false, err
	}
	if tw == 0 && th == 0 {
		return shape, method, 0, 0, false, true, nil
	}
	w, h := int(tw), int(th)
	switch {
	case w == 0:
		h = max(64, h)
		w = max(64, pyRound(float64(shape[3])*float64(h)/float64(shape[2])))
	case h == 0:
		w = max(64, w)
		h = max(64, pyRound(float64(shape[2])*float64(w)/float64(shape[3])))
	default:
		w, h = max(64, w), max(64, h)
	}
	return shape, method, h / 8, w / 8, crop, false, nil
}

func (k *latentUpscale) Prepare(in []value.Spec) ([]value.Spec, error) {
	k.rs, k.bs, k.n = nil, nil, 0
	shape, method, oh, ow, crop, pass, err := k.latentTarget(in)
	if err != nil {
		return nil, err
	}
	if pass {
		k.n = value.NumElems(shape)
		return []value.Spec{value.LatentSpec(shape[0], shape[1], shape[2], shape[3])}, nil
	}
	b, c, h, w := shape[0], shape[1], shape[2], shape[3]
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("input %s: the latent would be %dx%d", map[bool]string{true: "scale_by", false: "width"}[k.by], ow, oh)
	}
	k.inN, k.outN = b*c*h*w, b*c*oh*ow
	if method == latentBislerp {
		if k.bs, err = newBislerp(b, c, h, w, oh, ow, crop); err != nil {
			return nil, err
		}
	} else if k.rs, err = newResampler(method, b*c, h, w, 1, oh, ow, crop); err != nil {
		return nil, err
	}
	return []value.Spec{value.LatentSpec(b, c, oh, ow)}, nil
}

// Scratch is the horizontal pass's buffer (the crop window's rows at the
// output width, every plane for bislerp).
func (k *latentUpscale) Scratch(in []value.Spec) (int64, error) {
	shape, _, oh, ow, crop, pass, err := k.latentTarget(in)
	if err != nil || pass || oh < 1 || ow < 1 {
		return 0, nil
	}
	winH := shape[2]
	if crop {
		_, _, _, winH = centerCrop(shape[3], shape[2], ow, oh)
	}
	return mulSat(4, int64(shape[0]*shape[1]), int64(winH), int64(ow)), nil
}

func (k *latentUpscale) Run(in, out []value.Value) error {
	switch {
	case k.n > 0:
		if err := checkTensor(in[0], k.n, "samples"); err != nil {
			return err
		}
		copy(out[0].Tensor.Data, in[0].Tensor.Data)
		return nil
	case k.rs == nil && k.bs == nil:
		return errNotPrepared
	}
	if err := checkTensor(in[0], k.inN, "samples"); err != nil {
		return err
	}
	if k.bs != nil {
		k.bs.run(out[0].Tensor.Data[:k.outN], in[0].Tensor.Data)
		return nil
	}
	k.rs.run(out[0].Tensor.Data[:k.outN], in[0].Tensor.Data)
	return nil
}

// bislerp is comfy.utils.bislerp over a latent window.
type bislerp struct {
	b, c, inH, inW     int
	x0, y0, winH, winW int
	outH, outW         int
	rx, ry             []float32 // ratios per output column and row
	x1, x2, y1, y2     []int32   // the two neighbours per output column and row
	tmp                []float32 // [b,c,winH,outW]
	v1, v2             []float64 // one pixel's channel vectors
}

func newBislerp(b, c, inH, inW, outH, outW int, crop bool) (*bislerp, error) {
	s := &bislerp{b: b, c: c, inH: inH, inW: inW, winH: inH, winW: inW, outH: outH, outW: outW}
	if crop {
		s.x0, s.y0, s.winW, s.winH = centerCrop(inW, inH, outW, outH)
		if s.winW < 1 || s.winH < 1 {
			return nil, fmt.Errorf("centre crop of %dx%d to aspect %dx%d is empty", inW, inH, outW, outH)
		}
	}
	s.rx, s.x1, s.x2 = bislerpAxis(s.winW, outW)
	s.ry, s.y1, s.y2 = bislerpAxis(s.winH, outH)
	s.tmp = make([]float32, b*c*s.winH*outW)
	s.v1, s.v2 = make([]float64, c), make([]float64, c)
	return s, nil
}

// bislerpAxis is generate_bilinear_data: torch's bilinear resize of
// 0…old−1 (and of 1…old−1, old−1) to length new, in float32; the ratio is
// the fraction, the neighbours the values truncated.
func bislerpAxis(old, new int) (ratios []float32, c1, c2 []int32) {
	t := tapsBilinear(old, new)
	ratios, c1, c2 = make([]float32, new), make([]int32, new), make([]int32, new)
	plus := func(i int32) float32 {
		if int(i) == old-1 {
			return float32(old - 1)
		}
		return float32(i + 1)
	}
	for o := range new {
		i0, i1, w0, w1 := t.idx[2*o], t.idx[2*o+1], t.w[2*o], t.w[2*o+1]
		v := w0*float32(i0) + w1*float32(i1)
		ratios[o] = v - float32(math.Floor(float64(v)))
		c1[o] = int32(v)
		c2[o] = int32(w0*plus(i0) + w1*plus(i1))
	}
	return ratios, c1, c2
}

// run resizes src [b,c,inH,inW] into dst [b,c,outH,outW]: along x into
// tmp, then along y.
func (s *bislerp) run(dst, src []float32) {
	inPlane, tmpPlane, outPlane := s.inH*s.inW, s.winH*s.outW, s.outH*s.outW
	for b := range s.b {
		in := src[b*s.c*inPlane : (b+1)*s.c*inPlane]
		tmp := s.tmp[b*s.c*tmpPlane : (b+1)*s.c*tmpPlane]
		for y := range s.winH {
			row := (s.y0 + y) * s.inW
			for x := range s.outW {
				a, c := row+s.x0+int(s.x1[x]), row+s.x0+int(s.x2[x])
				s.slerp(tmp, y*s.outW+x, tmpPlane, in, a, c, inPlane, s.rx[x])
			}
		}
		out := dst[b*s.c*outPlane : (b+1)*s.c*outPlane]
		for y := range s.outH {
			r1, r2 := int(s.y1[y])*s.outW, int(s.y2[y])*s.outW
			for x := range s.outW {
				s.slerp(out, y*s.outW+x, outPlane, tmp, r1+x, r2+x, tmpPlane, s.ry[y])
			}
		}
	}
}

// slerp writes to dst[o+ch·dstPlane] the slerp of the channel vectors at
// src[a+ch·plane] and src[b+ch·plane] by ratio r (bislerp's slerp: float32
// tensors; norms, dot and angle here in float64, rounded to float32 at the
// points where torch holds float32 values).
func (s *bislerp) slerp(dst []float32, o, dstPlane int, src []float32, a, b, plane int, r float32) {
	v1, v2 := s.v1, s.v2
	var n1, n2 float64
	for ch := range s.c {
		v1[ch], v2[ch] = float64(src[a+ch*plane]), float64(src[b+ch*plane])
		n1 += v1[ch] * v1[ch]
		n2 += v2[ch] * v2[ch]
	}
	n1, n2 = float64(float32(math.Sqrt(n1))), float64(float32(math.Sqrt(n2)))
	var dot float32
	for ch := range s.c {
		u1, u2 := unit(v1[ch], n1), unit(v2[ch], n2)
		dot += u1 * u2
	}
	rf := float64(r)
	switch {
	case dot > 1-1e-5:
		for ch := range s.c {
			dst[o+ch*dstPlane] = float32(v1[ch])
		}
		return
	case dot < 1e-5-1:
		for ch := range s.c {
			dst[o+ch*dstPlane] = float32(v1[ch])*float32(1-r) + float32(v2[ch])*r
		}
		return
	}
	omega := float64(float32(math.Acos(float64(dot))))
	so := float64(float32(math.Sin(omega)))
	k1 := float32(float64(float32(math.Sin(float64(float32(1-rf))*omega))) / so)
	k2 := float32(float64(float32(math.Sin(float64(r)*omega))) / so)
	scale := float32(n1)*float32(1-r) + float32(n2)*r
	for ch := range s.c {
		dst[o+ch*dstPlane] = (k1*unit(v1[ch], n1) + k2*unit(v2[ch], n2)) * scale
	}
}

// unit is one component of a vector divided by its norm n, 0 for the zero
// vector (ComfyUI's slerp sets the normalized zero vector to 0).
func unit(v, n float64) float32 {
	if n == 0 {
		return 0
	}
	return float32(v / n)
}
