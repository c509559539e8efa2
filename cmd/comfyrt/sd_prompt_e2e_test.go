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

// perFramePromptWorkflow is ComfyUI_RealTimeNodes' prompt_updating
// workflow's prompt part as an API prompt: a StringControl cycling through
// three prompts feeds CLIPTextEncode, whose conditioning drives an img2img
// KSampler on the frame (a fixed denoise, where the corpus file's comes
// from a FloatControl per frame).
const perFramePromptWorkflow = `{
 "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
 "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
 "3": {"class_type": "StringControl", "inputs": {"always_execute": true, "strings": "a cat\nthe dog\na (photo:1.3)", "steps_per_cycle": 2, "movement_type": "sawtooth"}},
 "4": {"class_type": "CLIPTextEncode", "inputs": {"text": ["3", 0], "clip": ["2", 1]}},
 "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 1]}},
 "6": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 2]}},
 "7": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "seed": 0, "steps": 1, "cfg": 1, "sampler_name": "euler_ancestral",
   "scheduler": "normal", "positive": ["4", 0], "negative": ["5", 0], "latent_image": ["6", 0], "denoise": 0.5}},
 "8": {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["2", 2]}},
 "9": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}}`

// TestBinary_PerFramePrompt: a prompt that changes per frame compiles
// with its CLIPTextEncode per frame (compile --explain says it follows the
// time-varying StringControl and is encoded again only on a change), the
// empty prompt static, and runs on the
// sample clip.
func TestBinary_PerFramePrompt(t *testing.T) {
	dir, models, r := explainTiny(t, perFramePromptWorkflow)
	static, perFrame, ok := strings.Cut(r.Stdout, "per-frame:")
	enc, _, _ := strings.Cut(perFrame[strings.Index(perFrame, "#4 CLIPTextEncode")+1:], "\n  #")
	if !ok || !strings.Contains(static, "#5 CLIPTextEncode") || !strings.Contains(perFrame, "#4 CLIPTextEncode") ||
		!strings.Contains(enc, "why: per-frame") || !strings.Contains(enc, "#3") || !strings.Contains(enc, "note: the text changes per frame") {
		t.Errorf("want #4 per frame because of #3 (StringControl), #5 static:\n%s", r.Stdout)
	}
	runSampleClip(t, dir, "wf.json", models, 4, "--width", "64", "--height", "48")
}

// explainTiny writes wf as wf.json beside a models folder with the tiny SD
// checkpoint (checkpoints/tiny) and runs the binary's compile --explain on
// it at 64×48, which must succeed; it returns the folders and the result.
func explainTiny(t *testing.T, wf string) (dir, models string, r testkit.Result) {
	t.Helper()
	needORTBinary(t)
	dir = t.TempDir()
	models = filepath.Join(dir, "models")
	if err := (onnxgen.TinySD{}).Write(filepath.Join(models, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wf.json"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--width", "64", "--height", "48", "--models-dir", models, "wf.json")
	if r.Code != 0 {
		t.Fatalf("compile: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	return dir, models, r
}
