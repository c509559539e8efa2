package picture

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"comfyrt/nodes/value"
)

// TestWriteRGBA: an RGBA IMAGE (JoinImageWithAlpha's) is a PNG with its
// alpha, 8-bit as ComfyUI saves; as JPEG the colours stay unpremultiplied.
func TestWriteRGBA(t *testing.T) {
	dir := t.TempDir()
	img := value.NewTensor(1, 1, 2, 4)
	copy(img.Data, []float32{1, 0.5, 0, 0.75, 0, 0, 1, 0})
	name := filepath.Join(dir, "a.png")
	if err := Write(name, value.OfTensor(value.Image, img)); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := dec.(*image.NRGBA)
	if !ok {
		t.Fatalf("decoded %T, want an NRGBA PNG", dec)
	}
	if got := n.Pix; got[0] != 255 || got[1] != 127 || got[2] != 0 || got[3] != 191 || got[6] != 255 || got[7] != 0 {
		t.Errorf("pixels %v, want [255 127 0 191 0 0 255 0]", got)
	}
	// One colour over 8×8 pixels (JPEG shares chroma between pixels).
	flat := value.NewTensor(1, 8, 8, 4)
	for i := 0; i < len(flat.Data); i += 4 {
		copy(flat.Data[i:], []float32{1, 0.5, 0, 0.25})
	}
	jpg := filepath.Join(dir, "a.jpg")
	if err := Write(jpg, value.OfTensor(value.Image, flat)); err != nil {
		t.Fatal(err)
	}
	got, _, err := Read(jpg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r, g := got.Data[0], got.Data[1]; r < 0.95 || g < 0.45 || g > 0.55 {
		t.Errorf("JPEG of an RGBA picture: %v (colours darkened by the alpha?)", got.Data[:3])
	}
}
