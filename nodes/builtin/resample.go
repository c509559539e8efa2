package builtin

import (
	"fmt"
	"math"

	"comfyrt/nodes/value"
)

// Resampling as comfy.utils.common_upscale does it: an optional centre crop
// to the target aspect, then torch.nn.functional.interpolate (nearest-exact,
// bilinear, area, bicubic; align_corners=False, no antialias) or, for
// lanczos, Pillow's 8-bit LANCZOS resize of the image clipped and truncated
// to bytes.
//
// Every mode is separable, so one resampler serves them all: a table of
// taps per axis (source index and weight for each output index) and two
// passes, horizontal into a scratch buffer, then vertical. Index and weight
// arithmetic follows torch's float32 CPU kernels (UpSampleKernel.cpp) and
// Pillow's Resample.c, so that indices and weights match theirs.

// Upscale methods, in ComfyUI's combo order.
const (
	methodNearestExact = iota
	methodBilinear
	methodArea
	methodBicubic
	methodLanczos
)

var upscaleMethods = []string{"nearest-exact", "bilinear", "area", "bicubic", "lanczos"}

// axisTaps holds, for each output index o, k source indices idx[o*k:] and
// weights w[o*k:] (fix holds Pillow's fixed-point weights for lanczos).
// Unused taps have weight 0 and a valid index.
type axisTaps struct {
	k   int
	idx []int32
	w   []float32
	fix []int32
}

func newTaps(out, k int) axisTaps {
	return axisTaps{k: k, idx: make([]int32, out*k), w: make([]float32, out*k)}
}

// tapsFor returns the taps of one axis of size in resampled to out.
func tapsFor(method, in, out int) axisTaps {
	switch method {
	case methodNearestExact:
		return tapsNearestExact(in, out)
	case methodBilinear:
		return tapsBilinear(in, out)
	case methodArea:
		return tapsArea(in, out)
	case methodBicubic:
		return tapsBicubic(in, out)
	}
	return tapsLanczos(in, out)
}

// torchScale is area_pixel_compute_scale with align_corners=False and no
// scale factor: in/out in float32.
func torchScale(in, out int) float32 { return float32(in) / float32(out) }

// torchSource is area_pixel_compute_source_index (align_corners=False):
// scale·(dst+0.5)−0.5 in float32, clamped at 0 unless cubic.
func torchSource(scale float32, dst int, cubic bool) float32 {
	s := float32(scale*float32(float32(dst)+0.5)) - 0.5
	if !cubic && s < 0 {
		return 0
	}
	return s
}

// guardIndex is torch's guard_index_and_lambda.
func guardIndex(real float32, in int) (int, float32) {
	i := min(int(math.Floor(float64(real))), in-1)
	l := real - float32(i)
	return i, min(max(l, 0), 1)
}

func tapsNearestExact(in, out int) axisTaps {
	t := newTaps(out, 1)
	scale := torchScale(in, out)
	for o := range out {
		// floorf((dst_index + 0.5) * scale): the product is a double,
		// rounded to float by floorf's parameter.
		s := int(math.Floor(float64(float32((float64(o) + 0.5) * float64(scale)))))
		t.idx[o] = int32(min(s, in-1))
		t.w[o] = 1
	}
	return t
}

func tapsBilinear(in, out int) axisTaps {
	t := newTaps(out, 2)
	scale := torchScale(in, out)
	for o := range out {
		i, l := guardIndex(torchSource(scale, o, false), in)
		off := 0
		if i < in-1 {
			off = 1
		}
		t.idx[2*o], t.idx[2*o+1] = int32(i), int32(i+off)
		t.w[2*o], t.w[2*o+1] = 1-l, l
	}
	return t
}

// cubicA is torch's bicubic coefficient.
const cubicA = -0.75

func cubic1(x float32) float32 { return ((cubicA+2)*x-(cubicA+3))*x*x + 1 }

func cubic2(x float32) float32 { return ((cubicA*x-5*cubicA)*x+8*cubicA)*x - 4*cubicA }

func tapsBicubic(in, out int) axisTaps {
	t := newTaps(out, 4)
	scale := torchScale(in, out)
	for o := range out {
		i, l := guardIndex(torchSource(scale, o, true), in)
		w := [4]float32{cubic2(l + 1), cubic1(l), cubic1(1 - l), cubic2(2 - l)}
		for j := range 4 {
			t.idx[4*o+j] = int32(min(max(i-1+j, 0), in-1))
			t.w[4*o+j] = w[j]
		}
	}
	return t
}

