package compiler

import (
	"errors"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/graph/diag"
)

// TestFiles_FileErrorDiag: a kernel's nodes.FileError keeps its code,
// message and input in the diagnostic (not "Kernel rejected its inputs"),
// and a confined workflow's diagnostics never name the server's folders.
func TestFiles_FileErrorDiag(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	dir := t.TempDir()
	writePNG(t, dir, "ok.png", 2, 2, color.NRGBA{1, 2, 3, 255})
	cfg.InputDir, cfg.Confined = dir, true
	src := `{"1":{"class_type":"PrimaryInputLoadImage","inputs":{"image":"frame.png"}},
"2":{"class_type":"LoadImage","inputs":{"image":"missing.png"}},
"3":{"class_type":"SaveTensor","inputs":{"images":["1",0]}},
"4":{"class_type":"PreviewImage","inputs":{"images":["2",0]}}}`
	_, err := Compile(loadString(t, src, cfg), cfg)
	var l diag.List
	if !errors.As(err, &l) {
		t.Fatalf("compile: %v, want diagnostics", err)
	}
	var found bool
	for _, d := range l {
		if d.NodeID != "2" {
			continue
		}
		found = true
		if d.Code != diag.MissingFile || d.Input != "image" || d.Message != "Input image not found" {
			t.Errorf("diagnostic %+v: want code %s, input image, message \"Input image not found\"", d, diag.MissingFile)
		}
		if !strings.Contains(d.Details, `"missing.png"`) || strings.Contains(d.Details, dir) {
			t.Errorf("details %q: want the file as named and not the folder", d.Details)
		}
	}
	if !found {
		t.Fatalf("no diagnostic for LoadImage #2: %v", l)
	}
}

// TestFiles_ScrubFolders: text from kernels or engines that names a path
// in the server's folders names it relative to them for confined
// workflows; local workflows keep it.
func TestFiles_ScrubFolders(t *testing.T) {
	t.Parallel()
	in, models := t.TempDir(), t.TempDir()
	msg := "Load model from " + filepath.Join(models, "a.onnx") + " failed; " + in + " is empty"
	pl := &Plan{cfg: Config{Confined: true, InputDir: in, ModelDir: models}}
	got := pl.scrubFolders(msg)
	if strings.Contains(got, in) || strings.Contains(got, models) || !strings.Contains(got, "models/a.onnx") {
		t.Errorf("confined: %q", got)
	}
	pl.cfg.Confined = false
	if got := pl.scrubFolders(msg); got != msg {
		t.Errorf("local: %q, want it unchanged", got)
	}
}
