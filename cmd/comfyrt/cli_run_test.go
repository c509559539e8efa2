package main

// `comfyrt run` through the built binary in a real process: the built-in
// default workflow and clip, WORKFLOW as a positional argument, '-' for
// standard input, JPEG output, and the message for a missing ONNX Runtime.

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt"
	"comfyrt/executor/media/av"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
)

// TestBinary_RunNoArgsAnyFolder: `comfyrt run` with no arguments, in an
// empty folder far from the checkout, runs the built-in default workflow
// on the built-in sample clip and writes ./out.mp4 with every frame of the
// clip.
func TestBinary_RunNoArgsAnyFolder(t *testing.T) {
	needAV(t)
	dir := t.TempDir()
	r := testkit.Run(t, dir, nil, 3*time.Minute, "run")
	if r.Code != 0 {
		t.Fatalf("comfyrt run: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, defaultOut) || !strings.Contains(r.Stdout, defaultClip) {
		t.Errorf("stdout does not name the output and the clip: %q", r.Stdout)
	}
	clip := filepath.Join(t.TempDir(), "sample.mp4")
	if err := os.WriteFile(clip, comfyrt.SampleClip, 0o644); err != nil {
		t.Fatal(err)
	}
	want := len(decodeAll(t, clip))
	got := decodeAll(t, filepath.Join(dir, "out.mp4"))
	if len(got) != want || want == 0 {
		t.Fatalf("out.mp4 has %d frames, the sample clip %d", len(got), want)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 {
		t.Errorf("the folder holds %d entries, want out.mp4 only", len(left))
	}
}

// TestBinary_RunClipFromStdinWorkflow: a clip through a workflow read from
// standard input (`--workflow -`), every frame out.
func TestBinary_RunClipFromStdinWorkflow(t *testing.T) {
	needAV(t)
	dir := t.TempDir()
	in := stampedClip(t, 6)
	r := testkit.Run(t, dir, []byte(invertWF), 3*time.Minute, "run", "--workflow", "-", "-i", in, "-o", "inv.mp4", "--max-fps", "0")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	if n := len(decodeAll(t, filepath.Join(dir, "inv.mp4"))); n != 6 {
		t.Errorf("inv.mp4 has %d frames, want 6", n)
	}
}

// TestBinary_RunPicturePositionalJPEG: `comfyrt run WORKFLOW -i IN.png -o
// OUT.jpg` takes the workflow as a positional argument and writes a real
// JPEG (it once wrote PNG bytes into a .jpg) with the workflow's result.
func TestBinary_RunPicturePositionalJPEG(t *testing.T) {
	dir := t.TempDir()
	in, src := writeTestPNG(t, dir, "in.png", 32, 24)
	wf := filepath.Join(dir, "invert.json")
	if err := os.WriteFile(wf, []byte(invertWF), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"out.jpg", "out.JPEG"} {
		r := testkit.Run(t, dir, nil, time.Minute, "run", wf, "-i", in, "-o", out)
		if r.Code != 0 {
			t.Fatalf("-o %s: exit %d\n%s", out, r.Code, r.Stderr)
		}
		data, err := os.ReadFile(filepath.Join(dir, out))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) {
			t.Fatalf("%s starts with % x, not a JPEG", out, data[:min(8, len(data))])
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != image.Rect(0, 0, 32, 24) {
			t.Fatalf("%s: %v", out, img.Bounds())
		}
		// Inverted, within JPEG's loss.
		for _, p := range []image.Point{{0, 0}, {31, 0}, {16, 12}, {31, 23}} {
			r, _, _, _ := img.At(p.X, p.Y).RGBA()
			want := 255 - int(src.NRGBAAt(p.X, p.Y).R)
			if d := int(r>>8) - want; d < -24 || d > 24 {
				t.Errorf("%s at %v: red %d, want about %d", out, p, r>>8, want)
			}
		}
	}
	// The same workflow from standard input, to PNG.
	r := testkit.Run(t, dir, []byte(invertWF), time.Minute, "run", "-", "-i", in, "-o", "stdin.png")
	if r.Code != 0 {
		t.Fatalf("workflow '-': exit %d\n%s", r.Code, r.Stderr)
	}
	got := testkit.ReadPNG(t, filepath.Join(dir, "stdin.png"))
	if r, _, _, _ := got.At(0, 0).RGBA(); int(r>>8) != 255-int(src.NRGBAAt(0, 0).R) {
		t.Errorf("stdin.png red %d, want %d", r>>8, 255-int(src.NRGBAAt(0, 0).R))
	}
	// Two workflows are one too many.
	r = testkit.Run(t, dir, nil, time.Minute, "run", wf, wf, "-i", in, "-o", "x.png")
	if r.Code != 2 || !strings.Contains(r.Stderr, "unexpected argument") {
		t.Errorf("two workflows: exit %d\n%s", r.Code, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", wf, "--workflow", wf, "-i", in, "-o", "x.png")
	if r.Code != 2 || !strings.Contains(r.Stderr, "unexpected argument") {
		t.Errorf("WORKFLOW and --workflow: exit %d\n%s", r.Code, r.Stderr)
	}
	r = testkit.Run(t, dir, []byte(invertWF), time.Minute, "run", "-", "-i", "-", "-o", "x.mp4")
	if r.Code != 2 || !strings.Contains(r.Stderr, "cannot both be standard input") {
		t.Errorf("workflow and input both '-': exit %d\n%s", r.Code, r.Stderr)
	}
}

// TestBinary_RunMissingORTLibrary: a workflow with a model node, the model
// file there but no ONNX Runtime library anywhere: the error names the
// library and says how to get it, not "Kernel rejected its inputs".
func TestBinary_RunMissingORTLibrary(t *testing.T) {
	if !av.Available {
		t.Skip("built without cgo: ONNX Runtime cannot be loaded at all")
	}
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := os.Mkdir(models, 0o755); err != nil {
		t.Fatal(err)
	}
	// The library is looked for before the model is read: any bytes do.
	if err := os.WriteFile(filepath.Join(models, builtin.TextDetModel), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	pic, _ := writeTestPNG(t, dir, "in.png", 64, 64)
	t.Setenv(ort.LibEnv, "")
	t.Setenv("COMFYRT_CACHE", filepath.Join(dir, "empty-cache"))
	t.Setenv("COMFYRT_MODELS", models)
	wf := filepath.Join(testkit.Root(), "workflows", "text-highlight-api.json")
	for _, args := range [][]string{
		{"run", wf, "-i", pic, "-o", "out.png"},
		{"compile", wf},
	} {
		r := testkit.Run(t, dir, nil, time.Minute, args...)
		if r.Code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s%s", args[0], r.Code, r.Stdout, r.Stderr)
		}
		msg := r.Stdout + r.Stderr
		for _, want := range []string{"node 2 (TextDetection)", "ONNX Runtime", ort.LibName, "scripts/setup.sh", ort.LibEnv, "COMFYRT_CACHE"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: the message lacks %q:\n%s", args[0], want, msg)
			}
		}
		if strings.Contains(msg, "Kernel rejected its inputs") {
			t.Errorf("%s: the message still says the kernel rejected its inputs:\n%s", args[0], msg)
		}
	}
}
