// Package picture reads and writes the still pictures of `comfyrt run`
// and `comfyrt test`: PNG or JPEG files as IMAGE (and MASK) tensors.
// It may import nodes/builtin (the picture decoder LoadImage uses) and
// nodes/value.
package picture

import (
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/value"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Read decodes a PNG or JPEG file into an IMAGE [1,H,W,3] (alpha
// dropped, as PIL's convert("RGB")) and the picture's MASK [1,H,W]
// (1 − alpha, as LoadImage) when it has an alpha channel (the zero
// Tensor otherwise). A picture whose header claims more than maxPixels
// pixels (0: the default) is refused before it is decoded.
func Read(name string, maxPixels int64) (frame, mask value.Tensor, err error) {
	f, err := os.Open(name)
	if err != nil {
		return frame, mask, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return frame, mask, fmt.Errorf("%s: not a regular file", name)
	}
	pic, err := builtin.DecodePicture(f, maxPixels)
	if err != nil {
		return frame, mask, fmt.Errorf("%s: %w", name, err)
	}
	frame = value.Tensor{Shape: []int{1, pic.H, pic.W, 3}, Data: pic.RGB}
	if pic.Mask != nil {
		mask = value.Tensor{Shape: []int{1, pic.H, pic.W}, Data: pic.Mask}
	}
	return frame, mask, nil
}

// Write writes the first image of an IMAGE [B,H,W,3] (or a MASK
// [B,H,W], as grey) as PNG, or as JPEG when name ends in .jpg or .jpeg,
// 8-bit values clip(255·x) truncated. An RGBA IMAGE [B,H,W,4] keeps its
// alpha in a PNG, as ComfyUI's SaveImage writes one; JPEG has none.
func Write(name string, v value.Value) error {
	var h, w, c int
	switch v.Kind {
	case value.Image:
		_, hh, ww, cc, ok := value.ImageDims(v.Tensor.Shape)
		if !ok || (cc != 3 && cc != 1 && cc != 4) {
			return fmt.Errorf("cannot write IMAGE %s as a picture", value.ShapeString(v.Tensor.Shape))
		}
		h, w, c = hh, ww, cc
	case value.Mask:
		_, hh, ww, ok := value.MaskDims(v.Tensor.Shape)
		if !ok {
			return fmt.Errorf("cannot write MASK %s as a picture", value.ShapeString(v.Tensor.Shape))
		}
		h, w, c = hh, ww, 1
	default:
		return errors.New("the output is not an image")
	}
	ext := strings.ToLower(filepath.Ext(name))
	jpg := ext == ".jpg" || ext == ".jpeg"
	px := make([]byte, h*w*c)
	value.ToRGB8(px, v.Tensor.Data[:h*w*c])
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range h * w {
		o := img.Pix[i*4 : i*4+4]
		switch c {
		case 1:
			o[0], o[1], o[2] = px[i], px[i], px[i]
		default:
			o[0], o[1], o[2] = px[i*c], px[i*c+1], px[i*c+2]
		}
		o[3] = 255
		if c == 4 && !jpg {
			o[3] = px[i*4+3]
		}
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	enc := png.Encode
	if jpg {
		enc = func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, &jpeg.Options{Quality: 95}) }
	}
	if err := enc(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
