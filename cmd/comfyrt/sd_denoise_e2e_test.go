package main

import (
	"strings"
	"testing"
)

// perFrameDenoiseWorkflow: RealTimeNodes FloatControls drive KSampler's
// denoise (a sine between 0.3 and 0.9, as prompt_updating_WORKFLOW's) and
// its cfg per frame, img2img on the frame.
const perFrameDenoiseWorkflow = `{
 "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
 "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
 "3": {"class_type": "FloatControl", "inputs": {"always_execute": true, "steps_per_cycle": 3, "movement_type": "sine",
   "maximum_value": 0.9, "minimum_value": 0.3, "starting_value": 0.5}},
 "10": {"class_type": "FloatControl", "inputs": {"always_execute": true, "steps_per_cycle": 2, "movement_type": "square",
   "maximum_value": 3, "minimum_value": 1, "starting_value": 1}},
 "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["2", 1]}},
 "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 1]}},
 "6": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 2]}},
 "7": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "seed": 0, "steps": 2, "cfg": ["10", 0], "sampler_name": "euler_ancestral",
   "scheduler": "normal", "positive": ["4", 0], "negative": ["5", 0], "latent_image": ["6", 0], "denoise": ["3", 0]}},
 "8": {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["2", 2]}},
 "9": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}}`

// TestBinary_PerFrameDenoise: compile --explain puts KSampler per frame
// because of the FloatControls and notes the schedule recomputed per frame;
// the workflow runs on the sample clip.
func TestBinary_PerFrameDenoise(t *testing.T) {
	dir, models, r := explainTiny(t, perFrameDenoiseWorkflow)
	_, perFrame, ok := strings.Cut(r.Stdout, "per-frame:")
	i := strings.Index(perFrame, "#7 KSampler")
	if !ok || i < 0 {
		t.Fatalf("KSampler not per frame:\n%s", r.Stdout)
	}
	ks, _, _ := strings.Cut(perFrame[i+1:], "\n  #")
	if !strings.Contains(ks, "why: per-frame") || !strings.Contains(ks, "#3") || !strings.Contains(ks, "note: denoise changes per frame") ||
		!strings.Contains(ks, "cfg changes per frame") {
		t.Errorf("want #7 per frame because of #3 (FloatControl) with the schedule note:\n%s", ks)
	}
	runSampleClip(t, dir, "wf.json", models, 6, "--width", "64", "--height", "48")
}
