package census

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"comfyrt/compiler"
	"comfyrt/internal/onnxgen"
	"comfyrt/internal/picture"
	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
	"comfyrt/nodes/known"
	"comfyrt/nodes/value"
)

// config is what the census checks against: every known schema, the
// built-in kernels, ONNX Runtime for model nodes (they fail to prepare,
// saying why, where it is absent) with stand-in model files (standIns),
// and the separate Stable Diffusion parts (sdStandIns, sd_standins_test.go),
// and the sample clip's first frame at ComfyStream's 512×512 (a gradient
// picture when ffmpeg is not installed).
func config(t *testing.T) Config {
	t.Helper()
	s := known.Schemas()
	unlisted, err := builtin.FolderLists(s, "")
	if err != nil {
		t.Fatal(err)
	}
	r := nodes.NewRegistry()
	builtin.Register(r)
	frame := sampleFrame(t)
	models := standIns(t)
	sdStandIns(t, models, s)
	return Config{Frame: frame, Compiler: compiler.Config{Schemas: s, Registry: r, Unlisted: unlisted,
		Width: frame.Shape[2], Height: frame.Shape[1], Engines: ort.New(), ModelDir: models}}
}

// standIns returns a models folder holding, for every Depth Anything
// engine a corpus workflow names, a generated model with Depth Anything's
// input and output (internal/onnxgen DepthLike), where the node looks for
// the ONNX file of that engine, and for every checkpoint file name a tiny
// generated Stable Diffusion export (onnxgen TinySD) in the folder
// CheckpointLoaderSimple looks in. The real models are not installable
// here; with stand-ins those workflows compile and run, which checks the
// plans, not the pictures.
func standIns(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	engines := map[string]bool{}
	var ckpts []string
	for _, f := range testkit.CorpusWorkflows(t) {
		data, err := os.ReadFile(filepath.Join(testkit.CorpusDir(t), f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range engineName.FindAllSubmatch(data, -1) {
			engines[string(m[1])] = true
		}
		for _, m := range ckptName.FindAllSubmatch(data, -1) {
			if c := string(m[1]); !slices.Contains(ckpts, c) && !strings.Contains(c, "..") {
				ckpts = append(ckpts, c)
			}
		}
	}
	for _, c := range ckpts {
		stem := strings.TrimSuffix(strings.TrimSuffix(c, ".safetensors"), ".ckpt")
		folder := filepath.Join(dir, "checkpoints", filepath.FromSlash(stem))
		if err := (onnxgen.TinySD{}).Write(folder); err != nil {
			t.Fatal(err)
		}
		if sdxl.MatchString(stem) {
			// An SDXL checkpoint's stand-in says so, as a real SDXL export
			// would: SD1.5-shaped parts must not make an SDXL workflow pass.
			if err := os.WriteFile(filepath.Join(folder, "model_index.json"), []byte(`{"_class_name": "ORTStableDiffusionXLPipeline"}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	streamDiffusionStandIns(t, dir)
	model := onnxgen.DepthLike{W: [3]float32{0.5, 0.3, 0.2}, B: 0.01}.Model("input", "output")
	for e := range engines {
		path := filepath.Join(dir, "tensorrt", "depth-anything", strings.TrimSuffix(e, ".engine")+".onnx")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := model.WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sdxl matches the SDXL checkpoint names of the corpus (sd_xl_base_1.0,
// sd_xl_turbo_1.0_fp16, …).
var sdxl = regexp.MustCompile(`(?i)sd_?xl`)

// ckptName finds the checkpoints workflows name (API "ckpt_name" inputs;
// UI widgets_values of CheckpointLoaderSimple are matched by extension).
var ckptName = regexp.MustCompile(`"([^"/\\]*[A-Za-z0-9_.-]+\.(?:safetensors|ckpt))"`)

// engineName finds the Depth Anything engine files workflows name.
var engineName = regexp.MustCompile(`"(depth_anything[A-Za-z0-9_.-]*\.engine)"`)

// sampleFrame is the first frame of testdata/media/sample.mp4, scaled to
// 512×512 as ComfyStream's default stream (the corpus workflows draw
// their own canvases at that size).
func sampleFrame(t *testing.T) value.Tensor {
	t.Helper()
	const w, h = 512, 512
	png := filepath.Join(t.TempDir(), "frame.png")
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", filepath.Join(testkit.Root(), "testdata", "media", "sample.mp4"),
		"-frames:v", "1", "-vf", "scale=512:512", png)
	if out, err := cmd.CombinedOutput(); err == nil {
		frame, _, err := picture.Read(png, 0)
		if err == nil {
			return frame
		}
		t.Logf("sample frame: %v", err)
	} else {
		t.Logf("no sample frame (%v: %s): a gradient picture instead", err, out)
	}
	frame := value.Tensor{Shape: []int{1, h, w, 3}, Data: make([]float32, w*h*3)}
	for i := range frame.Data {
		frame.Data[i] = float32(i%(w*3)) / float32(w*3)
	}
	return frame
}

// TestCensus checks every corpus workflow: it loads, compiles and runs
// each (none may panic), prints the per-family summary and writes the
// whole table to $COMFYRT_CENSUS_OUT when set (make census).
func TestCensus(t *testing.T) {
	files := testkit.CorpusWorkflows(t)
	dir := testkit.CorpusDir(t)
	cfg := config(t)
	var entries []Entry
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		e := Check(filepath.ToSlash(f), data, cfg)
		entries = append(entries, e)
		if strings.Contains(e.Detail, "panic") {
			t.Errorf("%s: %s", f, e.Detail)
		}
	}
	sum := Summary(entries)
	t.Logf("census of %d corpus workflows:\n%s", len(entries), sum)
	if out := os.Getenv("COMFYRT_CENSUS_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(Table(entries)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A workflow that compiles must run (issue 12: every workflow whose
	// classes are all implemented runs once); one whose classes all have a
	// kernel but that does not compile is listed with its first error (the
	// corpus holds deliberately broken files).
	for _, e := range entries {
		if e.Status == Compiles && !e.Ran() {
			t.Errorf("%s compiles but its run failed: %s", e.File, e.Detail)
		}
		if e.Status == Other && len(e.Unknown) == 0 && len(e.NoKernel) == 0 {
			t.Logf("%s: every class has a kernel, but: %s", e.File, e.Detail)
		}
	}
}

// realtimeDirs are the corpus folders of the real-time packs whose classes
// must all be known.
var realtimeDirs = []string{"comfystream/", "ComfyUI-Stream-Pack/", "ComfyUI_RealTimeNodes/", "ComfyUI_TensorRT/",
	"muxionlabs-ComfyUI-StreamDiffusion/", "pschroedl-ComfyUI-StreamDiffusion/", "ai-runner/"}

// otherPacks are classes of packs outside the real-time ones (LivePortrait,
// Florence2, SAM2, controlnet_aux), a placeholder class of a ComfyStream
// test workflow, ComfyUI_TensorRT's ONNX_FP8_EXPORT (a build utility of
// another branch) and two StreamDiffusion classes the pack removed before
// the commit read (only a stale example uses them).
var otherPacks = regexp.MustCompile(`^(.*LivePortrait.*|.*Florence2.*|.*SAM2.*|Sam2RealtimeSegmentation|BoundingBoxToCenter|` +
	`MediaPipe-FaceMeshPreprocessor|SomeAudioToTextNode|ONNX_FP8_EXPORT|StreamDiffusionAccelerationSampler|StreamDiffusionEngine)$`)

// TestRealtimePackClassesKnown: every class the real-time packs' corpus
// workflows use has a schema, other packs' classes aside.
func TestRealtimePackClassesKnown(t *testing.T) {
	files := testkit.CorpusWorkflows(t)
	dir := testkit.CorpusDir(t)
	cfg := config(t)
	seen := 0
	for _, f := range files {
		f = filepath.ToSlash(f)
		if !hasAnyPrefix(f, realtimeDirs) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		e := Check(f, data, Config{Compiler: compiler.Config{Schemas: cfg.Compiler.Schemas}})
		seen++
		for _, c := range e.Unknown {
			if !otherPacks.MatchString(c) {
				t.Errorf("%s: class %s has no schema", f, c)
			}
		}
	}
	if seen < 40 {
		t.Errorf("only %d real-time workflows checked", seen)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// TestCheck_outcomes: the four outcomes on small workflows of their own.
func TestCheck_outcomes(t *testing.T) {
	cfg := config(t)
	frame := `{"1": {"class_type": "LoadTensor", "inputs": {}}, `
	for _, tc := range []struct {
		name, src, status string
		unknown, noKernel string
	}{
		{"compiles and runs", frame + `"2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}, "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`, Compiles, "", ""},
		{"unknown class", frame + `"2": {"class_type": "NoSuch", "inputs": {"image": ["1", 0]}}, "3": {"class_type": "CLIPVisionEncode", "inputs": {}}, "4": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}}}`,
			MissingType, "NoSuch", "CLIPVisionEncode"},
		{"no kernel", frame + `"2": {"class_type": "ImageQuantize", "inputs": {"image": ["1", 0], "colors": 8, "dither": "none"}}, "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`,
			MissingKernel, "", "ImageQuantize"},
		{"invalid", frame + `"2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 99, "sigma": 1.0}}, "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`, Other, "", ""},
		{"not a workflow", `[1, 2]`, Other, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Check(tc.name, []byte(tc.src), cfg)
			if e.Status != tc.status || strings.Join(e.Unknown, ",") != tc.unknown || strings.Join(e.NoKernel, ",") != tc.noKernel {
				t.Errorf("got %+v", e)
			}
			if tc.status == Compiles && !e.Ran() {
				t.Errorf("did not run: %s", e.Detail)
			}
			if tc.status == Other && e.Detail == "" {
				t.Error("no first error")
			}
		})
	}
}

func TestFamilyAndTable(t *testing.T) {
	s := known.Schemas()
	for want, classes := range map[string][]string{
		"audio":        {"LoadAudioTensor", "PitchShifter", "SaveAudioTensor"},
		"diffusion":    {"KSampler", "DepthAnythingTensorrt", "LoadImage"},
		"depth":        {"DepthAnythingTensorrt", "LoadImage", "PreviewImage"},
		"segmentation": {"Sam2RealtimeSegmentation", "LoadImage"},
		"text":         {"LoadTensor", "SaveTextTensor"},
		"image FX":     {"LoadTensor", "ImageInvert", "SaveTensor"},
		"other":        {"PrimitiveInt"},
	} {
		if got := Family(classes, s); got != want {
			t.Errorf("Family(%v) = %s, want %s", classes, got, want)
		}
	}
	tab := Table([]Entry{
		{File: "a.json", Family: "image FX", Status: Compiles, Detail: ranOK},
		{File: "b.json", Family: "diffusion", Status: MissingKernel, NoKernel: []string{"KSampler"}},
		{File: "c.json", Family: "other", Status: Other, Detail: "x | y"},
	})
	for _, want := range []string{"| `a.json` | image FX | compiles, ran |", "| `b.json` | diffusion | missing_node_implementation | no kernel: KSampler |",
		`x \| y`, "| image FX | 1 | 1 | 1 | 0 | 0 | 0 |", "| **all** | 3 | 1 | 1 | 0 | 1 | 1 |"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
}

// streamDiffusionStandIns adds what pschroedl/ComfyUI-StreamDiffusion's
// workflows need besides their checkpoints: TAESD for use_tiny_vae, and
// the prebuilt engine set Kohaku_Slime as the ONNX files beside where its
// engines would be (tiny UNet and TAESD-like VAE, as the engine loaders
// read them), in the pack's layout: for the corpus's "39,35,30" and a
// frame buffer of 1 the wrapper reads the UNet from the max_batch-3 build
// and the VAEs from the max_batch-1 one.
func streamDiffusionStandIns(t *testing.T, dir string) {
	t.Helper()
	if err := onnxgen.WriteTAESD(dir); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(dir, "tensorrt", "StreamDiffusion-engines", "Kohaku_Slime")
	build := map[int]string{
		3: filepath.Join(set, "kohaku-v2.1--lcm_lora-True--tiny_vae-True--max_batch-3--min_batch-3--mode-img2img"),
		1: filepath.Join(set, "kohaku-v2.1--lcm_lora-True--tiny_vae-True--max_batch-1--min_batch-1--mode-img2img"),
	}
	_, unet, _ := onnxgen.TinySD{}.Parts()
	taesd := onnxgen.NewTAESD()
	for f, m := range map[string]*onnxgen.Builder{filepath.Join(build[3], "unet.onnx"): unet.Model(true),
		filepath.Join(build[1], "vae_encoder.onnx"): taesd.Encoder("sample", "latent_sample", false),
		filepath.Join(build[1], "vae_decoder.onnx"): taesd.Decoder("latent_sample", "sample", false)} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := m.WriteFile(f); err != nil {
			t.Fatal(err)
		}
	}
}
