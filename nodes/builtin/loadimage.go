package builtin

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// loadImage mirrors nodes.py LoadImage for PNG and JPEG files: the picture
// as RGB floats byte/255, [1,H,W,3]; its MASK output is 1 − alpha for
// pictures with an alpha channel (PNG colour types 4 and 6, the ones Pillow
// opens with an "A" band) and a 64×64 zero mask otherwise, whatever the
// picture's size. The file is read in Prepare (the output shape depends on
// it); Run copies the decoded picture, so the kernel is cheap to run again.
//
// It is also the kernel of PrimaryInputLoadImage, and both can stand for
// the frame input (nodes.FrameInput): prepared with the frame as their only
// input, they pass it through, with the 64×64 zero mask of a picture
// without alpha.
type loadImage struct {
	base
	frame bool
	img   []float32
	mask  []float32
}

func newLoadImage(cfg nodes.Config) (nodes.Kernel, error) { return &loadImage{base: base{cfg}}, nil }

func (k *loadImage) FrameInput() {}

func (k *loadImage) Prepare(in []value.Spec) ([]value.Spec, error) {
	if isFrameBinding(in) {
		b, h, w, c, _ := value.ImageDims(in[0].Shape)
		k.frame, k.img, k.mask = true, nil, nil
		return []value.Spec{value.TensorSpec(value.Image, b, h, w, c), value.MaskSpec(1, 64, 64)}, nil
	}
	a := newArgs(in, "image")
	name := a.str(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if k.cfg.Confined && k.cfg.InputDir == "" {
		return nil, fmt.Errorf("input image %q: no input folder is configured for this server", name)
	}
	path, err := resolveInput(k.cfg.InputDir, name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("invalid image file %s: %w", name, err)
	}
	img, mask, h, w, err := decodePicture(data)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	k.frame, k.img = false, img
	ms := value.MaskSpec(1, 64, 64)
	if mask != nil {
		ms = value.MaskSpec(1, h, w)
	} else {
		mask = make([]float32, 64*64)
	}
	k.mask = mask
	return []value.Spec{value.ImageSpec(1, h, w), ms}, nil
}

func (k *loadImage) Run(in, out []value.Value) error {
	if k.frame {
		if len(in) != 1 || len(in[0].Tensor.Data) != len(out[0].Tensor.Data) {
			return errors.New("frame: size changed since Prepare")
		}
		copyFrame(out[0].Tensor.Data, in[0].Tensor.Data)
		clear(out[1].Tensor.Data)
		return nil
	}
	if k.img == nil {
		return errNotPrepared
	}
	copy(out[0].Tensor.Data, k.img)
	copy(out[1].Tensor.Data, k.mask)
	return nil
}

// isFrameBinding reports whether Prepare got the frame in place of the
// declared inputs (see nodes.FrameInput).
func isFrameBinding(in []value.Spec) bool {
	if len(in) != 1 || in[0].Kind != value.Image {
		return false
	}
	_, _, _, _, ok := value.ImageDims(in[0].Shape)
	return ok
}

// resolveInput maps a LoadImage file name to a path under dir. Like
// folder_paths.get_annotated_filepath it accepts a trailing " [input]"
// annotation; names that would leave dir are refused.
func resolveInput(dir, name string) (string, error) {
	name = strings.TrimSuffix(name, " [input]")
	if name == "" {
		return "", errors.New("input image: no file name")
	}
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("input image: %q is not a file name inside the input folder", name)
	}
	return filepath.Join(dir, rel), nil
}

// decodePicture decodes a PNG or JPEG into RGB floats [H·W·3] and, when
// the picture has an alpha channel, the mask 1 − alpha [H·W].
func decodePicture(data []byte) (rgb, mask []float32, h, w int, err error) {
	var img image.Image
	hasAlpha := false
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		// Pillow opens colour types 4 (grey+alpha) and 6 (RGBA) with an
		// alpha band; palette and tRNS transparency give none.
		if len(data) > 25 {
			hasAlpha = data[25] == 4 || data[25] == 6
		}
		img, err = png.Decode(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		img, err = jpeg.Decode(bytes.NewReader(data))
	default:
		return nil, nil, 0, 0, errors.New("not a PNG or JPEG file")
	}
	if err != nil {
		return nil, nil, 0, 0, err
	}
	r := img.Bounds()
	w, h = r.Dx(), r.Dy()
	rgb = make([]float32, h*w*3)
	if hasAlpha {
		mask = make([]float32, h*w)
	}
	for y := range h {
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA)
			i := y*w + x
			rgb[3*i], rgb[3*i+1], rgb[3*i+2] = rgb8[c.R], rgb8[c.G], rgb8[c.B]
			if mask != nil {
				mask[i] = 1 - rgb8[c.A]
			}
		}
	}
	return rgb, mask, h, w, nil
}
