package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"comfyrt/compiler"
	"comfyrt/graph"
	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

// TestBinary_StreamPackBatched: Stream-Pack's batched denoising workflow
// (StreamScheduler + StreamBatchSampler into SamplerCustom on
// StreamFrameBuffer's latents, a depth ControlNet on the frame) compiles
// unchanged on tiny models, its sampler per frame, and runs on the sample
// clip.
func TestBinary_StreamPackBatched(t *testing.T) {
	needORTBinary(t)
	wf := testkit.CorpusFile(t, "ComfyUI-Stream-Pack/sd15-tensorrt-batched-denoising-api.json")
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	controlNetModels(t, models)
	// CLIPSetLastLayer −2 needs the text encoder's hidden states.
	enc := onnxgen.NewTextEncoderHidden(len(onnxgen.TinyVocab()), 8, 3).Model()
	if err := enc.WriteFile(filepath.Join(models, "text_encoders", "CLIPText", "model.fp16", "model.onnx")); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--width", "64", "--height", "48", "--models-dir", models, wf)
	if r.Code != 0 {
		t.Fatalf("compile: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	static, perFrame, ok := strings.Cut(r.Stdout, "per-frame:")
	if !ok || !strings.Contains(perFrame, "#42 SamplerCustom") || !strings.Contains(static, "#41 StreamBatchSampler") ||
		!strings.Contains(static, "#44 StreamScheduler") || !strings.Contains(static, "#43 StreamFrameBuffer") {
		t.Errorf("want the sampler per frame, its sampler, sigmas and (empty-latent) buffer static:\n%s", r.Stdout)
	}
	if !strings.Contains(perFrame, "note: StreamBatchSampler: 3 latents") {
		t.Errorf("want the sampler's note:\n%s", perFrame)
	}
	runSampleClip(t, dir, wf, models, 4, "--width", "64", "--height", "48")
}

// batchedImg2ImgWorkflow: the frame's latent into a StreamFrameBuffer of 2,
// denoised by StreamBatchSampler at StreamScheduler's indexes 10 and 30.
const batchedImg2ImgWorkflow = `{
 "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
 "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
 "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["2", 1]}},
 "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 1]}},
 "6": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 2]}},
 "7": {"class_type": "StreamFrameBuffer", "inputs": {"latent": ["6", 0], "buffer_size": 2}},
 "8": {"class_type": "StreamBatchSampler", "inputs": {"num_steps": 2}},
 "9": {"class_type": "StreamScheduler", "inputs": {"model": ["2", 0], "t_index_list": "10,30", "num_inference_steps": 50}},
 "10": {"class_type": "SamplerCustom", "inputs": {"model": ["2", 0], "add_noise": true, "noise_seed": 5, "cfg": 1.5, "positive": ["4", 0],
   "negative": ["5", 0], "sampler": ["8", 0], "sigmas": ["9", 0], "latent_image": ["7", 0]}},
 "11": {"class_type": "VAEDecode", "inputs": {"samples": ["10", 0], "vae": ["2", 2]}},
 "12": {"class_type": "SaveImage", "inputs": {"images": ["11", 0], "filename_prefix": "out"}}}`

// TestStreamPackBatchedPlanUpdate: a swap that changes another node keeps
// StreamFrameBuffer's ring (the outputs go on as an unswapped plan's); a
// change of the buffer's own input gives it a fresh ring (as a new plan).
func TestStreamPackBatchedPlanUpdate(t *testing.T) {
	needORTBinary(t)
	models := filepath.Join(t.TempDir(), "models")
	if err := (onnxgen.TinySD{}).Write(filepath.Join(models, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	schemas, err := loadSchemas(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		t.Fatal(err)
	}
	wf, diags := graph.Load("wf.json", []byte(batchedImg2ImgWorkflow), graph.Options{Schemas: schemas})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg := compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, Width: 64, Height: 48,
		Engines: ort.New(), ModelDir: models, Engine: engine.Options{IntraOpThreads: 1}}
	r := newPlanRunner(t, wf.Prompt, cfg, 31)
	compile, run := r.compile, r.run
	pl, control := compile(), compile()
	for k := range 3 {
		run(pl, k)
		run(control, k)
	}
	np, err := pl.Update("12", "filename_prefix", "other")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { np.Close() })
	for k := 3; k < 5; k++ {
		if got, want := run(np, k), run(control, k); !slices.Equal(got, want) {
			t.Errorf("frame %d after an unrelated swap differs from the unswapped plan's: the ring was lost", k)
		}
	}
	fresh := compile()
	if got, want := run(np, 5), run(fresh, 5); slices.Equal(got, want) {
		t.Error("the swapped plan's ring gives what a fresh ring gives: the test cannot tell them apart")
	}
	// The buffer's own input changes (the same size, written as a FLOAT):
	// a fresh ring, as a new plan with that value.
	np2, err := np.Update("7", "buffer_size", 2.0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { np2.Close() })
	fresh2, err := compile().Update("7", "buffer_size", 2.0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh2.Close() })
	if got, want := run(np2, 6), run(fresh2, 6); !slices.Equal(got, want) {
		t.Error("after the buffer's input changed its output differs from a fresh plan's: the ring was kept")
	}
}
