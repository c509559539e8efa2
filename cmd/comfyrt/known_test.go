package main

// Tests of the built-in knowledge of ComfyUI core and custom-pack classes
// (nodes/known), through the built binary.

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

// TestBinary_ValidateCoreClassesWithoutDump: ComfyStream SD1.5 workflows
// (KSampler, CLIPTextEncode, VAEDecode, TensorRTLoader, the Torch-Compile
// loaders…) validate with no object_info file.
func TestBinary_ValidateCoreClassesWithoutDump(t *testing.T) {
	files := []string{testkit.CorpusFile(t, "comfystream/sd15-tensorrt-api.json"), testkit.CorpusFile(t, "ai-runner/default_workflow.json")}
	r := testkit.Run(t, "", nil, time.Minute, append([]string{"validate"}, files...)...)
	if r.Code != 0 || strings.Contains(r.Stdout, "missing_node_type") {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_OpenListsAndUnknownClasses: a model file name is accepted
// wherever ComfyUI lists a folder; a number there is not; an unknown class
// keeps ComfyUI's own missing_node_type message.
func TestBinary_OpenListsAndUnknownClasses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.json", `{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "my/own-model.safetensors"}},
 "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": "x.safetensors", "strength_model": 1.0, "strength_clip": 1.0}},
 "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "a cat"}},
 "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
 "5": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "seed": 1, "steps": 1, "cfg": 1.0, "sampler_name": "lcm", "scheduler": "normal",
   "positive": ["3", 0], "negative": ["3", 0], "latent_image": ["4", 0], "denoise": 1.0}},
 "6": {"class_type": "VAELoader", "inputs": {"vae_name": "taesd"}},
 "7": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["6", 0]}},
 "8": {"class_type": "SaveTensor", "inputs": {"images": ["7", 0]}}}`)
	write("number.json", `{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": 5}},
 "2": {"class_type": "VAEDecode", "inputs": {"samples": ["1", 0], "vae": ["1", 2]}}, "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`)
	write("unknown.json", `{"1": {"class_type": "NoSuchNode", "inputs": {}}}`)
	r := testkit.Run(t, dir, nil, time.Minute, "validate", "ok.json")
	if r.Code != 0 {
		t.Fatalf("ok.json: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "validate", "number.json")
	if r.Code != 1 || !strings.Contains(r.Stdout, "node 1 (CheckpointLoaderSimple) input ckpt_name: value_not_in_list") ||
		!strings.Contains(r.Stdout, "checkpoints folder") {
		t.Errorf("number.json: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "validate", "unknown.json")
	if r.Code != 1 || !strings.Contains(r.Stdout, "missing_node_type: Node 'NoSuchNode' not found. The custom node may not be installed.") {
		t.Errorf("unknown.json: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_CompileMissingKernels: compile lists every known class without
// a kernel at once, saying a core class is ComfyUI's and naming a custom
// class's pack, and never suggests installing a custom node.
func TestBinary_CompileMissingKernels(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "core.json"), []byte(`{"1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
 "2": {"class_type": "ImageQuantize", "inputs": {"image": ["1", 0], "colors": 8, "dither": "none"}},
 "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}}`), 0o644)
	r := testkit.Run(t, dir, nil, time.Minute, "compile", "core.json")
	want := "node 2 (ImageQuantize): missing_node_implementation: Node ImageQuantize #2 has no implementation in comfyrt: ImageQuantize is a ComfyUI core class (comfy_extras.nodes_post_processing) that comfyrt has no kernel for yet"
	if r.Code != 1 || !strings.Contains(r.Stdout, want) {
		t.Errorf("core class: exit %d, output lacks %q\n%s%s", r.Code, want, r.Stdout, r.Stderr)
	}
	// Every class of ComfyStream's SD1.5 workflow has a kernel now: without
	// its models, compile stops at the missing files, listing no class.
	f := testkit.CorpusFile(t, "comfystream/sd15-tensorrt-api.json")
	r = testkit.Run(t, "", nil, time.Minute, "compile", f)
	if r.Code != 1 || strings.Contains(r.Stdout, "missing_node_implementation") || !strings.Contains(r.Stdout, "missing_file") {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// The loaders report their missing model files; the nodes compiled to
	// nothing (TorchCompileLoadVAE) are not reported.
	for _, want := range []string{"node 3 (TensorRTLoader)", "node 8 (ControlNetLoader)", "node 23 (CLIPLoader)"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q\n%s", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "TorchCompileLoad") {
		t.Errorf("a pass-through reported:\n%s", r.Stdout)
	}
	if strings.Contains(r.Stdout, "may not be installed") || strings.Contains(r.Stdout, "missing_node_type") {
		t.Errorf("a known class reported as not installed:\n%s", r.Stdout)
	}
	// A custom pack's class without a kernel names its pack.
	os.WriteFile(filepath.Join(dir, "pack.json"), []byte(`{"1": {"class_type": "LoadImageFromPath_", "inputs": {"image_path": "x.png"}},
 "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}`), 0o644)
	r = testkit.Run(t, dir, nil, time.Minute, "compile", "pack.json")
	if r.Code != 1 || !strings.Contains(r.Stdout, "node 1 (LoadImageFromPath_): missing_node_implementation") ||
		!strings.Contains(r.Stdout, "LoadImageFromPath_ is a class of the custom node pack ComfyUI_RealtimeNodes") {
		t.Errorf("pack class: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_NodesImplemented: the listing holds every known class and
// marks those with a kernel; --implemented keeps only those, as text and
// as JSON; --help says so.
func TestBinary_NodesImplemented(t *testing.T) {
	r := testkit.Run(t, "", nil, time.Minute, "nodes")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			rows[f[0]] = f
		}
	}
	if len(rows) < 500 {
		t.Errorf("%d rows", len(rows))
	}
	for class, kernel := range map[string]string{"ImageBlur": "yes", "LoadTensor": "yes", "KSampler": "yes", "TensorRTLoader": "yes", "ONNXModelSelector": "-", "ControlNetApplyAdvanced": "yes", "CLIPVisionEncode": "-", "QuickShapeMask": "yes"} {
		if f := rows[class]; len(f) < 2 || f[1] != kernel {
			t.Errorf("%s: row %q, want KERNEL %s", class, f, kernel)
		}
	}
	// A pack class comfyrt runs keeps its built-in schema; one it does not
	// names its pack.
	if f := rows["TensorRTLoader"]; len(f) == 0 || f[len(f)-1] != "builtin" {
		t.Errorf("TensorRTLoader source: %q", f)
	}
	if f := rows["ONNXModelSelector"]; len(f) == 0 || f[len(f)-1] != "ComfyUI_TensorRT" {
		t.Errorf("ONNXModelSelector source: %q", f)
	}
	r = testkit.Run(t, "", nil, time.Minute, "nodes", "--implemented")
	if r.Code != 0 || !strings.Contains(r.Stdout, "ImageBlur") || strings.Contains(r.Stdout, "CLIPVisionEncode") || strings.Contains(r.Stdout, "\nAPG ") {
		t.Errorf("--implemented: exit %d\n%s", r.Code, r.Stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 1 && !strings.Contains(line, "with a kernel") && f[1] != "yes" {
			t.Errorf("--implemented lists %q", line)
		}
	}
	r = testkit.Run(t, "", nil, time.Minute, "nodes", "--implemented", "--format", "json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"ImageBlur"`) || strings.Contains(r.Stdout, `"CLIPVisionEncode"`) {
		t.Errorf("--implemented --format json: exit %d\n%.400s", r.Code, r.Stdout)
	}
	r = testkit.Run(t, "", nil, time.Minute, "nodes", "--help")
	if r.Code != 0 || !strings.Contains(r.Stderr+r.Stdout, "--implemented") || !strings.Contains(r.Stderr+r.Stdout, "ComfyUI core classes") {
		t.Errorf("--help: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_ServeKnownClasses: serve's ComfyUI endpoints know the core
// classes: GET /object_info/CLASS answers for one (its folder-listed combo
// an open list), and POST /prompt validates a ComfyStream SD1.5 prompt
// without an object_info file, as ComfyUI with those nodes and models
// installed would (every class has a kernel: its model files are checked,
// here the tiny stand-ins of TestBinary_ComfyStreamSD15ControlNet).
func TestBinary_ServeKnownClasses(t *testing.T) {
	prompt := testkit.CorpusRead(t, "comfystream/sd15-tensorrt-api.json")
	needORTBinary(t)
	models := t.TempDir()
	controlNetModels(t, models)
	base, stop := startServe(t, "--models-dir", models)
	defer stop()
	resp, err := http.Get(base + "/object_info/CheckpointLoaderSimple")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"comfyrt_folder":"checkpoints"`) {
		t.Errorf("GET /object_info/CheckpointLoaderSimple: %d %.300s", resp.StatusCode, b)
	}
	resp, err = http.Post(base+"/prompt", "application/json", strings.NewReader(`{"prompt": `+string(prompt)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"prompt_id"`) {
		t.Errorf("POST /prompt: %d %.400s", resp.StatusCode, b)
	}
}

// TestBinary_NodesJSONRoundTrip: the object_info that nodes --format json
// prints keeps the open lists, and read back as an --object-info file it
// judges a workflow as the built-in schemas do.
func TestBinary_NodesJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := testkit.Run(t, dir, nil, time.Minute, "nodes", "--format", "json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"comfyrt_folder": "loras"`) {
		t.Fatalf("exit %d\n%.300s", r.Code, r.Stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "info.json"), []byte(r.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wf.json"), []byte(`{"1": {"class_type": "LoraLoaderModelOnly",
 "inputs": {"model": ["2", 0], "lora_name": "any.safetensors", "strength_model": 1.0}},
 "2": {"class_type": "UNETLoader", "inputs": {"unet_name": "x.safetensors", "weight_dtype": "default"}},
 "3": {"class_type": "ModelMergeSimple", "inputs": {"model1": ["1", 0], "model2": ["2", 0], "ratio": 2.0}},
 "4": {"class_type": "PreviewAny", "inputs": {"source": ["3", 0]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := testkit.Run(t, dir, nil, time.Minute, "validate", "wf.json")
	file := testkit.Run(t, dir, nil, time.Minute, "validate", "--object-info", "info.json", "wf.json")
	// ratio is over its max; the file names are accepted.
	if plain.Code != 1 || plain.Stdout != file.Stdout || file.Code != plain.Code || !strings.Contains(plain.Stdout, "node 3 (ModelMergeSimple) input ratio: value_bigger_than_max") ||
		strings.Contains(plain.Stdout, "value_not_in_list") {
		t.Errorf("built in: exit %d\n%s\nthrough the file: exit %d\n%s%s", plain.Code, plain.Stdout, file.Code, file.Stdout, file.Stderr)
	}
}
