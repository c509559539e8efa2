package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

// TestCorpusDepthWorkflows: ComfyStream's depth workflows, read unchanged
// from the corpus, compile and run once a depth model is present — here a
// generated model with Depth Anything's input and output shapes, installed
// under the engine names the workflows use (.engine → .onnx).
func TestCorpusDepthWorkflows(t *testing.T) {
	t.Parallel()
	dir := testkit.CorpusDir(t)
	if err := ort.CheckInit(); err != nil {
		t.Skipf("ONNX Runtime: %v", err)
	}
	models := t.TempDir()
	depthDir := filepath.Join(models, "tensorrt", "depth-anything")
	if err := os.MkdirAll(depthDir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := onnxgen.DepthLike{W: [3]float32{0.6, 0.3, 0.1}, B: 0.05}.Model("input", "output")
	for _, name := range []string{"depth_anything_vitl14-fp16.onnx", "depth_anything_v2_vitl-fp16.onnx", "depth_anything_v2_vitb-fp16.onnx"} {
		if err := m.WriteFile(filepath.Join(depthDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{
		"comfystream/depth-anything-v2-trt-example-api.json",
		"comfystream/depth-bg-blur-gpu-api.json",
		"ComfyUI-Background-Edit/realtime-depth-bg-blur-workflow.json",
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Skipf("corpus file missing: %v", err)
			}
			cfg, _ := testConfig(t)
			cfg.Engines, cfg.ModelDir = ort.New(), models
			cfg.Engine = engine.Options{IntraOpThreads: 1}
			cfg.Width, cfg.Height = 128, 96
			pl, err := Compile(load(t, rel, data, cfg), cfg)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			defer pl.Close()
			if err := pl.RunStatic(); err != nil {
				t.Fatal(err)
			}
			frame := rampFrame(128, 96)
			if err := pl.RunFrame(frame); err != nil {
				t.Fatalf("run: %v", err)
			}
			if pl.NumOutputs() == 0 {
				t.Fatal("no frame output")
			}
			out := pl.Output(0).Tensor
			if got := out.Shape; len(got) != 4 || got[1] != 96 || got[2] != 128 {
				t.Fatalf("output shape %v, want [1,96,128,3]", got)
			}
			// The output depends on the frame: not a constant picture.
			lo, hi := out.Data[0], out.Data[0]
			for _, v := range out.Data {
				lo, hi = min(lo, v), max(hi, v)
			}
			if hi-lo < 0.1 {
				t.Errorf("output is flat (%v..%v)", lo, hi)
			}
		})
	}
}
