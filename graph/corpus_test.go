package graph

import (
	"os"
	"path/filepath"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
	"comfyrt/internal/testkit"
)

// TestCorpusParse parses every corpus file in the format Detect gives it:
// no panic, and a UI file always yields a UIWorkflow. A bundle (an object
// whose values are graphs, like litegraph's testSubgraphs.json) is parsed
// graph by graph.
func TestCorpusParse(t *testing.T) {
	t.Parallel()
	dir := testkit.CorpusDir(t)
	for _, rel := range testkit.CorpusWorkflows(t) {
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			tree, err := jsonx.Decode(data)
			if err != nil {
				t.Skipf("not JSON: %v", err)
			}
			switch Detect(tree) {
			case FormatUI:
				ui, ds := ParseUI(tree)
				if ui == nil || ui.Graph == nil {
					t.Fatalf("ParseUI returned no graph: %v", ds)
				}
				for _, d := range ds {
					t.Logf("%s %s", d.Pointer, d.Error())
				}
			default:
				p, ds := ParseAPI(tree)
				if p == nil {
					t.Fatal("ParseAPI returned nil")
				}
				for _, d := range ds {
					t.Logf("%s %s", d.Pointer, d.Error())
				}
				if bundle, ok := tree.(jsonx.Object); ok && isBundle(bundle) {
					for _, m := range bundle {
						ui, ds := ParseUI(m.Value)
						if ui == nil {
							t.Errorf("%s: %v", m.Key, ds)
						}
					}
				}
			}
		})
	}
}

func isBundle(o jsonx.Object) bool {
	if len(o) == 0 {
		return false
	}
	for _, m := range o {
		g, ok := m.Value.(jsonx.Object)
		if !ok {
			return false
		}
		if _, ok := g.Get("nodes"); !ok {
			return false
		}
	}
	return true
}

// TestCorpusConvert converts every corpus UI file with the corpus schemas:
// it must not panic, and every problem must come back as a diagnostic with
// a pointer into the file. The errors expected of the deliberately broken
// files are listed; any other error fails.
func TestCorpusConvert(t *testing.T) {
	t.Parallel()
	schemas := corpusSchemas(t)
	dir := testkit.CorpusDir(t)
	for _, rel := range testkit.CorpusWorkflows(t) {
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			w, ds := Load(rel, data, Options{Schemas: schemas})
			if w.Format != FormatUI {
				t.Skip("API format")
			}
			if w.Prompt == nil {
				t.Fatalf("no prompt: %v", ds)
			}
			for _, d := range ds {
				if d.Pointer == "" && d.NodeID == "" {
					t.Errorf("diagnostic without pointer or node: %v", d)
				}
				t.Logf("%s [%s] %s", d.Pointer, d.Severity, d.Error())
				if d.Severity == diag.Error {
					t.Errorf("unexpected error: %v", d)
				}
			}
			out, err := w.Prompt.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jsonx.Decode(out); err != nil {
				t.Fatalf("converted prompt is not JSON: %v", err)
			}
			if testing.Verbose() && os.Getenv("SHOW_PROMPT") != "" {
				t.Logf("%s", out)
			}
		})
	}
}

// uiAPIPair is a UI file and an API file of the same graph from the corpus.
type uiAPIPair struct {
	name, ui, api string
	// want lists the differences that are real disagreements between the
	// two files (the API file exported from another edit of the graph),
	// with the reason in why. Every other difference fails the test.
	want []string
	why  string
}