// tapsArea is adaptive_avg_pool: output o averages [floor(o·in/out),
// ceil((o+1)·in/out)).
func tapsArea(in, out int) axisTaps {
	start := func(o int) int { return o * in / out }
	end := func(o int) int { return ((o+1)*in + out - 1) / out }
	k := 0
	for o := range out {
		k = max(k, end(o)-start(o))
	}
	t := newTaps(out, k)
	for o := range out {
		s, e := start(o), end(o)
		for j := range k {
			if s+j < e {
				t.idx[o*k+j] = int32(s + j)
				t.w[o*k+j] = 1 / float32(e-s)
			} else {
				t.idx[o*k+j] = int32(s)
			}
		}
	}
	return t
}

// Pillow's fixed-point precision for 8-bit resampling.
const pilPrecision = 32 - 8 - 2

func pilSinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

func pilLanczos(x float64) float64 {
	if -3 <= x && x < 3 {
		return pilSinc(x) * pilSinc(x/3)
	}
	return 0
}

// tapsLanczos is Pillow's precompute_coeffs for the LANCZOS filter
// (support 3) plus normalize_coeffs_8bpc.
func tapsLanczos(in, out int) axisTaps {
	scale := float64(in) / float64(out)
	filterscale := max(scale, 1)
	support := 3 * filterscale
	k := int(math.Ceil(support))*2 + 1
	t := newTaps(out, k)
	t.fix = make([]int32, out*k)
	ww := make([]float64, k)
	for o := range out {
		center := (float64(o) + 0.5) * scale
		ss := 1 / filterscale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), in) - xmin
		sum := 0.0
		for x := range xmax {
			ww[x] = pilLanczos((float64(x+xmin) - center + 0.5) * ss)
			sum += ww[x]
		}
		for x := range k {
			t.idx[o*k+x] = int32(xmin)
			if x >= xmax {
				continue
			}
			w := ww[x]
			if sum != 0 {
				w /= sum
			}
			t.idx[o*k+x] = int32(xmin + x)
			t.w[o*k+x] = float32(w)
			if w < 0 {
				t.fix[o*k+x] = int32(-0.5 + w*(1<<pilPrecision))
			} else {
				t.fix[o*k+x] = int32(0.5 + w*(1<<pilPrecision))
			}
		}
	}
	return t
}

// resampler resizes a batch of NHWC images: the window [y0,y0+winH) ×
// [x0,x0+winW) of each input picture (the centre crop, or all of it) to
// outH × outW.
type resampler struct {
	b, inH, inW, c     int
	x0, y0, winW, winH int
	outH, outW         int
	lanczos            bool
	tx, ty             axisTaps
	tmp                []float32 // winH·outW·c
	q8, t8             []uint8   // lanczos: quantized window, horizontal result
	inElems, outElems  int
}

// centerCrop is common_upscale's crop="center": the window of the input
// with the target's aspect ratio, computed in float64 and rounded half to
// even as Python does.
func centerCrop(inW, inH, outW, outH int) (x0, y0, w, h int) {
	oldAspect := float64(inW) / float64(inH)
	newAspect := float64(outW) / float64(outH)
	x, y := 0, 0
	if oldAspect > newAspect {
		x = pyRound((float64(inW) - float64(inW)*(newAspect/oldAspect)) / 2)
	} else if oldAspect < newAspect {
		y = pyRound((float64(inH) - float64(inH)*(oldAspect/newAspect)) / 2)
	}
	return x, y, inW - 2*x, inH - 2*y
}

// newResampler sets up a resampler and allocates its scratch buffers.
func newResampler(method, b, inH, inW, c, outH, outW int, crop bool) (*resampler, error) {
	if outH < 1 || outW < 1 {
		return nil, fmt.Errorf("output size %dx%d is empty", outW, outH)
	}
	r := &resampler{b: b, inH: inH, inW: inW, c: c, outH: outH, outW: outW, winW: inW, winH: inH}
	if crop {
		r.x0, r.y0, r.winW, r.winH = centerCrop(inW, inH, outW, outH)
		if r.winW < 1 || r.winH < 1 {
			return nil, fmt.Errorf("centre crop of %dx%d to aspect %dx%d is empty", inW, inH, outW, outH)
		}
	}
	r.lanczos = method == methodLanczos
	r.tx = tapsFor(method, r.winW, outW)
	r.ty = tapsFor(method, r.winH, outH)
	r.inElems, r.outElems = b*inH*inW*c, b*outH*outW*c
	if r.lanczos {
		r.q8 = make([]uint8, r.winH*r.winW*c)
		r.t8 = make([]uint8, r.winH*outW*c)
	} else {
		r.tmp = make([]float32, r.winH*outW*c)
	}
	return r, nil
}

