package builtin

import (
	"errors"
	"fmt"

	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// loadImage mirrors nodes.py LoadImage for PNG and JPEG files: the picture
// as RGB floats byte/255, [1,H,W,3]; its MASK output is 1 − alpha for
// pictures with an alpha channel (PNG colour types 4 and 6, the ones Pillow
// opens with an "A" band, and palette PNGs with transparency; see
// DecodePicture) and a 64×64 zero mask otherwise, whatever the picture's
// size. The file is read in Prepare (the output shape depends on
// it); Run copies the decoded picture, so the kernel is cheap to run again.
//
// It is also the kernel of PrimaryInputLoadImage, and both can stand for
// the frame input (nodes.FrameInput): prepared with the frame as their only
// input, they pass it through, with the 64×64 zero mask of a picture
// without alpha, or the frame picture's own mask (nodes.Config.FrameMask)
// in a run on a picture with alpha.
//
// The file is opened as files.go says (no symlink out of a confined
// workflow's folder, regular files only, a size cap) and its dimensions
// are checked before it is decoded (DecodePicture).
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
		if fm := k.cfg.FrameMask; b == 1 && len(fm.Data) == h*w && value.EqualShapes(fm.Shape, []int{1, h, w}) {
			// A picture run on a picture with alpha: its mask, as
			// LoadImage gives for that file.
			k.mask = fm.Data
			return []value.Spec{value.TensorSpec(value.Image, b, h, w, c), value.MaskSpec(1, h, w)}, nil
		}
		return []value.Spec{value.TensorSpec(value.Image, b, h, w, c), value.MaskSpec(1, 64, 64)}, nil
	}
	a := newArgs(in, "image")
	name := a.str(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if k.cfg.Confined && k.cfg.InputDir == "" {
		return nil, &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid input image", Input: "image",
			Err: fmt.Errorf("input image %q: no input folder is configured for this server", name)}
	}
	f, err := openInput(k.cfg, name, maxPictureBytes(k.cfg.MaxImagePixels))
	if err != nil {
		return nil, err
	}
	pic, err := DecodePicture(f, k.cfg.MaxImagePixels)
	f.Close()
	if err != nil {
		return nil, &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid image file", Input: "image",
			Err: fmt.Errorf("input image %q: %w", name, err)}
	}
	k.frame, k.img = false, pic.RGB
	ms := value.MaskSpec(1, 64, 64)
	mask := pic.Mask
	if mask != nil {
		ms = value.MaskSpec(1, pic.H, pic.W)
	} else {
		mask = make([]float32, 64*64)
	}
	k.mask = mask
	return []value.Spec{value.ImageSpec(1, pic.H, pic.W), ms}, nil
}

func (k *loadImage) Run(in, out []value.Value) error {
	if k.frame {
		if len(in) != 1 || len(in[0].Tensor.Data) != len(out[0].Tensor.Data) {
			return errors.New("frame: size changed since Prepare")
		}
		copyFrame(out[0].Tensor.Data, in[0].Tensor.Data)
		if k.mask != nil {
			copy(out[1].Tensor.Data, k.mask)
		} else {
			clear(out[1].Tensor.Data)
		}
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
