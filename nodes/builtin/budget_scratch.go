package builtin

import (
	"image"
	"math"

	"comfyrt/nodes/value"
)

// Scratch declarations (nodes.Scratcher): the bytes a kernel's Prepare
// allocates for given input specs, computed without allocating, so that
// the compiler refuses a plan over its memory budget before they are. They
// mirror the allocations in Prepare and round up; inputs Prepare would
// reject count 0 (Prepare then says what is wrong).

// mulSat multiplies non-negative sizes, saturating at MaxInt64.
func mulSat(xs ...int64) int64 {
	n := int64(1)
	for _, x := range xs {
		if x <= 0 {
			return 0
		}
		if n > math.MaxInt64/x {
			return math.MaxInt64
		}
		n *= x
	}
	return n
}

func addSat(xs ...int64) int64 {
	var n int64
	for _, x := range xs {
		if x > math.MaxInt64-n {
			return math.MaxInt64
		}
		n += x
	}
	return n
}

// tapsScratch bounds the taps of one axis resampled from in to out
// samples: out·k entries of an index, a weight and (lanczos) a fixed-point
// weight, k growing with the downscale factor.
func tapsScratch(in, out int) int64 {
	ratio := int64(1)
	if in > out && out > 0 {
		ratio = int64((in + out - 1) / out)
	}
	k := addSat(mulSat(6, ratio), 3)
	return mulSat(12, int64(out), k)
}

// resamplerScratch bounds what newResampler allocates (the crop window is
// at most the input).
func resamplerScratch(method, inH, inW, c, outH, outW int) int64 {
	taps := addSat(tapsScratch(inW, outW), tapsScratch(inH, outH))
	if method == methodLanczos {
		return addSat(taps, mulSat(int64(inH), int64(inW), int64(c)), mulSat(int64(inH), int64(outW), int64(c)))
	}
	return addSat(taps, mulSat(4, int64(inH), int64(outW), int64(c)))
}

// Scratch is the resampler's (ImageScale, ImageScaleBy); none for a
// pass-through.
func (k *imageScale) Scratch(in []value.Spec) (int64, error) {
	var a *args
	var h, w, c, method, ow, oh int
	if k.by {
		a = newArgs(in, "image", "upscale_method", "scale_by")
		_, h, w, c = a.image(0)
		method = a.choice(1, upscaleMethods...)
		s := a.float(2)
		if a.Err() != nil || !(s > 0) {
			return 0, nil
		}
		ow, oh = pyRound(float64(w)*s), pyRound(float64(h)*s)
	} else {
		a = newArgs(in, "image", "upscale_method", "width", "height", "crop")
		_, h, w, c = a.image(0)
		method = a.choice(1, upscaleMethods...)
		tw, th := a.int(2), a.int(3)
		if a.Err() != nil || tw < 0 || th < 0 || (tw == 0 && th == 0) || h <= 0 || w <= 0 {
			return 0, nil
		}
		ow, oh = int(tw), int(th)
		if ow == 0 {
			ow = max(1, pyRound(float64(w)*float64(th)/float64(h)))
		} else if oh == 0 {
			oh = max(1, pyRound(float64(h)*float64(tw)/float64(w)))
		}
	}
	if ow < 1 || oh < 1 {
		return 0, nil
	}
	return resamplerScratch(method, h, w, c, oh, ow), nil
}

// Scratch is image2 resized to image1's size, and its resampler.
func (k *imageBlend) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "image1", "image2", "blend_factor", "blend_mode")
	_, h, w, c := a.image(0)
	b2, h2, w2, _ := a.image(1)
	if a.Err() != nil || (h2 == h && w2 == w) {
		return 0, nil
	}
	return addSat(mulSat(4, int64(b2), int64(h), int64(w), int64(c)), resamplerScratch(methodBicubic, h2, w2, c, h, w)), nil
}

// Scratch is the source and the mask resized to the destination, and
// their resamplers.
func (k *imageCompositeMasked) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "destination", "source", "x", "y", "resize_source", "mask")
	_, hd, wd, c := a.image(0)
	bs, hs, ws, _ := a.image(1)
	resize := a.bool(4)
	var bm, hm, wm int
	if a.present(5) {
		bm, hm, wm = a.mask(5)
	}
	if a.Err() != nil {
		return 0, nil
	}
	var n int64
	if resize && (hs != hd || ws != wd) {
		n = addSat(mulSat(4, int64(bs), int64(hd), int64(wd), int64(c)), resamplerScratch(methodBilinear, hs, ws, c, hd, wd))
		hs, ws = hd, wd
	}
	if bm > 0 && (hm != hs || wm != ws) {
		n = addSat(n, mulSat(4, int64(bm), int64(hs), int64(ws)), resamplerScratch(methodBilinear, hm, wm, 1, hs, ws))
	}
	return n, nil
}