// run resizes src (b·inH·inW·c) into dst (b·outH·outW·c).
func (r *resampler) run(dst, src []float32) {
	inPic, outPic := r.inH*r.inW*r.c, r.outH*r.outW*r.c
	for b := range r.b {
		s := src[b*inPic : (b+1)*inPic]
		d := dst[b*outPic : (b+1)*outPic]
		if r.lanczos {
			r.runLanczos(d, s)
			continue
		}
		r.hpass(s)
		r.vpass(d)
	}
}

// hpass resamples each window row of one picture along x into r.tmp.
func (r *resampler) hpass(src []float32) {
	c, k, outW := r.c, r.tx.k, r.outW
	for y := range r.winH {
		row := src[((r.y0+y)*r.inW+r.x0)*c : ((r.y0+y)*r.inW+r.x0+r.winW)*c]
		trow := r.tmp[y*outW*c : (y+1)*outW*c]
		if c == 3 {
			for o := range outW {
				idx, w := r.tx.idx[o*k:o*k+k], r.tx.w[o*k:o*k+k]
				var a0, a1, a2 float32
				for j, i := range idx {
					p := row[3*int(i) : 3*int(i)+3 : 3*int(i)+3]
					wj := w[j]
					a0 += wj * p[0]
					a1 += wj * p[1]
					a2 += wj * p[2]
				}
				t := trow[3*o : 3*o+3 : 3*o+3]
				t[0], t[1], t[2] = a0, a1, a2
			}
			continue
		}
		for o := range outW {
			idx, w := r.tx.idx[o*k:o*k+k], r.tx.w[o*k:o*k+k]
			for ch := range c {
				var a float32
				for j, i := range idx {
					a += w[j] * row[int(i)*c+ch]
				}
				trow[o*c+ch] = a
			}
		}
	}
}

// vpass resamples r.tmp along y into one output picture.
func (r *resampler) vpass(dst []float32) {
	n, k := r.outW*r.c, r.ty.k
	for o := range r.outH {
		d := dst[o*n : (o+1)*n]
		idx, w := r.ty.idx[o*k:o*k+k], r.ty.w[o*k:o*k+k]
		first := r.tmp[int(idx[0])*n : int(idx[0])*n+n]
		w0 := w[0]
		for x, v := range first {
			d[x] = w0 * v
		}
		for j := 1; j < k; j++ {
			wj := w[j]
			if wj == 0 {
				continue
			}
			t := r.tmp[int(idx[j])*n : int(idx[j])*n+n]
			for x, v := range t {
				d[x] += wj * v
			}
		}
	}
}

// runLanczos is comfy.utils.lanczos on one picture: clip(255·x) truncated
// to bytes, Pillow's two 8-bit passes (horizontal, then vertical, each
// rounded and clipped), then bytes/255.
func (r *resampler) runLanczos(dst, src []float32) {
	c, winRow := r.c, r.winW*r.c
	for y := range r.winH {
		o := ((r.y0+y)*r.inW + r.x0) * c
		value.ToRGB8(r.q8[y*winRow:(y+1)*winRow], src[o:o+winRow])
	}
	k, outRow := r.tx.k, r.outW*c
	for y := range r.winH {
		row, trow := r.q8[y*winRow:(y+1)*winRow], r.t8[y*outRow:(y+1)*outRow]
		for o := range r.outW {
			idx, w := r.tx.idx[o*k:o*k+k], r.tx.fix[o*k:o*k+k]
			for ch := range c {
				ss := int32(1 << (pilPrecision - 1))
				for j, i := range idx {
					ss += int32(row[int(i)*c+ch]) * w[j]
				}
				trow[o*c+ch] = pilClip8(ss)
			}
		}
	}
	k = r.ty.k
	for o := range r.outH {
		idx, w := r.ty.idx[o*k:o*k+k], r.ty.fix[o*k:o*k+k]
		d := dst[o*outRow : (o+1)*outRow]
		for x := range outRow {
			ss := int32(1 << (pilPrecision - 1))
			for j, i := range idx {
				ss += int32(r.t8[int(i)*outRow+x]) * w[j]
			}
			d[x] = rgb8[pilClip8(ss)]
		}
	}
}

// pilClip8 is Pillow's clip8: the fixed-point sum shifted down (floor) and
// clipped to a byte.
func pilClip8(ss int32) uint8 {
	v := ss >> pilPrecision
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// rgb8[b] is float32(b)/255.
var rgb8 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()
