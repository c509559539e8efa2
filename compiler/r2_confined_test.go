package compiler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

// noLibProvider fails as the ONNX Runtime provider does when its library
// is missing: engine.ErrUnavailable around ort.LibraryPath's error.
type noLibProvider struct{ err error }

func (p noLibProvider) Name() string { return "onnxruntime (no library)" }
func (p noLibProvider) Inspect(string) (_, _ []engine.TensorInfo, err error) {
	return nil, nil, p.err
}
func (p noLibProvider) Open(string, engine.Options) (engine.Session, error) { return nil, p.err }

// modelWF runs the frame through ONNXImageModel with model_name NAME.
const modelWF = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ONNXModelLoader", "inputs": {"model_name": NAME, "device": "cpu"}},
 "3": {"class_type": "ONNXImageModel", "inputs": {"image": ["1", 0], "model": ["2", 0], "width": 64, "height": 64,
   "layout": "NCHW", "channels": "RGB", "mean": "0", "std": "1", "output_scale": "clamp"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`

func diagOf(t *testing.T, err error, node string) *diag.Diagnostic {
	t.Helper()
	var l diag.List
	if !errors.As(err, &l) {
		t.Fatalf("error %v, want diagnostics", err)
	}
	for _, d := range l {
		if d.NodeID == node {
			return d
		}
	}
	t.Fatalf("no diagnostic for node %s in %v", node, l)
	return nil
}

// TestR2Confined_EngineUnavailable: with the ONNX Runtime library missing,
// a model node's diagnostic says the engine is unavailable (not "Kernel
// rejected its inputs"); for a confined (network) compile it names no
// path of the server ("the ONNX Runtime library was not found on the
// server"), for a local one it keeps the library's path and how to get it.
func TestR2Confined_EngineUnavailable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "secret-install", ort.LibName)
	t.Setenv(ort.LibEnv, missing)
	_, libErr := ort.LibraryPath()
	if libErr == nil {
		t.Fatal("LibraryPath found a missing file")
	}
	cfg, _ := testConfig(t)
	models := t.TempDir()
	if err := os.WriteFile(filepath.Join(models, "m.onnx"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Engines, cfg.ModelDir = noLibProvider{fmt.Errorf("%w: %w", engine.ErrUnavailable, libErr)}, models
	src := strings.ReplaceAll(modelWF, "NAME", `"m.onnx"`)
	for _, confined := range []bool{true, false} {
		cfg.Confined = confined
		_, err := Compile(loadString(t, src, cfg), cfg)
		d := diagOf(t, err, "3")
		t.Logf("confined %t: %s: %s", confined, d.Message, d.Details)
		if d.Code != diag.PrepareFailed || d.Message != EngineUnavailable {
			t.Errorf("confined %t: %s %q, want %s %q", confined, d.Code, d.Message, diag.PrepareFailed, EngineUnavailable)
		}
		if confined {
			if d.Details != "the ONNX Runtime library was not found on the server" {
				t.Errorf("confined details %q", d.Details)
			}
			if s := fmt.Sprint(err); strings.Contains(s, "secret-install") || strings.Contains(s, ort.LibEnv) {
				t.Errorf("the confined error names the server's files: %s", s)
			}
		} else if !strings.Contains(d.Details, missing) || !strings.Contains(d.Details, ort.LibEnv) {
			t.Errorf("local details %q: want the library's path and the variable that names it", d.Details)
		}
	}
	// Other reasons the engine cannot load say so, without the text.
	cfg.Confined = true
	cfg.Engines = noLibProvider{fmt.Errorf("%w: loading /opt/secret/lib.so: bad ELF", engine.ErrUnavailable)}
	_, err := Compile(loadString(t, src, cfg), cfg)
	if d := diagOf(t, err, "3"); d.Details != "ONNX Runtime cannot be loaded on the server" {
		t.Errorf("confined, library unusable: %q", d.Details)
	}
}

// TestR2Confined_ClientNameNotRewritten: a name the client sent that lies
// in the server's input folder comes back as sent; a path the server adds
// is still rewritten.
func TestR2Confined_ClientNameNotRewritten(t *testing.T) {
	cfg, _ := testConfig(t)
	in := filepath.Join(t.TempDir(), "files", "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.InputDir, cfg.ModelDir, cfg.Confined = in, t.TempDir(), true
	name := filepath.Join(in, "ok.png")
	src := strings.ReplaceAll(modelWF, "NAME", fmt.Sprintf("%q", name))
	_, err := Compile(loadString(t, src, cfg), cfg)
	d := diagOf(t, err, "2")
	if !strings.Contains(d.Details, fmt.Sprintf("%q", name)) {
		t.Errorf("details %q: want the model name as sent, %q", d.Details, name)
	}
	pl := &Plan{cfg: cfg}
	msg := fmt.Sprintf("model %q: cannot read %s", name, filepath.Join(in, "b.png"))
	got := pl.scrubFolders(msg, fmt.Sprintf("%q", name))
	if want := fmt.Sprintf("model %q: cannot read input/b.png", name); got != want {
		t.Errorf("scrubbed %q\nwant     %q", got, want)
	}
}
