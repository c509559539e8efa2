package sdmodel_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/diffusion/sdmodel"
)

// writeSD writes a tiny export as models/checkpoints/<name>.
func writeSD(t *testing.T, models, name string, sd onnxgen.TinySD) {
	t.Helper()
	if err := sd.Write(filepath.Join(models, "checkpoints", filepath.FromSlash(name))); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	models := t.TempDir()
	writeSD(t, models, "tiny", onnxgen.TinySD{})
	writeSD(t, models, "SD1.5/dream", onnxgen.TinySD{})
	f := sdmodel.Folders{ModelDir: models}
	for _, name := range []string{"tiny", "tiny.safetensors", "tiny.ckpt", "SD1.5/dream.safetensors", `SD1.5\dream.safetensors`} {
		m, err := sdmodel.Find(f, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Class != "ORTStableDiffusionPipeline" || m.LatentScale != 0.18215 || m.Scheduler.PredictionType != "epsilon" ||
			m.Scheduler.BetaSchedule != "scaled_linear" || m.Scheduler.TrainSteps != 1000 || m.Scheduler.StepsOffset != 1 {
			t.Errorf("%s: %+v", name, m)
		}
		if _, err := os.Stat(m.PartPath(sdmodel.UNet)); err != nil {
			t.Error(err)
		}
		if v, mg := m.TokenizerFiles(); filepath.Base(v) != "vocab.json" || filepath.Base(mg) != "merges.txt" {
			t.Error(v, mg)
		}
	}
}

func TestFindErrors(t *testing.T) {
	models := t.TempDir()
	writeSD(t, models, "nounet", onnxgen.TinySD{Skip: []string{"unet/model.onnx", "tokenizer/merges.txt"}})
	writeSD(t, models, "badsched", onnxgen.TinySD{})
	os.WriteFile(filepath.Join(models, "checkpoints", "badsched", "scheduler", "scheduler_config.json"), []byte(`{"prediction_type": "flow"}`), 0o644)
	os.WriteFile(filepath.Join(models, "checkpoints", "plain.safetensors"), []byte("weights"), 0o644)
	writeSD(t, models, "xl", onnxgen.TinySD{})
	os.WriteFile(filepath.Join(models, "checkpoints", "xl", "model_index.json"), []byte(`{"_class_name": "ORTStableDiffusionXLPipeline"}`), 0o644)
	writeSD(t, models, "xl2", onnxgen.TinySD{})
	os.MkdirAll(filepath.Join(models, "checkpoints", "xl2", "text_encoder_2"), 0o755)
	f := sdmodel.Folders{ModelDir: models}
	for name, want := range map[string][]string{
		"plain.safetensors": {"ErrNotFound", "checkpoints/plain/", "optimum-cli export onnx", "--task stable-diffusion", "unet/model.onnx"},
		"nounet":            {"checkpoints/nounet/ is not a Stable Diffusion ONNX export", "unet/model.onnx, tokenizer/merges.txt missing", "optimum-cli"},
		"badsched":          {"scheduler_config.json", `prediction_type "flow"`},
		"xl":                {"checkpoints/xl/ is an SDXL export (ORTStableDiffusionXLPipeline)", "text_embeds, time_ids"},
		"xl2":               {"checkpoints/xl2/ is an SDXL export (text_encoder_2/)"},
		"../x":              {"not a name inside the models folder"},
		"/etc/passwd":       {"not a name inside the models folder"},
		"":                  {"no checkpoint named"},
	} {
		_, err := sdmodel.Find(f, name)
		if err == nil {
			t.Errorf("%q found", name)
			continue
		}
		for _, w := range want {
			if w == "ErrNotFound" {
				if !errors.Is(err, sdmodel.ErrNotFound) {
					t.Errorf("%q: not ErrNotFound: %v", name, err)
				}
				continue
			}
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %v\n  lacks %q", name, err, w)
			}
		}
	}
}

