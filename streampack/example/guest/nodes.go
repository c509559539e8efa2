// Command guest is the example pack's WASM module: three image nodes
// written in Go against comfyrt's WASM ABI 1. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o guest.wasm .
//
// (streampack/example/mkpack does, with the rest of the pack).
package main

import (
	"errors"
	"math"
)

// classes are the node classes this module implements.
var classes = map[string]func() Node{
	"ColorGrade": func() Node { return &colorGrade{} },
	"Vignette":   func() Node { return &vignette{} },
	"LumaKey":    func() Node { return &lumaKey{} },
}

func main() {}

// colorGrade: brightness, contrast and saturation, per pixel.
type colorGrade struct{}

func (colorGrade) Prepare(in []Spec) ([]Spec, error) {
	if len(in) != 4 {
		return nil, errors.New("want inputs image, brightness, contrast, saturation")
	}
	s, err := imageShape(in[0])
	if err != nil {
		return nil, err
	}
	return []Spec{{Kind: "IMAGE", Shape: s}}, nil
}

func (colorGrade) Run(in, out []Value) error {
	ColorGrade(out[0].Tensor.Data, in[0].Tensor.Data, float32(in[1].Float), float32(in[2].Float), float32(in[3].Float))
	return nil
}

// ColorGrade writes dst = grade(src): saturation around the luma, then
// contrast around 0.5, then brightness, clamped to 0..1.
func ColorGrade(dst, src []float32, brightness, contrast, saturation float32) {
	for i := 0; i+2 < len(src) && i+2 < len(dst); i += 3 {
		r, g, b := src[i], src[i+1], src[i+2]
		l := 0.299*r + 0.587*g + 0.114*b
		dst[i] = clamp01((l+(r-l)*saturation-0.5)*contrast + 0.5 + brightness)
		dst[i+1] = clamp01((l+(g-l)*saturation-0.5)*contrast + 0.5 + brightness)
		dst[i+2] = clamp01((l+(b-l)*saturation-0.5)*contrast + 0.5 + brightness)
	}
}

func clamp01(x float32) float32 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// vignette darkens towards the corners: x·(1 − strength·d²), d the
// distance from the centre, 1 at the corners.
type vignette struct{ b, h, w int }

func (v *vignette) Prepare(in []Spec) ([]Spec, error) {
	if len(in) != 2 {
		return nil, errors.New("want inputs image, strength")
	}
	s, err := imageShape(in[0])
	if err != nil {
		return nil, err
	}
	v.b, v.h, v.w = s[0], s[1], s[2]
	return []Spec{{Kind: "IMAGE", Shape: s}}, nil
}

func (v *vignette) Run(in, out []Value) error {
	src, dst := in[0].Tensor.Data, out[0].Tensor.Data
	k := float32(in[1].Float)
	cy, cx := float32(v.h-1)/2, float32(v.w-1)/2
	norm := 1 / (cx*cx + cy*cy + 1e-6)
	i := 0
	for range v.b {
		for y := range v.h {
			dy := float32(y) - cy
			for x := range v.w {
				dx := float32(x) - cx
				f := 1 - k*(dx*dx+dy*dy)*norm
				dst[i], dst[i+1], dst[i+2] = clamp01(src[i]*f), clamp01(src[i+1]*f), clamp01(src[i+2]*f)
				i += 3
			}
		}
	}
	return nil
}

// lumaKey is a soft key on luma: MASK = smoothstep(t−s, t+s, luma).
type lumaKey struct{}

func (lumaKey) Prepare(in []Spec) ([]Spec, error) {
	if len(in) != 3 {
		return nil, errors.New("want inputs image, threshold, softness")
	}
	s, err := imageShape(in[0])
	if err != nil {
		return nil, err
	}
	return []Spec{{Kind: "MASK", Shape: s[:3]}}, nil
}

func (lumaKey) Run(in, out []Value) error {
	src, dst := in[0].Tensor.Data, out[0].Tensor.Data
	t, s := float32(in[1].Float), float32(math.Max(in[2].Float, 1e-4))
	lo, hi := t-s, t+s
	for i := range dst {
		r, g, b := src[3*i], src[3*i+1], src[3*i+2]
		x := clamp01((0.299*r + 0.587*g + 0.114*b - lo) / (hi - lo))
		dst[i] = x * x * (3 - 2*x)
	}
	return nil
}