var uiAPIPairs = []uiAPIPair{
	{name: "sd15-tensorrt", ui: "comfystream/sd15-tensorrt.json", api: "comfystream/sd15-tensorrt-api.json"},
	{name: "sd15-tensorrt-w-depthmask-accelerated", ui: "comfystream/sd15-tensorrt-w-depthmask-accelerated.json", api: "comfystream/sd15-tensorrt-w-depthmask-accelerated-api.json"},
	{name: "sd15-multi-cnet-depthanything-face", ui: "comfystream/sd15-multi-cnet-depthanything-face.json", api: "comfystream/sd15-multi-cnet-depthanything-face-api.json"},
	{name: "sd15-multi-cnet-depthanything-face-dynamic", ui: "comfystream/sd15-multi-cnet-depthanything-face-dynamic.json", api: "comfystream/sd15-multi-cnet-depthanything-face-dynamic-api.json"},
	{name: "florence-sam2", ui: "comfystream/florence-sam2.json", api: "ComfyUI-Florence2-Vision/florence2+sam2-api.json",
		why: "the API file (ComfyUI-Florence2-Vision) was exported from another edit of the graph: the SAM2 loader was re-created (id 15 there, 19 here), and the prompt text, the loaded image and reset_tracking were changed",
		want: []string{
			`10.text_input: "shirt", want "rock"`,
			`13.reset_tracking: "", want false`,
			`13.sam2_model: ["19",0], want ["15",0]`,
			`15: missing from conversion (DownloadAndLoadSAM2RealtimeModel)`,
			`19: extra in conversion (DownloadAndLoadSAM2RealtimeModel)`,
			`3.image: "example.png", want "rock.png"`,
		}},
	{name: "FPS_Monitor", ui: "ComfyUI_RealTimeNodes/FPS_Monitor_WORKFLOW.json", api: "ComfyUI_RealTimeNodes/FPS_Monitor_API.json"},
	{name: "img2img_acceleration_prebuilt", ui: "pschroedl-ComfyUI-StreamDiffusion/img2img_acceleration_prebuilt.json", api: "pschroedl-ComfyUI-StreamDiffusion/img2img_acceleration_prebuilt_API_FORMAT.json"},
	{name: "img2img_no_acceleration_turbo", ui: "pschroedl-ComfyUI-StreamDiffusion/img2img_no_acceleration_turbo.json", api: "pschroedl-ComfyUI-StreamDiffusion/img2img_no_acceleration_turbo_API_FORMAT.json"},
	{name: "img2img_w_build_acceleration", ui: "pschroedl-ComfyUI-StreamDiffusion/img2img_w_build_acceleration.json", api: "pschroedl-ComfyUI-StreamDiffusion/img2img_w_build_acceleration_API_FORMAT.json"},
	{name: "Streamdiffusion_Depth_Anything", ui: "pschroedl-ComfyUI-StreamDiffusion/Streamdiffusion_Depth_Anything.json", api: "pschroedl-ComfyUI-StreamDiffusion/Streamdiffusion_Depth_Anything_API_FORMAT.json",
		why: "the UI file still uses the node pack's older classes StreamDiffusionAccelerationSampler and StreamDiffusionEngine (no schema in the corpus, so their widget values stay unnamed), which the API file replaced by StreamDiffusionSampler and StreamDiffusionConfig",
		want: []string{
			"61: class_type StreamDiffusionAccelerationSampler, want StreamDiffusionSampler",
			"61.delta: missing, want 1",
			"61.guidance_scale: missing, want 1.2",
			`61.negative_prompt: missing, want ""`,
			"61.num_inference_steps: missing, want 50",
			`61.prompt: missing, want "bright colors"`,
			"75: class_type StreamDiffusionEngine, want StreamDiffusionConfig",
			`75.acceleration: missing, want "none"`,
			`75.cfg_type: missing, want "self"`,
			"75.frame_buffer_size: missing, want 1",
			"75.height: missing, want 512",
			`75.mode: missing, want "img2img"`,
			"75.seed: missing, want 95521537",
			`75.t_index_list: missing, want "39,35,30"`,
			"75.use_lcm_lora: missing, want true",
			"75.use_tiny_vae: missing, want true",
			"75.width: missing, want 512",
		}},
}

// Files with the same classes that are NOT twins, so not compared:
//   - ComfyUI-Background-Edit/realtime-depth-bg-blur-workflow.json and
//     comfystream/depth-bg-blur-gpu-api.json: no node id in common with the
//     same class; two separate builds of the same idea.
//   - comfystream/sd15_simple_dropdown_workflow (2)(1).json and
//     comfystream/sd15_all_dynamic_params_wlora.json: different versions of
//     the ControlNetTRT nodes (32 vs 33 and 36 vs 42 widgets, lora and
//     ipadapter dropdowns against path strings).

// TestCorpusPairs converts each UI file and compares it with its API twin
// node by node: class_type and inputs. Normalisation: _meta is ignored,
// input order is ignored, numbers compare by value, and the legacy
// "upload" input (older frontends serialized LoadImage's upload button as
// "upload": "image"; the current one does not, and ComfyUI ignores it) is
// ignored when only the API file has it.
func TestCorpusPairs(t *testing.T) {
	t.Parallel()
	schemas := corpusSchemas(t)
	for _, tc := range uiAPIPairs {
		t.Run(tc.name, func(t *testing.T) {
			ui, ds := ParseUI(readCorpus(t, tc.ui))
			if ui == nil {
				t.Fatalf("ParseUI: %v", ds)
			}
			want, ads := ParseAPI(readCorpus(t, tc.api))
			if len(ads) > 0 {
				t.Fatalf("ParseAPI: %v", ads)
			}
			got, cds := Convert(ui, ConvertOptions{Schemas: deriveSchemas(t, schemas, ui, want)})
			for _, d := range append(ds, cds...) {
				t.Logf("%s", d.Error())
			}
			diffs := comparePrompts(got, want, map[string]bool{"upload": true})
			if g, w := joinLines(diffs), joinLines(tc.want); g != w {
				t.Errorf("differences:\n%s\n\nwant (%s):\n%s", g, tc.why, w)
			}
		})
	}
}
