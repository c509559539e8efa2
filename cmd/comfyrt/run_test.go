package main

import (
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
)

// writeTestPNG writes a w×h gradient picture and returns it.
func writeTestPNG(t *testing.T, dir, name string, w, h int) (string, *image.NRGBA) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x * 255 / (w - 1)), G: uint8(y * 255 / (h - 1)), B: uint8((x + y) % 256), A: 255})
		}
	}
	p := filepath.Join(dir, name)
	testkit.WritePNG(t, p, img)
	return p, img
}

func TestRun_InvertEndToEnd(t *testing.T) {
	dir := t.TempDir()
	wf := writeFile(t, "invert.json", invertWorkflow)
	in, src := writeTestPNG(t, dir, "in.png", 37, 21)
	out := filepath.Join(dir, "out.png")
	code, stdout, stderr := cli(t, "", "run", "--workflow", wf, "-i", in, "-o", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "SaveTensor #3 [1,21,37,3]") {
		t.Errorf("stdout %q", stdout)
	}
	got := testkit.ReadPNG(t, out)
	if got.Bounds().Dx() != 37 || got.Bounds().Dy() != 21 {
		t.Fatalf("size %v", got.Bounds())
	}
	for y := range 21 {
		for x := range 37 {
			r, g, b, _ := got.At(x, y).RGBA()
			s := src.NRGBAAt(x, y)
			for i, pair := range [][2]int{{int(r >> 8), int(s.R)}, {int(g >> 8), int(s.G)}, {int(b >> 8), int(s.B)}} {
				// out = 1 − in within 1/255 (8-bit truncation).
				if d := pair[0] - (255 - pair[1]); d < -1 || d > 1 {
					t.Fatalf("pixel (%d,%d) channel %d = %d, want 255-%d", x, y, i, pair[0], pair[1])
				}
			}
		}
	}
}

func TestRun_JPEGAndStaticImage(t *testing.T) {
	dir := t.TempDir()
	// A static LoadImage read from the workflow's folder, blended with
	// the frame (a JPEG).
	_, _ = writeTestPNG(t, dir, "bg.png", 16, 16)
	jp := filepath.Join(dir, "frame.jpg")
	f, _ := os.Create(jp)
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wf := filepath.Join(dir, "blend.json")
	os.WriteFile(wf, []byte(`{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "x.png"}},
 "2": {"class_type": "LoadImage", "inputs": {"image": "bg.png"}},
 "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 1.0, "blend_mode": "multiply"}},
 "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}
}`), 0o644)
	out := filepath.Join(dir, "out.png")
	if code, _, stderr := cli(t, "", "run", "--workflow", wf, "-i", jp, "-o", out); code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	// white × bg = bg.
	got := testkit.ReadPNG(t, out)
	r, _, _, _ := got.At(15, 0).RGBA()
	if r>>8 < 250 {
		t.Errorf("red at (15,0) = %d, want ~255", r>>8)
	}
	// Missing static file under another --input-dir.
	code, _, stderr := cli(t, "", "run", "--workflow", wf, "-i", jp, "-o", out, "--input-dir", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "node 2 (LoadImage)") || !strings.Contains(stderr, "bg.png") {
		t.Errorf("missing static image: code %d %s", code, stderr)
	}
}

func TestRun_GeneratorWithoutInput(t *testing.T) {
	dir := t.TempDir()
	wf := writeFile(t, "gen.json", `{
 "1": {"class_type": "SolidMask", "inputs": {"value": 0.5, "width": 8, "height": 4}},
 "2": {"class_type": "MaskToImage", "inputs": {"mask": ["1", 0]}},
 "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}},
 "4": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 255}},
 "5": {"class_type": "PreviewImage", "inputs": {"images": ["4", 0]}}
}`)
	out := filepath.Join(dir, "gen.png")
	code, stdout, stderr := cli(t, "", "run", "--workflow", wf, "-o", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	got := testkit.ReadPNG(t, out)
	if r, _, _, _ := got.At(0, 0).RGBA(); got.Bounds().Dx() != 8 || r>>8 != 127 {
		t.Errorf("gen.png %v, red %d (want 127)", got.Bounds(), r>>8)
	}
	second := filepath.Join(dir, "gen-5.png")
	if b, _, _, _ := testkit.ReadPNG(t, second).At(0, 0).RGBA(); b>>8 != 0 {
		t.Errorf("second output red %d", b>>8)
	}
	if !strings.Contains(stdout, "gen-5.png: PreviewImage #5") {
		t.Errorf("stdout %q", stdout)
	}
}

func TestRun_Errors(t *testing.T) {
	dir := t.TempDir()
	wf := writeFile(t, "invert.json", invertWorkflow)
	out := filepath.Join(dir, "o.png")
	code, _, stderr := cli(t, "", "run", "--workflow", wf, "-o", out)
	if code != 2 || !strings.Contains(stderr, "reads a frame (LoadTensor #1): give a picture with -i") {
		t.Errorf("missing -i: code %d %s", code, stderr)
	}
	bad := writeFile(t, "bad.png", "not a picture")
	code, _, stderr = cli(t, "", "run", "--workflow", wf, "-i", bad, "-o", out)
	if code != 2 || !strings.Contains(stderr, "not a readable PNG or JPEG") {
		t.Errorf("unreadable image: code %d %s", code, stderr)
	}
	code, _, stderr = cli(t, "", "run", "--workflow", wf, "-i", filepath.Join(dir, "none.png"), "-o", out)
	if code != 2 || !strings.Contains(stderr, "none.png") {
		t.Errorf("missing image: code %d %s", code, stderr)
	}
	if code, _, _ := cli(t, "", "run", "-o", out, "-i", bad); code != 2 {
		t.Errorf("no --workflow: code %d", code)
	}
	if code, _, stderr := cli(t, "", "run", "--workflow", wf, "-i", bad); code != 2 || !strings.Contains(stderr, "no output file") {
		t.Errorf("picture without -o: code %d %s", code, stderr)
	}
	noOut := writeFile(t, "noout.json", `{"1": {"class_type": "LoadTensor", "inputs": {}}}`)
	code, _, stderr = cli(t, "", "run", "--workflow", noOut, "-o", out)
	if code != 1 || !strings.Contains(stderr, "prompt_no_outputs") {
		t.Errorf("no output: code %d %s", code, stderr)
	}
}
