package compiler

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
)

// blurChain is a 1024² EmptyImage (12 MiB) blurred three times: each
// ImageBlur holds a 12 MiB temporary besides its 12 MiB output.
const blurChain = `{
 "1": {"class_type": "EmptyImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1, "color": 0}},
 "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 5, "sigma": 1.0}},
 "3": {"class_type": "ImageBlur", "inputs": {"image": ["2", 0], "blur_radius": 5, "sigma": 1.0}},
 "4": {"class_type": "ImageBlur", "inputs": {"image": ["3", 0], "blur_radius": 5, "sigma": 1.0}},
 "5": {"class_type": "PreviewImage", "inputs": {"images": ["4", 0]}}
}`

// TestR2Budget_BlurTemporariesCounted: the outputs alone are 48 MiB and
// the temporaries another 36 MiB; a 66 MiB budget refuses the plan at the
// third blur, on its scratch (60 MiB counted before it), which is never
// allocated; MemoryBytes of the plan that fits counts all of it.
func TestR2Budget_BlurTemporariesCounted(t *testing.T) {
	const pic = 1024 * 1024 * 3 * 4
	cfg, _ := testConfig(t)
	cfg.MaxBytes = 66 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Compile(loadString(t, blurChain, cfg), cfg)
	runtime.ReadMemStats(&after)
	d := tooLarge(t, err)
	if d.NodeID != "4" || d.Extra["scratch_bytes"] == nil {
		t.Errorf("refused at node %s with %v, want node 4 on its scratch: %v", d.NodeID, d.Extra, d)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 3*pic {
		t.Errorf("compiling the refused plan allocated %d bytes", grown)
	}
	cfg.MaxBytes = 0
	n, err := Measure(loadString(t, blurChain, cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n < 7*pic {
		t.Errorf("MemoryBytes %d, want at least the four outputs and three temporaries, %d", n, 7*pic)
	}
}

// modelChain runs the frame through an ONNXImageModel at the model input
// size SIZE².
const modelChain = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ONNXModelLoader", "inputs": {"model_name": "m.onnx", "device": "cpu"}},
 "3": {"class_type": "ONNXImageModel", "inputs": {"image": ["1", 0], "model": ["2", 0], "width": SIZE, "height": SIZE,
   "layout": "NCHW", "channels": "RGB", "mean": "0", "std": "1", "output_scale": "clamp"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`

// TestR2Budget_ModelSessionCounted: an ONNXImageModel at 2048² (a 48 MiB
// input and output) is counted with its session's tensors, its pipeline
// buffers and the runtime estimate, so that a 512 MiB budget refuses it
// on its scratch before the session is opened; the schema's largest
// request, 8192², is refused the same way from a small frame.
func TestR2Budget_ModelSessionCounted(t *testing.T) {
	cfg, _ := testConfig(t)
	dir := t.TempDir()
	p := fake.New()
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p.Add(path, fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "in", DType: engine.Float32, Shape: []int{1, 3, -1, -1}}},
		Outputs: []engine.TensorInfo{{Name: "out", DType: engine.Float32, Shape: []int{1, 3, -1, -1}}},
	})
	cfg.Engines, cfg.ModelDir, cfg.Engine = p, dir, engine.Options{}
	for _, c := range []struct{ frame, model int }{{2048, 2048}, {256, 8192}} {
		cfg.Width, cfg.Height, cfg.MaxBytes = c.frame, c.frame, 512<<20
		src := strings.ReplaceAll(modelChain, "SIZE", strconv.Itoa(c.model))
		_, err := Compile(loadString(t, src, cfg), cfg)
		d := tooLarge(t, err)
		if d.NodeID != "3" || d.Extra["scratch_bytes"] == nil {
			t.Errorf("model %d² on a %d² frame: refused at node %s with %v, want node 3 on its scratch", c.model, c.frame, d.NodeID, d.Extra)
		}
		if n := len(p.Opens()); n != 0 {
			t.Errorf("model %d² on a %d² frame: the session was opened (%d opens) before the refusal", c.model, c.frame, n)
		}
	}
	// Within the budget it compiles, and MemoryBytes counts the estimate.
	cfg.Width, cfg.Height, cfg.MaxBytes = 64, 64, 512<<20
	src := strings.ReplaceAll(modelChain, "SIZE", "64")
	n, err := Measure(loadString(t, src, cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tensors := int64(2 * 64 * 64 * 3 * 4); n < 17*tensors {
		t.Errorf("MemoryBytes %d, want at least the tensors and 16 times them for the runtime, %d", n, 17*tensors)
	}
}
