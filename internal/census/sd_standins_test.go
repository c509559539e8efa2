package census

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"comfyrt/graph"
	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
)

// sdTextWidth is the stand-ins' text width: the UNets, ControlNets and
// text encoders must agree on it (TinySD's default).
const sdTextWidth = 8

// sdStandIns adds to the models folder dir, for the Stable Diffusion parts
// the corpus workflows load one by one, tiny generated models where each
// loader looks (the workflows' own names, read from their loaded API
// prompts, UI files converted):
//
//   - TensorRTLoader unet_name → the tiny UNet at tensorrt/<name>.onnx,
//     beside where the engine would be, ControlNet-enabled
//     (onnxgen.WriteControlNetUNet) when a workflow loading it applies a
//     ControlNet (the Depth Anything engines aside: standIns
//     writes those);
//   - ControlNetLoader control_net_name → the tiny ControlNet at
//     controlnet/<stem>.onnx;
//   - the checkpoints' text encoders, and CLIPLoader clip_name → the tiny
//     text encoder with hidden-state
//     outputs (so that CLIPSetLastLayer −2 runs), with the tokenizer in
//     text_encoders/<stem>/ for CLIPLoader;
//   - VAELoader vae_name → TAESD's tiny pair for taesd, else the tiny VAE
//     in vae/<stem>/.
//
// Every part shares one text width, so any UNet takes any text encoder's
// output. Names reaching out of their folder ("..") are skipped: the
// loaders refuse them, as ComfyUI's folder lookup would.
func sdStandIns(t *testing.T, dir string, s *schema.Set) {
	t.Helper()
	// The checkpoints' text encoders (standIns writes onnxgen.TinySD
	// exports) get hidden-state outputs too.
	encoders, err := filepath.Glob(filepath.Join(dir, "checkpoints", "*", "text_encoder", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range encoders {
		if err := hiddenEncoder().Model().WriteFile(p); err != nil {
			t.Fatal(err)
		}
	}
	names := sdModelNames(t, s)
	for class, set := range names {
		for name, controlled := range set {
			if strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
				continue
			}
			if err := writeSDStandIn(dir, class, name, controlled); err != nil {
				t.Fatalf("%s %q stand-in: %v", class, name, err)
			}
		}
	}
}

// sdLoaderInputs are the loaders whose files sdStandIns writes, with the
// input naming the file.
var sdLoaderInputs = map[string]string{
	"TensorRTLoader":   "unet_name",
	"ControlNetLoader": "control_net_name",
	"CLIPLoader":       "clip_name",
	"VAELoader":        "vae_name",
}

// sdModelNames reads every corpus workflow's loader names, per class; a
// TensorRTLoader name is true when a workflow loading it applies a
// ControlNet (its UNet stand-in then takes the residuals).
func sdModelNames(t *testing.T, s *schema.Set) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	root := testkit.CorpusDir(t)
	for _, f := range testkit.CorpusWorkflows(t) {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		wf, _ := graph.Load(f, data, graph.Options{Schemas: s})
		if wf == nil || wf.Prompt == nil {
			continue
		}
		controlled := slices.ContainsFunc(wf.Prompt.Nodes, func(n *graph.Node) bool { return n.ClassType == "ControlNetApplyAdvanced" })
		for _, n := range wf.Prompt.Nodes {
			input, ok := sdLoaderInputs[n.ClassType]
			if !ok {
				continue
			}
			in := n.Input(input)
			if in == nil {
				continue
			}
			name, ok := in.Literal().(string)
			if !ok || name == "" || (n.ClassType == "TensorRTLoader" && engineName.MatchString(`"`+name+`"`)) {
				continue
			}
			if out[n.ClassType] == nil {
				out[n.ClassType] = map[string]bool{}
			}
			out[n.ClassType][name] = out[n.ClassType][name] || (n.ClassType == "TensorRTLoader" && controlled)
		}
	}
	return out
}

