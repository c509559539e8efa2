package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
)

// controlNetModels writes, under dir, tiny models where ComfyStream's
// sd15-tensorrt-api.json points: the ControlNet-enabled UNet beside the
// TensorRT engine's name, the tiny ControlNet, TAESD, the CLIP text
// encoder with its tokenizer, and a Depth Anything stand-in (onnxgen
// DepthLike, as the census does).
func controlNetModels(t *testing.T, dir string) {
	t.Helper()
	tiny := filepath.Join(dir, "tiny")
	if err := (onnxgen.TinySD{}).Write(tiny); err != nil {
		t.Fatal(err)
	}
	clip := filepath.Join(dir, "text_encoders", "CLIPText", "model.fp16")
	for _, d := range []string{filepath.Join(dir, "tensorrt", "depth-anything"), clip} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The UNet engines of batch 1 and 2 (the tiny UNet's batch is dynamic).
	for _, b := range []string{"1", "2"} {
		unet := filepath.Join(dir, "tensorrt", "static-dreamshaper8_SD15_$stat-b-"+b+"-h-512-w-512_00001_.onnx")
		if err := onnxgen.WriteControlNetUNet(unet, 8); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []string{"depth_anything_vitl14-fp16", "depth_anything_v2_vitl-fp16"} {
		depth := filepath.Join(dir, "tensorrt", "depth-anything", e+".onnx")
		if err := (onnxgen.DepthLike{W: [3]float32{0.5, 0.3, 0.2}, B: 0.01}).Model("input", "output").WriteFile(depth); err != nil {
			t.Fatal(err)
		}
	}
	if err := onnxgen.WriteControlNet(dir, "control_v11f1p_sd15_depth_fp16", 8); err != nil {
		t.Fatal(err)
	}
	if err := onnxgen.WriteTAESD(dir); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{"text_encoder/model.onnx": "model.onnx", "tokenizer/vocab.json": "vocab.json", "tokenizer/merges.txt": "merges.txt"} {
		data, err := os.ReadFile(filepath.Join(tiny, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clip, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBinary_ComfyStreamSD15ControlNet: the corpus's ComfyStream SD1.5
// workflow (TensorRTLoader, CLIPLoader, two CLIPTextEncode,
// ControlNetLoader → TorchCompileLoadControlNet → ControlNetApplyAdvanced on
// the frame's depth map, KSampler lcm 1 step on an EmptyLatentImage 512×512,
// taesd VAEDecode) compiles unchanged against tiny models and runs on the
// sample clip: the prompts static, the depth, the control and the sampler
// per frame.
func TestBinary_ComfyStreamSD15ControlNet(t *testing.T) {
	dir, models, wf, r := explainControlNet(t, "comfystream/sd15-tensorrt-api.json")
	static, perFrame, ok := strings.Cut(r.Stdout, "per-frame:")
	if !ok || !strings.Contains(static, "#5 CLIPTextEncode") || !strings.Contains(static, "#6 CLIPTextEncode") || !strings.Contains(perFrame, "#9 ControlNetApplyAdvanced") ||
		!strings.Contains(perFrame, "#7 KSampler") || strings.Contains(perFrame, "CLIPTextEncode") {
		t.Errorf("want the prompts static, ControlNetApplyAdvanced and KSampler per frame:\n%s", r.Stdout)
	}
	if !runSampleClip(t, dir, wf, models, 2) {
		return
	}
	if fi, err := os.Stat(filepath.Join(dir, "out.mp4")); err != nil || fi.Size() == 0 {
		t.Errorf("out.mp4: %v", err)
	}
}

// TestBinary_ComfyStreamSD15Variants: the corpus's other ComfyStream SD1.5
// ControlNet workflows (the Depth Anything v2 engine, the depth-masked
// composite, the UI-format files, the batch-2 LoadTensor one) run on the
// same tiny models, on 512×512 frames.
func TestBinary_ComfyStreamSD15Variants(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	controlNetModels(t, models)
	for _, f := range []string{"comfystream/sd15-tensorrt-depthanything-large-api.json", "comfystream/sd15-tensorrt-w-depthmask-accelerated-api.json",
		"comfystream/sd15-tensorrt.json", "comfystream/sd15-tensorrt-w-depthmask-accelerated.json", "ComfyUI-Stream-Pack/sd15-tensorrt-api.json",
		"comfystream/sd15-tensorrt-batch2-tensor-api.json"} {
		wf := testkit.CorpusFile(t, f)
		// The depth-masked ones composite the 512×512 result over the
		// frame: they want 512×512 frames (their example picture's size).
		runSampleClip(t, dir, wf, models, 2, "--width", "512", "--height", "512")
	}
}

// explainControlNet writes the ControlNet workflows' tiny models
// (controlNetModels) and runs the binary's compile --explain at 64×48 on
// the corpus workflow rel, which must succeed; it returns the folders, the
// workflow's path and the result.
func explainControlNet(t *testing.T, rel string) (dir, models, wf string, r testkit.Result) {
	t.Helper()
	needORTBinary(t)
	wf = testkit.CorpusFile(t, rel)
	dir = t.TempDir()
	models = filepath.Join(dir, "models")
	controlNetModels(t, models)
	r = testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--width", "64", "--height", "48", "--models-dir", models, wf)
	if r.Code != 0 {
		t.Fatalf("compile: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	return dir, models, wf, r
}
