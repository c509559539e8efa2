package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
)

// r2ModelWF runs the frame through the PP-OCRv4 detector as a generic
// ONNXImageModel at a model input of SIZE².
const r2ModelWF = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ONNXModelLoader", "inputs": {"model_name": "` + builtin.TextDetModel + `", "device": "cpu"}},
 "3": {"class_type": "ONNXImageModel", "inputs": {"image": ["1", 0], "model": ["2", 0], "width": SIZE, "height": SIZE,
   "layout": "NCHW", "channels": "RGB", "mean": "0", "std": "1", "output_scale": "clamp"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`

// TestBinary_R2BudgetModelRefusedBeforeSession: with the real ONNX
// Runtime, an ONNXImageModel asked for a 2048² or 8192² model input is
// refused by compile with plan_too_large on the node's scratch (its
// session's tensors, pipeline buffers and the runtime estimate), which is
// counted before the session is opened, so that no activation is
// allocated; a 64² one compiles under the same budget.
func TestBinary_R2BudgetModelRefusedBeforeSession(t *testing.T) {
	if err := ort.CheckInit(); err != nil {
		t.Skipf("ONNX Runtime unavailable: %v", err)
	}
	lib, err := ort.LibraryPath()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(ort.LibEnv, lib) // the binary runs in a temporary folder
	models := defaultModelsDir()
	if _, err := os.Stat(filepath.Join(models, builtin.TextDetModel)); err != nil {
		t.Skip("PP-OCRv4 model absent (run scripts/setup.sh)")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		size   int
		budget string
		code   int
	}{{2048, "512MiB", 1}, {8192, "2GiB", 1}, {64, "512MiB", 0}} {
		t.Run(strconv.Itoa(c.size), func(t *testing.T) {
			wf := filepath.Join(dir, "m"+strconv.Itoa(c.size)+".json")
			if err := os.WriteFile(wf, []byte(strings.ReplaceAll(r2ModelWF, "SIZE", strconv.Itoa(c.size))), 0o644); err != nil {
				t.Fatal(err)
			}
			r := testkit.Run(t, dir, nil, 2*time.Minute, "compile", "--models-dir", models, "--max-plan-bytes", c.budget,
				"--width", "256", "--height", "256", wf)
			out := r.Stdout + r.Stderr
			if r.Code != c.code {
				t.Fatalf("exit %d, want %d\n%s", r.Code, c.code, out)
			}
			if c.code == 0 {
				return
			}
			for _, w := range []string{"node 3 (ONNXImageModel)", "plan_too_large", "scratch"} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
