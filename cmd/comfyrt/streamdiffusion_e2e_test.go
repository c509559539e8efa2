package main

import (
	"fmt"
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

// streamDiffusionModels writes, under dir, tiny models where the corpus's
// pschroedl/ComfyUI-StreamDiffusion workflows point: the checkpoints
// (Optimum folders of the names' stems), TAESD for use_tiny_vae, the
// prebuilt engine set Kohaku_Slime (the ONNX files beside where the
// engines would be) and a Depth Anything stand-in.
func streamDiffusionModels(t testing.TB, dir string) {
	t.Helper()
	for _, name := range []string{"sd_turbo", "kohaku-v2.1", "3dCartoonVision_v10"} {
		if err := (onnxgen.TinySD{}).Write(filepath.Join(dir, "checkpoints", name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := onnxgen.WriteTAESD(dir); err != nil {
		t.Fatal(err)
	}
	// The corpus's prebuilt set in the pack's layout: for "39,35,30" and a
	// frame buffer of 1 the wrapper reads the UNet from the max_batch-3
	// build and the VAEs from the max_batch-1 one.
	set := filepath.Join(dir, "tensorrt", "StreamDiffusion-engines", "Kohaku_Slime")
	build := func(rows int) string {
		return filepath.Join(set, fmt.Sprintf("kohaku-v2.1--lcm_lora-True--tiny_vae-True--max_batch-%d--min_batch-%d--mode-img2img", rows, rows))
	}
	depth := filepath.Join(dir, "tensorrt", "depth-anything")
	for _, d := range []string{build(3), build(1), depth} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, unet, _ := onnxgen.TinySD{}.Parts()
	taesd := onnxgen.NewTAESD()
	for f, m := range map[string]*onnxgen.Builder{filepath.Join(build(3), "unet.onnx"): unet.Model(true),
		filepath.Join(build(1), "vae_encoder.onnx"): taesd.Encoder("sample", "latent_sample", false),
		filepath.Join(build(1), "vae_decoder.onnx"): taesd.Decoder("latent_sample", "sample", false)} {
		if err := m.WriteFile(f); err != nil {
			t.Fatal(err)
		}
	}
	d := onnxgen.DepthLike{W: [3]float32{0.5, 0.3, 0.2}, B: 0.01}
	if err := d.Model("input", "output").WriteFile(filepath.Join(depth, "depth_anything_v2_vitb-fp16.onnx")); err != nil {
		t.Fatal(err)
	}
}

// streamDiffusionCorpus are the pack's corpus workflows that need only
// classes comfyrt runs (the SAM2 ones need another pack; the LoRA ones are
// refused, TestBinary_StreamDiffusionLoRA; the UI-format Depth Anything one
// names classes of an older version of the pack, StreamDiffusionEngine and
// StreamDiffusionAccelerationSampler).
var streamDiffusionCorpus = []string{
	"img2img_no_acceleration_turbo_API_FORMAT.json", "img2img_w_build_acceleration_API_FORMAT.json",
	"img2img_acceleration_prebuilt_API_FORMAT.json", "Streamdiffusion_Depth_Anything_API_FORMAT.json",
	"img2img_no_acceleration_turbo.json", "img2img_w_build_acceleration.json", "img2img_acceleration_prebuilt.json",
}

// TestBinary_StreamDiffusionCorpus: each workflow compiles unchanged (the
// loaders and configs static, the sampler per frame) and runs through the
// binary on the sample clip against the tiny models, 512×512 frames (the
// Depth Anything one composites the 512×512 result over the frame).
func TestBinary_StreamDiffusionCorpus(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	streamDiffusionModels(t, models)
	for i, f := range streamDiffusionCorpus {
		wf := testkit.CorpusFile(t, "pschroedl-ComfyUI-StreamDiffusion/"+f)
		if i == 0 {
			r := testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--width", "512", "--height", "512", "--models-dir", models, wf)
			if r.Code != 0 {
				t.Fatalf("compile %s: exit %d\n%s%s", f, r.Code, r.Stdout, r.Stderr)
			}
			static, perFrame, ok := strings.Cut(r.Stdout, "per-frame:")
			if !ok || !strings.Contains(static, "#183 StreamDiffusionCheckpointLoader") || !strings.Contains(static, "#182 StreamDiffusionConfig") ||
				!strings.Contains(perFrame, "#184 StreamDiffusionSampler") || !strings.Contains(perFrame, "IMAGE[1,512,512,3]") {
				t.Errorf("%s: want the loader and config static, the sampler per frame:\n%s", f, r.Stdout)
			}
		}
		runSampleClip(t, dir, wf, models, 3, "--width", "512", "--height", "512")
	}
}

// TestBinary_StreamDiffusionLoRA: a workflow with StreamDiffusionLoraLoader
// does not compile; the error names the node, its input and the way out.
func TestBinary_StreamDiffusionLoRA(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	streamDiffusionModels(t, models)
	wf := testkit.CorpusFile(t, "pschroedl-ComfyUI-StreamDiffusion/ral-polygon_lora_API_FORMAT.json")
	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--width", "512", "--height", "512", "--models-dir", models, wf)
	out := r.Stdout + r.Stderr
	if r.Code == 0 || !strings.Contains(out, "181") || !strings.Contains(out, "StreamDiffusionLoraLoader") || !strings.Contains(out, "lora_name") ||
		!strings.Contains(out, "fuse the LoRA into the checkpoint before exporting") {
		t.Errorf("compile: exit %d, want the LoRA refused naming node 181 and lora_name:\n%s", r.Code, out)
	}
}

// streamDiffusionPlan loads the turbo workflow for in-process plans on
// 64×48 frames, its engines counting their runs.
func streamDiffusionPlan(t *testing.T) (*graph.Prompt, compiler.Config, *testkit.RunCounter) {
	t.Helper()
	models := filepath.Join(t.TempDir(), "models")
	streamDiffusionModels(t, models)
	data, err := os.ReadFile(testkit.CorpusFile(t, "pschroedl-ComfyUI-StreamDiffusion/img2img_no_acceleration_turbo_API_FORMAT.json"))
	if err != nil {
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
	wf, diags := graph.Load("wf.json", data, graph.Options{Schemas: schemas})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rc := testkit.CountRuns(ort.New())
	return wf.Prompt, compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, Width: 64, Height: 48,
		Engines: rc, ModelDir: models, Engine: engine.Options{IntraOpThreads: 1}}, rc
}

// TestStreamDiffusionPlanUpdate: the sampler keeps its stream (the
// denoising batch, the stock noise) across a swap that changes another
// node, and starts afresh (warm-up included) when its own input changes.
func TestStreamDiffusionPlanUpdate(t *testing.T) {
	needORTBinary(t)
	prompt, cfg, rc := streamDiffusionPlan(t)
	r := newPlanRunner(t, prompt, cfg, 13)
	compile, run := r.compile, r.run
	pl, control := compile(), compile()
	for k := range 3 {
		run(pl, k)
		run(control, k)
	}
	// An unrelated node changes: the sampler's kernel and stream go on.
	np, err := pl.Update("185", "filename_prefix", "other")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { np.Close() })
	before := rc.Runs("unet")
	got, want := run(np, 3), run(control, 3)
	if n := rc.Runs("unet") - before; n != 2 {
		t.Errorf("after an unrelated swap: %d UNet runs for the frame (swapped plan and control), want 1 each: no new warm-up", n)
	}
	if !slices.Equal(got, want) {
		t.Error("after an unrelated swap the output differs from the unswapped plan's: the stream's state was lost")
	}
	// The sampler's own input changes: a fresh stream, warmed up again on
	// its first frame, as a new plan with that value.
	np2, err := np.Update("184", "delta", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { np2.Close() })
	before = rc.Runs("unet")
	got = run(np2, 4)
	if n := rc.Runs("unet") - before; n != 3 {
		t.Errorf("after the sampler changed: %d UNet runs, want 3 (warm-up of a fresh stream)", n)
	}
	fresh2, err := compile().Update("184", "delta", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh2.Close()
	if !slices.Equal(got, run(fresh2, 4)) {
		t.Error("the changed sampler's first output differs from a fresh plan's: its state was kept")
	}
}

// streamEngineBuild is the folder of the build of model for rows in the
// stand-in engine set Kohaku_Slime, named as the pack's wrapper names it.
func streamEngineBuild(models, model string, rows int) string {
	return filepath.Join(models, "tensorrt", "StreamDiffusion-engines", "Kohaku_Slime",
		fmt.Sprintf("%s--lcm_lora-True--tiny_vae-True--max_batch-%d--min_batch-%d--mode-img2img", model, rows, rows))
}

// writeStreamEngineFile writes m as file in the build of model for rows.
func writeStreamEngineFile(t *testing.T, models, model string, rows int, file string, m *onnxgen.Builder) {
	t.Helper()
	sub := streamEngineBuild(models, model, rows)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile(filepath.Join(sub, file)); err != nil {
		t.Fatal(err)
	}
}

// TestBinary_StreamDiffusionEngineBuilds: the prebuilt workflow (t_index
// 39,35,30, frame buffer 1) compiles with the UNet build for three rows
// beside one for two; without a UNet build for three, or with two of
// other models than the checkpoint's, node 183's engine_config is refused
// naming the candidates; a VAE build whose decoder upsamples 4× is refused
// when the plan is built, naming the sampler's stream_model, instead of
// crashing on the first frame.
func TestBinary_StreamDiffusionEngineBuilds(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	streamDiffusionModels(t, models)
	wf := testkit.CorpusFile(t, "pschroedl-ComfyUI-StreamDiffusion/img2img_acceleration_prebuilt_API_FORMAT.json")
	compile := func() (int, string) {
		r := testkit.Run(t, dir, nil, time.Minute, "compile", "--width", "64", "--height", "64", "--models-dir", models, wf)
		return r.Code, r.Stdout + r.Stderr
	}
	_, unet, _ := onnxgen.TinySD{}.Parts()
	writeStreamEngineFile(t, models, "kohaku-v2.1", 2, "unet.onnx", unet.Model(true))
	if code, out := compile(); code != 0 {
		t.Fatalf("compile with UNet builds for 2 and 3 rows: exit %d\n%s", code, out)
	}
	if err := os.RemoveAll(streamEngineBuild(models, "kohaku-v2.1", 3)); err != nil {
		t.Fatal(err)
	}
	code, out := compile()
	if code == 0 || !strings.Contains(out, "183") || !strings.Contains(out, "engine_config") ||
		!strings.Contains(out, filepath.Base(streamEngineBuild(models, "kohaku-v2.1", 2))) || !strings.Contains(out, "max_batch-3--min_batch-3--mode-img2img") {
		t.Errorf("no UNet build for 3 rows: exit %d, want node 183's engine_config refused naming the build for 2:\n%s", code, out)
	}
	for _, m := range []string{"slime-a", "slime-b"} {
		writeStreamEngineFile(t, models, m, 3, "unet.onnx", unet.Model(true))
	}
	code, out = compile()
	if code == 0 || !strings.Contains(out, "183") || !strings.Contains(out, "engine_config") || !strings.Contains(out, "keep one") ||
		!strings.Contains(out, filepath.Base(streamEngineBuild(models, "slime-a", 3))) || !strings.Contains(out, filepath.Base(streamEngineBuild(models, "slime-b", 3))) {
		t.Errorf("two UNet builds of other models: exit %d, want node 183's engine_config refused naming both:\n%s", code, out)
	}
	writeStreamEngineFile(t, models, "kohaku-v2.1", 3, "unet.onnx", unet.Model(true))
	if code, out := compile(); code != 0 {
		t.Fatalf("compile with the checkpoint's UNet build beside two others: exit %d\n%s", code, out)
	}
	writeStreamEngineFile(t, models, "kohaku-v2.1", 1, "vae_decoder.onnx", onnxgen.NewTAESD().DecoderScaled("latent_sample", "sample", 4))
	code, out = compile()
	if code == 0 || !strings.Contains(out, "184") || !strings.Contains(out, "stream_model") || !strings.Contains(out, "8×") {
		t.Errorf("a 4× decoder: exit %d, want node 184's stream_model refused:\n%s", code, out)
	}
}

// planRunner compiles one prompt into plans closed at the test's end and
// runs frame k (a 64×48 pattern that changes with k by step) through one,
// returning a copy of its first output: the plan-update tests of the
// stateful diffusion nodes compare a swapped plan with an unswapped one.
type planRunner struct {
	t      *testing.T
	prompt *graph.Prompt
	cfg    compiler.Config
	step   int
	frame  value.Tensor
}

func newPlanRunner(t *testing.T, prompt *graph.Prompt, cfg compiler.Config, step int) *planRunner {
	return &planRunner{t: t, prompt: prompt, cfg: cfg, step: step, frame: value.New(value.ImageSpec(1, 48, 64)).Tensor}
}

func (r *planRunner) compile() *compiler.Plan {
	r.t.Helper()
	pl, err := compiler.Compile(r.prompt, r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { pl.Close() })
	return pl
}

func (r *planRunner) run(pl *compiler.Plan, k int) []float32 {
	r.t.Helper()
	for i := range r.frame.Data {
		r.frame.Data[i] = float32((i*7+k*r.step)%251) / 250
	}
	if err := pl.RunFrame(r.frame); err != nil {
		r.t.Fatal(err)
	}
	return slices.Clone(pl.Output(0).Tensor.Data)
}
