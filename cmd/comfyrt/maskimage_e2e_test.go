package main

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

// maskImageWF uses the model-free mask and image nodes of issue 12 on the
// frame: the frame mirrored, a square QuickShapeMask added onto a 0.25
// SolidMask (MaskComposite), joined to the mirrored frame as its alpha and
// split again, batched with the mirror and picked back out, padded for
// outpainting; the second output is the split mask as a picture, the
// third the RGBA picture JoinImageWithAlpha made.
const maskImageWF = `{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "frame.png"}},
 "2": {"class_type": "ImageFlip", "inputs": {"image": ["1", 0], "flip_method": "y-axis: horizontally"}},
 "3": {"class_type": "QuickShapeMask", "inputs": {"shape": "square", "width": 16, "height": 16, "x": 32, "y": 24,
       "canvas_width": 64, "canvas_height": 48, "batch_size": 1}},
 "4": {"class_type": "SolidMask", "inputs": {"value": 0.25, "width": 64, "height": 48}},
 "5": {"class_type": "MaskComposite", "inputs": {"destination": ["4", 0], "source": ["3", 0], "x": 0, "y": 0, "operation": "add"}},
 "6": {"class_type": "FeatherMask", "inputs": {"mask": ["5", 0], "left": 0, "top": 0, "right": 0, "bottom": 0}},
 "7": {"class_type": "JoinImageWithAlpha", "inputs": {"image": ["2", 0], "alpha": ["6", 0]}},
 "8": {"class_type": "SplitImageWithAlpha", "inputs": {"image": ["7", 0]}},
 "9": {"class_type": "ImageBatch", "inputs": {"image1": ["8", 0], "image2": ["2", 0]}},
 "10": {"class_type": "ImageFromBatch", "inputs": {"image": ["9", 0], "batch_index": 1, "length": 1}},
 "11": {"class_type": "ImagePadForOutpaint", "inputs": {"image": ["10", 0], "left": 8, "top": 0, "right": 8, "bottom": 0, "feathering": 0}},
 "12": {"class_type": "MaskToImage", "inputs": {"mask": ["8", 1]}},
 "20": {"class_type": "PreviewImage", "inputs": {"images": ["11", 0]}},
 "21": {"class_type": "PreviewImage", "inputs": {"images": ["12", 0]}},
 "22": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}
}`

