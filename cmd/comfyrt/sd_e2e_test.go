package main

import (
	"encoding/json"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/engine/ort"
)

// needORTBinary skips without ONNX Runtime and points the binary (run in
// a temporary folder) at the library.
func needORTBinary(t *testing.T) {
	t.Helper()
	if err := ort.CheckInit(); err != nil {
		t.Skipf("ONNX Runtime unavailable: %v", err)
	}
	lib, err := ort.LibraryPath()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(ort.LibEnv, lib)
}

// sdWorkflow is LoadImage → VAEEncode → VAEDecode → SaveImage with the VAE
// of a CheckpointLoaderSimple.
const sdWorkflow = `{
 "1": {"class_type": "LoadImage", "inputs": {"image": "pic.png"}},
 "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
 "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 2]}},
 "4": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["2", 2]}},
 "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "vae"}}}`

// TestBinary_VAERoundTrip: the workflow compiles (the loader static, the
// VAE nodes per frame) and runs on a picture through the built binary with
// --models-dir at a generated tiny SD export; the tiny VAE's decode of its
// encode is the picture's 8×8 block means, on the crop to multiples of 8.
func TestBinary_VAERoundTrip(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := (onnxgen.TinySD{}).Write(filepath.Join(models, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	const w, h = 52, 44 // cropped to 48×40 at offsets 2, 2
	pic := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			pic.Set(x, y, color.NRGBA{uint8(x * 4), uint8(y * 5), uint8((x*y)%251 + 3), 255})
		}
	}
	testkit.WritePNG(t, filepath.Join(dir, "pic.png"), pic)
	os.WriteFile(filepath.Join(dir, "wf.json"), []byte(sdWorkflow), 0o644)

	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--width", "52", "--height", "44", "--models-dir", models, "wf.json")
	if r.Code != 0 {
		t.Fatalf("compile: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"CheckpointLoaderSimple", "VAEEncode", "VAEDecode", "LATENT[1,4,5,6]"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("compile output lacks %q\n%s", want, r.Stdout)
		}
	}
	// The loader runs once, at warm-up; the VAE nodes per frame.
	if l, pf, e := strings.Index(r.Stdout, "CheckpointLoaderSimple"), strings.Index(r.Stdout, "per-frame:"), strings.Index(r.Stdout, "VAEEncode"); l < 0 || pf < l || e < pf {
		t.Errorf("the loader is not static or VAEEncode not per frame:\n%s", r.Stdout)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "wf.json", "-i", "pic.png", "-o", "out.png", "--models-dir", models)
	if r.Code != 0 {
		t.Fatalf("run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	got := testkit.ReadPNG(t, filepath.Join(dir, "out.png"))
	if b := got.Bounds(); b.Dx() != 48 || b.Dy() != 40 {
		t.Fatalf("output %v, want 48×40", b)
	}
	worst := 0.0
	for by := 0; by < 40; by += 8 {
		for bx := 0; bx < 48; bx += 8 {
			var sum [3]float64
			for y := range 8 {
				for x := range 8 {
					c := pic.NRGBAAt(bx+x+2, by+y+2)
					sum[0] += float64(c.R) / 255
					sum[1] += float64(c.G) / 255
					sum[2] += float64(c.B) / 255
				}
			}
			for y := range 8 {
				for x := range 8 {
					r, g, b, _ := got.At(bx+x, by+y).RGBA()
					for i, v := range []uint32{r >> 8, g >> 8, b >> 8} {
						// SaveImage writes clip(255·x) truncated.
						want := float64(int(255 * sum[i] / 64))
						worst = max(worst, abs(float64(v)-want))
					}
				}
			}
		}
	}
	if worst > 1 {
		t.Errorf("decode(encode(picture)) is off the block means by %v levels", worst)
	}
}

// TestBinary_VAERoundTripVideo: the same workflow on the sample clip's
// frames (the frame input is the lone LoadImage), three frames.
func TestBinary_VAERoundTripVideo(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := (onnxgen.TinySD{Half: true}).Write(filepath.Join(models, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "wf.json"), []byte(sdWorkflow), 0o644)
	runSampleClip(t, dir, "wf.json", models, 3, "--width", "128", "--height", "96")
}

// runSampleClip runs workflow wf (a path, or a name in dir) through the
// binary on the first frames of the sample clip, in dir, with the models
// in models and any further flags. A run that fails, or whose stats do
// not show frames frames out without an error, is reported (false).
func runSampleClip(t *testing.T, dir, wf, models string, frames int, flags ...string) bool {
	t.Helper()
	clip := filepath.Join(testkit.Root(), "testdata", "media", "sample.mp4")
	args := append([]string{"run", "--workflow", wf, "-i", clip, "-o", "out.mp4", "--models-dir", models,
		"--frames", strconv.Itoa(frames), "--stats-json", "stats.json"}, flags...)
	r := testkit.Run(t, dir, nil, 3*time.Minute, args...)
	if r.Code != 0 {
		t.Errorf("%s: exit %d\n%s%s", wf, r.Code, r.Stdout, r.Stderr)
		return false
	}
	var st struct {
		FramesOut int `json:"frames_out"`
		Errors    int `json:"errors"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "stats.json"))
	if err != nil || json.Unmarshal(data, &st) != nil || st.FramesOut != frames || st.Errors != 0 {
		t.Errorf("%s: stats %s (%v)\n%s", wf, data, err, r.Stderr)
		return false
	}
	return true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
