package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
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
	"comfyrt/nodes/value"
)

// sdImg2Img is ComfyStream's img2img shape: the frame → VAEEncode →
// KSampler (two prompts) → VAEDecode → the output, on one checkpoint.
func sdImg2Img(sampler string, denoise float64) string {
	return fmt.Sprintf(`{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
 "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 2]}},
 "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "a (cat:1.2) photo", "clip": ["2", 1]}},
 "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 1]}},
 "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "seed": 42, "steps": 2, "cfg": 1.5, "sampler_name": %q,
   "scheduler": "normal", "positive": ["4", 0], "negative": ["5", 0], "latent_image": ["3", 0], "denoise": %v}},
 "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["2", 2]}},
 "8": {"class_type": "SaveTensor", "inputs": {"images": ["7", 0]}}}`, sampler, denoise)
}

// TestBinary_SDImg2Img: compile --explain shows the prompts encoded once
// (static) and the sampler per frame; run on the sample clip gives every
// frame; on a picture, denoise 0 gives the VAE round trip exactly and
// denoise 0.5 changes it, the same way on each run (a fixed seed).
func TestBinary_SDImg2Img(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := (onnxgen.TinySD{}).Write(filepath.Join(models, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "lcm.json"), []byte(sdImg2Img("lcm", 0.5)), 0o644)
	os.WriteFile(filepath.Join(dir, "euler.json"), []byte(sdImg2Img("euler", 0.5)), 0o644)
	os.WriteFile(filepath.Join(dir, "zero.json"), []byte(sdImg2Img("euler", 0)), 0o644)
	os.WriteFile(filepath.Join(dir, "vae.json"), []byte(sdWorkflow), 0o644)

	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--width", "64", "--height", "48", "--models-dir", models, "lcm.json")
	if r.Code != 0 {
		t.Fatalf("compile: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	static, perFrame, ok := strings.Cut(r.Stdout, "per-frame:")
	if !ok || strings.Count(static, "CLIPTextEncode kernel") != 2 || !strings.Contains(perFrame, "#6 KSampler") ||
		!strings.Contains(perFrame, "per-frame: input latent_image <- #3") || strings.Contains(perFrame, "CLIPTextEncode") {
		t.Errorf("want both CLIPTextEncode static and KSampler per frame:\n%s", r.Stdout)
	}

	runSampleClip(t, dir, "lcm.json", models, 4, "--width", "128", "--height", "96")

	pic := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			pic.Set(x, y, color.NRGBA{uint8(x * 4), uint8(y * 5), uint8((x*y)%251 + 3), 255})
		}
	}
	testkit.WritePNG(t, filepath.Join(dir, "pic.png"), pic)
	outs := map[string][]byte{}
	for _, wf := range []string{"vae", "zero", "euler", "euler#2"} {
		file := strings.TrimSuffix(wf, "#2") + ".json"
		out := strings.ReplaceAll(wf, "#", "") + ".png"
		r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", file, "-i", "pic.png", "-o", out, "--models-dir", models)
		if r.Code != 0 {
			t.Fatalf("run %s: exit %d\n%s%s", file, r.Code, r.Stdout, r.Stderr)
		}
		outs[wf], _ = os.ReadFile(filepath.Join(dir, out))
	}
	if !bytes.Equal(outs["zero"], outs["vae"]) {
		t.Error("denoise 0 is not the VAE round trip")
	}
	if bytes.Equal(outs["euler"], outs["vae"]) {
		t.Error("denoise 0.5 left the picture as the VAE round trip")
	}
	if !bytes.Equal(outs["euler"], outs["euler#2"]) {
		t.Error("two runs with seed 42 differ")
	}
}

// TestSDPromptUpdate: the img2img plan runs each prompt's text encoder
// once (static), the UNet once per step (cfg 1.5: both passes batched);
// a prompt change on the running plan (Plan.Update, as serve's params
// update) re-runs only that prompt's encoder, and the frames change.
func TestSDPromptUpdate(t *testing.T) {
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
	wf, diags := graph.Load("wf.json", []byte(sdImg2Img("euler", 0.5)), graph.Options{Schemas: schemas})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rc := testkit.CountRuns(ort.New())
	cfg := compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, Width: 64, Height: 48,
		Engines: rc, ModelDir: models, Engine: engine.Options{IntraOpThreads: 1}}
	pl, err := compiler.Compile(wf.Prompt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	frame := value.New(value.ImageSpec(1, 48, 64)).Tensor
	for i := range frame.Data {
		frame.Data[i] = float32(i%251) / 250
	}
	count := rc.Runs
	for range 3 {
		if err := pl.RunFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	if te, un := count("text_encoder"), count("unet"); te != 2 || un != 3*2 {
		t.Errorf("3 frames: %d text encoder runs (want 2: one per prompt), %d UNet runs (want 6: 2 steps a frame)", te, un)
	}
	before := slices.Clone(pl.Output(0).Tensor.Data)
	pl2, err := pl.Update("4", "text", "the dog")
	if err != nil {
		t.Fatal(err)
	}
	defer pl2.Close()
	if err := pl2.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if te := count("text_encoder"); te != 3 {
		t.Errorf("after the prompt change: %d text encoder runs, want 3 (the new prompt only)", te)
	}
	if slices.Equal(before, pl2.Output(0).Tensor.Data) {
		t.Error("the new prompt did not change the frame")
	}
}

// TestBinary_SDText2Img: with an EmptyLatentImage nothing depends on a
// frame: the whole plan, KSampler included, is static and runs once; the
// generator writes its picture without -i, the same for the same seed.
func TestBinary_SDText2Img(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := (onnxgen.TinySD{}).Write(filepath.Join(models, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	wf := `{
 "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny"}},
 "3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 48, "batch_size": 1}},
 "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo", "clip": ["2", 1]}},
 "5": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["4", 0]}},
 "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "seed": 7, "steps": 3, "cfg": 4, "sampler_name": "euler_ancestral",
   "scheduler": "karras", "positive": ["4", 0], "negative": ["5", 0], "latent_image": ["3", 0], "denoise": 1}},
 "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["2", 2]}},
 "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "t2i"}}}`
	os.WriteFile(filepath.Join(dir, "t2i.json"), []byte(wf), 0o644)
	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--models-dir", models, "t2i.json")
	if static, _, _ := strings.Cut(r.Stdout, "per-frame:"); r.Code != 0 || !strings.Contains(static, "#6 KSampler") || !strings.Contains(static, "#7 VAEDecode") {
		t.Errorf("compile: exit %d, want KSampler static\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	var outs [2][]byte
	for i := range outs {
		r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "t2i.json", "-o", "out.png", "--models-dir", models)
		if r.Code != 0 {
			t.Fatalf("run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		outs[i], _ = os.ReadFile(filepath.Join(dir, "out.png"))
	}
	if len(outs[0]) == 0 || !bytes.Equal(outs[0], outs[1]) {
		t.Errorf("two runs with seed 7: %d and %d bytes, equal %v", len(outs[0]), len(outs[1]), bytes.Equal(outs[0], outs[1]))
	}
	if b := testkit.ReadPNG(t, filepath.Join(dir, "out.png")).Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Errorf("picture %v, want 64×48", b)
	}
}