// TestBinary_RunMaskImageNodes: the workflow compiles (compile prints its
// steps) and runs on a generated picture through the built binary; both
// outputs hold what ComfyUI's definitions give, 8-bit as it saves.
func TestBinary_RunMaskImageNodes(t *testing.T) {
	dir := t.TempDir()
	in, src := writeTestPNG(t, dir, "in.png", 64, 48)
	wf := filepath.Join(dir, "wf.json")
	if err := os.WriteFile(wf, []byte(maskImageWF), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--width", "64", "--height", "48", wf)
	if r.Code != 0 {
		t.Fatalf("compile: exit %d\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"MaskComposite", "JoinImageWithAlpha", "IMAGE[1,48,64,4]", "ImagePadForOutpaint", "IMAGE[1,48,80,3]"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("compile output lacks %q:\n%s", want, r.Stdout)
		}
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", wf, "-i", in, "-o", "out.png")
	if r.Code != 0 {
		t.Fatalf("run: exit %d\n%s", r.Code, r.Stderr)
	}
	padded := testkit.ReadPNG(t, filepath.Join(dir, "out.png"))
	if padded.Bounds() != image.Rect(0, 0, 80, 48) {
		t.Fatalf("out.png is %v, want 80×48", padded.Bounds())
	}
	for y := range 48 {
		for x := range 80 {
			got := rgbAt(padded, x, y)
			want := [3]int{127, 127, 127} // the 0.5 border, clip(255·x) truncated
			if x >= 8 && x < 72 {
				s := src.NRGBAAt(63-(x-8), y) // mirrored
				want = [3]int{int(s.R), int(s.G), int(s.B)}
			}
			if got != want {
				t.Fatalf("out.png (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	mask := testkit.ReadPNG(t, filepath.Join(dir, "out-21.png"))
	if mask.Bounds() != image.Rect(0, 0, 64, 48) {
		t.Fatalf("out-21.png is %v", mask.Bounds())
	}
	for y := range 48 {
		for x := range 64 {
			want := 63 // 0.25
			if x >= 24 && x < 40 && y >= 16 && y < 32 {
				want = 255 // 0.25 + 1 clamped
			}
			if got := rgbAt(mask, x, y); got != [3]int{want, want, want} {
				t.Fatalf("out-21.png (%d,%d) = %v, want %d", x, y, got, want)
			}
		}
	}
	rgba, ok := testkit.ReadPNG(t, filepath.Join(dir, "out-22.png")).(*image.NRGBA)
	if !ok || rgba.Bounds() != image.Rect(0, 0, 64, 48) {
		t.Fatalf("out-22.png is not a 64×48 NRGBA picture")
	}
	for _, p := range []image.Point{{0, 0}, {30, 20}, {63, 47}, {24, 31}, {40, 16}} {
		s, c := src.NRGBAAt(63-p.X, p.Y), rgba.NRGBAAt(p.X, p.Y)
		alpha := uint8(191) // 1 − 0.25, clip(255·x) truncated
		if p.X >= 24 && p.X < 40 && p.Y >= 16 && p.Y < 32 {
			alpha = 0
		}
		if c.R != s.R || c.G != s.G || c.B != s.B || c.A != alpha {
			t.Errorf("out-22.png at %v = %v, want the mirrored pixel %v with alpha %d", p, c, s, alpha)
		}
	}
}

func rgbAt(img image.Image, x, y int) [3]int {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
}

// TestBinary_RunTextRenderer: ComfyStream's text generator workflow
// (PrimitiveString → TextRenderer → PreviewImage, as in the corpus' "test
// generative workflow") runs without a frame input and writes the text,
// white on black, centred.
func TestBinary_RunTextRenderer(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "text.json")
	if err := os.WriteFile(wf, []byte(`{
 "1": {"class_type": "PrimitiveString", "inputs": {"value": "gen stream success!"}},
 "7": {"class_type": "TextRenderer", "inputs": {"any": ["1", 0], "width": 512, "height": 256, "font_size": 48,
       "font_color": "white", "background_color": "black", "x_offset": 0, "y_offset": 0, "align": "center", "wrap_width": 0}},
 "10": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, time.Minute, "run", wf, "-o", "text.png")
	if r.Code != 0 {
		t.Fatalf("run: exit %d\n%s", r.Code, r.Stderr)
	}
	img := testkit.ReadPNG(t, filepath.Join(dir, "text.png"))
	if img.Bounds() != image.Rect(0, 0, 512, 256) {
		t.Fatalf("text.png is %v", img.Bounds())
	}
	x0, y0, x1, y1 := 512, 256, -1, -1
	for y := range 256 {
		for x := range 512 {
			c := rgbAt(img, x, y)
			if c[0] != c[1] || c[1] != c[2] {
				t.Fatalf("(%d,%d) = %v is not grey", x, y, c)
			}
			if c[0] > 127 {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	// The text's ink is centred (within the glyphs' bearings) and spans
	// about what 19 characters of a 48-pixel font do.
	cx, cy := (x0+x1)/2, (y0+y1)/2
	if x1 < 0 || cx < 246 || cx > 266 || cy < 118 || cy > 138 || x1-x0 < 300 || x1-x0 > 480 || y1-y0 < 30 || y1-y0 > 60 {
		t.Errorf("ink %d,%d–%d,%d: not a centred line of 48-pixel text", x0, y0, x1, y1)
	}
	// The corpus' own file, when the corpus is there.
	if path := testkit.CorpusPath(); path != "" {
		cw := filepath.Join(path, "comfystream", "test generative workflow-2-api-t2i.json")
		if _, err := os.Stat(cw); err == nil {
			r := testkit.Run(t, dir, nil, time.Minute, "run", cw, "-o", "corpus.png")
			if r.Code != 0 {
				t.Fatalf("run %s: exit %d\n%s", cw, r.Code, r.Stderr)
			}
			if b := testkit.ReadPNG(t, filepath.Join(dir, "corpus.png")).Bounds(); b != image.Rect(0, 0, 512, 512) {
				t.Errorf("corpus.png is %v", b)
			}
			t.Logf("ran the corpus' %s", filepath.Base(cw))
		}
	}
}