// Scratch is what reading the picture holds: the file, the decoded image
// (at most 8 bytes a pixel, 16-bit RGBA), the RGB floats, the mask and the
// conversion garbage of decodePicture (8 bytes a pixel), from
// the size in the file's header (the header alone is read). A picture
// bound as the frame needs none.
func (k *loadImage) Scratch(in []value.Spec) (int64, error) {
	if isFrameBinding(in) {
		return 0, nil
	}
	a := newArgs(in, "image")
	name := a.str(0)
	if a.Err() != nil || (k.cfg.Confined && k.cfg.InputDir == "") {
		return 0, nil
	}
	// Through openInput: the same confinement (no link out of the input
	// folder, regular files only, no blocking open) as Prepare.
	f, err := openInput(k.cfg, name, maxPictureBytes(k.cfg.MaxImagePixels))
	if err != nil {
		return 0, nil // Prepare reports it
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, nil
	}
	size := maxPictureBytes(k.cfg.MaxImagePixels)
	if i, ok := f.(inputFile); ok {
		if st, err := i.f.Stat(); err == nil {
			size = st.Size()
		}
	}
	px := mulSat(int64(max(cfg.Width, 0)), int64(max(cfg.Height, 0)))
	limit := k.cfg.MaxImagePixels
	if limit <= 0 {
		limit = DefaultMaxImagePixels
	}
	if px > limit {
		return 0, nil // Prepare refuses it before decoding, naming the limit
	}
	return addSat(size, mulSat(8+12+4+8, px)), nil
}

// sepConvScratch is what newSepConv holds besides the kernel's output:
// one picture of h·w·c floats (the horizontal pass) and the taps of a
// kernel of size entries (float32, and the float64 sums of OpenCV's).
func sepConvScratch(h, w, c int, size int64) int64 {
	return addSat(mulSat(4, int64(h), int64(w), int64(c)), mulSat(12, size))
}

// Scratch is the separable convolution's temporary picture; none for
// blur_radius 0 (a copy).
func (k *imageBlur) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "image", "blur_radius", "sigma")
	_, h, w, c := a.image(0)
	r := a.int(1)
	if a.Err() != nil || r <= 0 {
		return 0, nil
	}
	return sepConvScratch(h, w, c, addSat(mulSat(2, r), 1)), nil
}

// Scratch is the separable convolution's temporary picture; none for
// sharpen_radius 0 (a copy).
func (k *imageSharpen) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "image", "sharpen_radius", "sigma", "alpha")
	_, h, w, c := a.image(0)
	r := a.int(1)
	if a.Err() != nil || r <= 0 {
		return 0, nil
	}
	return sepConvScratch(h, w, c, addSat(mulSat(2, r), 1)), nil
}

// Scratch is the separable convolution's temporary picture.
func (k *gaussianBlur) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "images", "kernel_size", "sigma", "mode")
	_, h, w, c := a.image(0)
	size := a.int(1)
	if a.Err() != nil || size < 1 || size%2 == 0 || size > 4*int64(max(h, w))+1 {
		return 0, nil
	}
	return sepConvScratch(h, w, c, size), nil
}

// Scratch is the horizontal pass of one picture (h·w floats), the three
// bit planes of the binary path (h rows of ⌈w/64⌉ words each) and, for
// more than one round, the ping-pong picture (h·w floats).
func (k *growMask) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "mask", "expand", "tapered_corners")
	_, h, w := a.mask(0)
	expand := a.int(1)
	if a.Err() != nil || h <= 0 || w <= 0 {
		return 0, nil
	}
	rounds := min(max(expand, -expand), int64(h+w))
	if rounds <= 0 {
		return 0, nil
	}
	hw := mulSat(4, int64(h), int64(w))
	n := addSat(hw, mulSat(3*8, int64(h), int64((w+63)/64)))
	if rounds > 1 {
		n = addSat(n, hw)
	}
	return n, nil
}
