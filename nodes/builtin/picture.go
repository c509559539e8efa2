package builtin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
)

// DefaultMaxImagePixels is the largest picture (width × height) LoadImage
// and a picture run decode unless configured otherwise: 8192×8192, whose
// RGB floats take 768 MiB.
const DefaultMaxImagePixels = 8192 * 8192

// maxPictureBytes is the size cap of a picture file of at most px pixels:
// 8 bytes a pixel (16-bit RGBA stored uncompressed) and 1 MiB of headers
// and metadata.
func maxPictureBytes(px int64) int64 {
	if px <= 0 {
		px = DefaultMaxImagePixels
	}
	return 8*px + 1<<20
}

// Picture is a decoded picture: RGB floats byte/255 [H·W·3] and, when the
// picture has an alpha channel, Mask = 1 − alpha [H·W] (nil otherwise).
type Picture struct {
	W, H int
	RGB  []float32
	Mask []float32
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// DecodePicture decodes a PNG or JPEG from r. It reads the dimensions the
// header claims first (image.DecodeConfig) and refuses a picture of more
// than maxPixels pixels (0: DefaultMaxImagePixels) before decoding it. As
// ComfyUI's LoadImage (Pillow), a picture has an alpha channel when it is a
// PNG of colour type 4 (grey and alpha) or 6 (RGBA), or a palette PNG with
// a tRNS chunk (mode "P" with "transparency"); the tRNS transparency of a
// grey or RGB PNG gives none.
func DecodePicture(r io.Reader, maxPixels int64) (Picture, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxImagePixels
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(26)
	var (
		kind     string
		config   func(io.Reader) (image.Config, error)
		decode   func(io.Reader) (image.Image, error)
		hasAlpha bool
	)
	switch {
	case bytes.HasPrefix(head, pngSignature):
		kind, config, decode = "PNG", png.DecodeConfig, png.Decode
		hasAlpha = len(head) > 25 && (head[25] == 4 || head[25] == 6)
	case bytes.HasPrefix(head, []byte("\xff\xd8")):
		kind, config, decode = "JPEG", jpeg.DecodeConfig, jpeg.Decode
	default:
		return Picture{}, errors.New("not a readable PNG or JPEG picture")
	}
	var hdr bytes.Buffer // what DecodeConfig read, read again by the decoder
	cfg, err := config(io.TeeReader(br, &hdr))
	if err != nil {
		return Picture{}, fmt.Errorf("not a readable %s: %w", kind, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Picture{}, fmt.Errorf("the %s is empty (%d×%d)", kind, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return Picture{}, fmt.Errorf("the %s is %d×%d (%d pixels), over the limit of %d pixels (--max-image-pixels)",
			kind, cfg.Width, cfg.Height, px, maxPixels)
	}
	img, err := decode(io.MultiReader(&hdr, br))
	if err != nil {
		return Picture{}, fmt.Errorf("not a readable %s: %w", kind, err)
	}
	if pal, ok := img.(*image.Paletted); ok && kind == "PNG" && head[25] == 3 {
		// Pillow's mode "P" with a "transparency" entry: Go's decoder
		// turns the palette entries a tRNS chunk covers into NRGBA.
		for _, c := range pal.Palette {
			if _, ok := c.(color.NRGBA); ok {
				hasAlpha = true
				break
			}
		}
	}
	b := img.Bounds()
	p := Picture{W: b.Dx(), H: b.Dy()}
	p.RGB = make([]float32, p.H*p.W*3)
	if hasAlpha {
		p.Mask = make([]float32, p.H*p.W)
	}
	if n, ok := img.(*image.NRGBA); ok {
		for y := range p.H {
			row := n.Pix[y*n.Stride : y*n.Stride+4*p.W]
			for x := range p.W {
				p.set(y*p.W+x, row[4*x], row[4*x+1], row[4*x+2], row[4*x+3])
			}
		}
		return p, nil
	}
	for y := range p.H {
		for x := range p.W {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			p.set(y*p.W+x, c.R, c.G, c.B, c.A)
		}
	}
	return p, nil
}

func (p *Picture) set(i int, r, g, b, a uint8) {
	p.RGB[3*i], p.RGB[3*i+1], p.RGB[3*i+2] = rgb8[r], rgb8[g], rgb8[b]
	if p.Mask != nil {
		p.Mask[i] = 1 - rgb8[a]
	}
}