// writeSDStandIn writes one loader's stand-in for name under dir
// (controlled: a UNet that takes ControlNet residuals).
func writeSDStandIn(dir, class, name string, controlled bool) error {
	name = strings.ReplaceAll(name, "\\", "/")
	switch class {
	case "TensorRTLoader":
		p := filepath.Join(dir, filepath.FromSlash(builtin.TensorRTUNetFile(name)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if !controlled {
			return onnxgen.NewUNet(sdTextWidth).Model(true).WriteFile(p)
		}
		return onnxgen.WriteControlNetUNet(p, sdTextWidth)
	case "ControlNetLoader":
		rel := strings.TrimSuffix(strings.TrimPrefix(builtin.ControlNetFile(name), "controlnet/"), ".onnx")
		return onnxgen.WriteControlNet(dir, rel, sdTextWidth)
	case "CLIPLoader":
		return onnxgen.WriteCLIPHidden(dir, modelStem(name), hiddenEncoder())
	case "VAELoader":
		if name == "taesd" {
			return onnxgen.WriteTAESD(dir)
		}
		return onnxgen.WriteVAEFolder(dir, modelStem(name))
	}
	return nil
}

// hiddenEncoder is the stand-in text encoder: 3 layers, hidden-state
// outputs.
func hiddenEncoder() onnxgen.TextEncoderHidden {
	return onnxgen.NewTextEncoderHidden(len(onnxgen.TinyVocab()), sdTextWidth, 3)
}

// modelStem is name without its weights file's extension.
func modelStem(name string) string {
	ext := path.Ext(name)
	switch ext {
	case ".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".onnx", ".sft":
		return strings.TrimSuffix(name, ext)
	}
	return name
}

// TestAniverseLCMRuns: ComfyStream's aniverse-lcm-trt-example-workflow.json
// (TensorRTLoader → ModelSamplingDiscrete lcm → KSampler lcm/sgm_uniform,
// CLIPSetLastLayer −2) compiles and runs on the census' stand-ins
// once its TensorRTLoader model_type "sd1.x" (upstream ComfyUI_TensorRT's
// name) reads "SD15": the schema comfyrt knows is the ComfyStream build's,
// whose list has SD15 and not sd1.x, so the file as published fails
// validation there (value_not_in_list), as it would in ComfyUI with that
// build.
func TestAniverseLCMRuns(t *testing.T) {
	const f = "comfystream/aniverse-lcm-trt-example-workflow.json"
	data := testkit.CorpusRead(t, f)
	cfg := config(t)
	if e := Check(f, data, cfg); e.Status != Other || !strings.Contains(e.Detail, "prompt_outputs_failed_validation") {
		t.Errorf("as published: %+v, want a validation failure (model_type sd1.x)", e)
	}
	fixed := strings.Replace(string(data), `"model_type": "sd1.x"`, `"model_type": "SD15"`, 1)
	if fixed == string(data) {
		t.Fatal("no model_type sd1.x in the file")
	}
	e := Check(f, []byte(fixed), cfg)
	if !e.Ran() {
		t.Errorf("with model_type SD15: %s %s (no kernel: %v)", e.Status, e.Detail, e.NoKernel)
	}
}

// TestPromptUpdatingRuns: ComfyUI_RealTimeNodes' prompt_updating_WORKFLOW
// (a StringControl's text into CLIPTextEncode per frame, a FloatControl's
// value into KSampler's denoise per frame) loads SDXL turbo, which comfyrt
// refuses (the census' SDXL stand-in says what it is). On an SD1.5
// checkpoint it compiles and runs as published: the prompt encoded per
// frame, the sigma schedule recomputed per frame.
func TestPromptUpdatingRuns(t *testing.T) {
	const f = "ComfyUI_RealTimeNodes/prompt_updating_WORKFLOW.json"
	data := testkit.CorpusRead(t, f)
	cfg := config(t)
	if e := Check(f, data, cfg); e.Status != Other || !strings.Contains(e.Detail, "is an SDXL export") {
		t.Errorf("as published: %s %s, want the SDXL checkpoint refused", e.Status, e.Detail)
	}
	sd15 := strings.Replace(string(data), "sd_xl_turbo_1.0_fp16.safetensors", "v1-5-pruned-emaonly.safetensors", 1)
	if sd15 == string(data) {
		t.Fatal("no sd_xl_turbo checkpoint in the file")
	}
	if !strings.Contains(sd15, `"FloatControl"`) || !strings.Contains(sd15, `"name": "denoise"`) {
		t.Fatal("the workflow no longer drives denoise from a FloatControl")
	}
	if e := Check(f, []byte(sd15), cfg); !e.Ran() {
		t.Errorf("on SD1.5 with the per-frame prompt and denoise: %s %s (no kernel: %v)", e.Status, e.Detail, e.NoKernel)
	}
}

// TestStreamPackBatchedRuns: Stream-Pack's batched denoising workflows
// (StreamScheduler, StreamBatchSampler into SamplerCustom, StreamFrameBuffer)
// compile unchanged on the stand-ins and run.
func TestStreamPackBatchedRuns(t *testing.T) {
	cfg := config(t)
	for _, f := range []string{"ComfyUI-Stream-Pack/sd15-tensorrt-batched-denoising-api.json",
		"ComfyUI-Stream-Pack/sd15-tensorrt-feature-bank-batched-denoising-api.json"} {
		data := testkit.CorpusRead(t, f)
		if e := Check(f, data, cfg); !e.Ran() {
			t.Errorf("%s: %s %s (no kernel: %v)", f, e.Status, e.Detail, e.NoKernel)
		}
	}
}