// A link out of the models folder is followed for local workflows and
// refused for confined ones.
func TestFindConfined(t *testing.T) {
	models, outside := t.TempDir(), t.TempDir()
	writeSD(t, outside, "linked", onnxgen.TinySD{})
	os.MkdirAll(filepath.Join(models, "checkpoints"), 0o755)
	if err := os.Symlink(filepath.Join(outside, "checkpoints", "linked"), filepath.Join(models, "checkpoints", "linked")); err != nil {
		t.Fatal(err)
	}
	if _, err := sdmodel.Find(sdmodel.Folders{ModelDir: models}, "linked"); err != nil {
		t.Errorf("local: %v", err)
	}
	_, err := sdmodel.Find(sdmodel.Folders{ModelDir: models, Confined: true}, "linked")
	if err == nil || strings.Contains(err.Error(), outside) {
		t.Errorf("confined: %v", err)
	}
	writeSD(t, models, "inside", onnxgen.TinySD{})
	if _, err := sdmodel.Find(sdmodel.Folders{ModelDir: models, Confined: true}, "inside"); err != nil {
		t.Errorf("confined, inside: %v", err)
	}
}

func TestFindVAE(t *testing.T) {
	models := t.TempDir()
	f := sdmodel.Folders{ModelDir: models}
	if _, err := sdmodel.FindVAE(f, "taesd"); !errors.Is(err, sdmodel.ErrNotFound) || !strings.Contains(err.Error(), "vae_approx/taesd_encoder.onnx") {
		t.Errorf("taesd absent: %v", err)
	}
	if err := onnxgen.WriteTAESD(models); err != nil {
		t.Fatal(err)
	}
	v, err := sdmodel.FindVAE(f, "taesd")
	if err != nil || !v.TAESD || v.Scale != 0.18215 || filepath.Base(v.Decoder) != "taesd_decoder.onnx" {
		t.Errorf("taesd: %+v %v", v, err)
	}
	if _, err := sdmodel.FindVAE(f, "ft-mse.safetensors"); !errors.Is(err, sdmodel.ErrNotFound) || !strings.Contains(err.Error(), "vae/ft-mse/") {
		t.Errorf("absent vae: %v", err)
	}
	if err := (onnxgen.TinySD{}).Write(filepath.Join(models, "vae", "ft-mse")); err != nil {
		t.Fatal(err)
	}
	if v, err := sdmodel.FindVAE(f, "ft-mse.safetensors"); err != nil || v.TAESD || v.Scale != 0.18215 {
		t.Errorf("vae: %+v %v", v, err)
	}
}

// SD1.5's scaled-linear schedule gives the sigma range ComfyUI and
// k-diffusion list for it: sigma_max 14.6146, sigma_min 0.0292.
func TestBetas(t *testing.T) {
	s := sdmodel.Scheduler{PredictionType: "epsilon", BetaSchedule: "scaled_linear", BetaStart: 0.00085, BetaEnd: 0.012, TrainSteps: 1000}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	b := s.Betas()
	if math.Abs(b[0]-0.00085) > 1e-12 || math.Abs(b[999]-0.012) > 1e-12 {
		t.Errorf("ends %g %g", b[0], b[999])
	}
	ac, sigmas := 1.0, make([]float64, len(b))
	for i, x := range b {
		ac *= 1 - x
		sigmas[i] = math.Sqrt((1 - ac) / ac)
	}
	if math.Abs(sigmas[999]-14.6146) > 1e-4 || math.Abs(sigmas[0]-0.0292) > 1e-4 {
		t.Errorf("sigmas %g … %g", sigmas[0], sigmas[999])
	}
	for _, bad := range []sdmodel.Scheduler{
		{PredictionType: "epsilon", BetaSchedule: "cosine", BetaStart: 0.1, BetaEnd: 0.2, TrainSteps: 10},
		{PredictionType: "epsilon", BetaSchedule: "linear", BetaStart: 0.2, BetaEnd: 0.1, TrainSteps: 10},
		{PredictionType: "epsilon", BetaSchedule: "linear", BetaStart: 0.1, BetaEnd: 0.2, TrainSteps: 1},
	} {
		if bad.Check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
