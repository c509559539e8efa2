package builtin

import (
	"fmt"
	"math"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// Blend modes of ImageBlend, in ComfyUI's combo order.
const (
	blendNormal = iota
	blendMultiply
	blendScreen
	blendOverlay
	blendSoftLight
	blendDifference
)

var blendModes = []string{"normal", "multiply", "screen", "overlay", "soft_light", "difference"}

// imageBlend mirrors nodes_post_processing.py Blend (ImageBlend): image2 is
// resized to image1's size (bicubic, centre crop) when the shapes differ,
// then clamp(image1·(1−f) + mode(image1, image2)·f, 0, 1). "difference" is
// image1 − image2, not its absolute value, as in ComfyUI. Batches broadcast
// as torch does (equal, or one of them 1).
type imageBlend struct {
	base
	mode         int
	f, g         float32 // blend_factor, 1 − blend_factor
	b, b1, b2    int
	pic1, pic2   int // elements per picture of image1, image2 (as given)
	rs           *resampler
	resized      []float32
	n1, n2, nOut int
}

func newImageBlend(cfg nodes.Config) (nodes.Kernel, error) { return &imageBlend{base: base{cfg}}, nil }

func (k *imageBlend) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image1", "image2", "blend_factor", "blend_mode")
	b1, h, w, c := a.image(0)
	b2, h2, w2, c2 := a.image(1)
	f := a.float(2)
	mode := a.choice(3, blendModes...)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c != c2 {
		return nil, fmt.Errorf("image1 has %d channels and image2 %d", c, c2)
	}
	if b1 != b2 && b1 != 1 && b2 != 1 {
		return nil, fmt.Errorf("batch sizes %d and %d do not broadcast", b1, b2)
	}
	k.mode, k.f, k.g = mode, float32(f), float32(1-f)
	k.b, k.b1, k.b2 = max(b1, b2), b1, b2
	k.pic1 = h * w * c
	k.n1, k.n2 = b1*h*w*c, b2*h2*w2*c
	k.rs, k.resized = nil, nil
	k.pic2 = h2 * w2 * c
	if h2 != h || w2 != w {
		rs, err := newResampler(methodBicubic, b2, h2, w2, c, h, w, true)
		if err != nil {
			return nil, err
		}
		k.rs, k.resized, k.pic2 = rs, make([]float32, b2*h*w*c), h*w*c
	}
	k.nOut = k.b * k.pic1
	return []value.Spec{value.TensorSpec(value.Image, k.b, h, w, c)}, nil
}

func (k *imageBlend) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n1, "image1"); err != nil {
		return err
	}
	if err := checkTensor(in[1], k.n2, "image2"); err != nil {
		return err
	}
	i2 := in[1].Tensor.Data
	if k.rs != nil {
		k.rs.run(k.resized, i2)
		i2 = k.resized
	}
	dst := out[0].Tensor.Data[:k.nOut]
	for b := range k.b {
		p := in[0].Tensor.Data[(b%k.b1)*k.pic1:][:k.pic1]
		q := i2[(b%k.b2)*k.pic2:][:k.pic1]
		blend(dst[b*k.pic1:(b+1)*k.pic1], p, q, k.mode, k.f, k.g)
	}
	return nil
}

// blend writes clamp(a·g + mode(a,b)·f) into dst.
func blend(dst, a, b []float32, mode int, f, g float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	switch mode {
	case blendNormal:
		for i, x := range a {
			dst[i] = clamp01(x*g + b[i]*f)
		}
	case blendMultiply:
		for i, x := range a {
			dst[i] = clamp01(x*g + x*b[i]*f)
		}
	case blendScreen:
		for i, x := range a {
			dst[i] = clamp01(x*g + (1-(1-x)*(1-b[i]))*f)
		}
	case blendOverlay:
		for i, x := range a {
			var m float32
			if x <= 0.5 {
				m = 2 * x * b[i]
			} else {
				m = 1 - 2*(1-x)*(1-b[i])
			}
			dst[i] = clamp01(x*g + m*f)
		}
	case blendSoftLight:
		for i, x := range a {
			var m float32
			if y := b[i]; y <= 0.5 {
				m = x - (1-2*y)*x*(1-x)
			} else {
				m = x + (2*y-1)*(softLightG(x)-x)
			}
			dst[i] = clamp01(x*g + m*f)
		}
	case blendDifference:
		for i, x := range a {
			dst[i] = clamp01(x*g + (x-b[i])*f)
		}
	}
}

// softLightG is Blend.g: ((16x−12)x+4)x for x ≤ 0.25, else √x.
func softLightG(x float32) float32 {
	if x <= 0.25 {
		return ((16*x-12)*x + 4) * x
	}
	return float32(math.Sqrt(float64(x)))
}
