//go:build cgo

package sdmodel_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/diffusion/sdmodel"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

func needORT(t *testing.T) engine.Provider {
	t.Helper()
	if err := ort.CheckInit(); err != nil {
		if errors.Is(err, engine.ErrUnavailable) {
			t.Skipf("ONNX Runtime unavailable: %v", err)
		}
		t.Fatal(err)
	}
	return ort.New()
}

// Inspect reads each part's names, element types and dynamic axes from
// the model itself.
func TestInspect(t *testing.T) {
	p := needORT(t)
	models := t.TempDir()
	writeSD(t, models, "int", onnxgen.TinySD{})
	writeSD(t, models, "half", onnxgen.TinySD{Half: true, FloatTimestep: true})
	want := map[string]map[string]string{
		"int": {
			sdmodel.TextEncoder: "input_ids int64[-1,-1] → last_hidden_state float32[-1,-1,8] pooler_output float32[-1,8]",
			sdmodel.UNet:        "sample float32[-1,4,-1,-1] timestep int64[-1] encoder_hidden_states float32[-1,-1,8] → out_sample float32[-1,4,-1,-1]",
			sdmodel.VAEEncoder:  "sample float32[-1,3,-1,-1] → latent_sample float32[-1,4,-1,-1]",
			sdmodel.VAEDecoder:  "latent_sample float32[-1,4,-1,-1] → sample float32[-1,3,-1,-1]",
		},
		"half": {
			sdmodel.UNet:       "sample float32[-1,4,-1,-1] timestep float32[-1] encoder_hidden_states float32[-1,-1,8] → out_sample float32[-1,4,-1,-1]",
			sdmodel.VAEDecoder: "latent_sample float16[-1,4,-1,-1] → sample float16[-1,3,-1,-1]",
		},
	}
	for name, parts := range want {
		m, err := sdmodel.Find(sdmodel.Folders{ModelDir: models}, name)
		if err != nil {
			t.Fatal(err)
		}
		for part, w := range parts {
			io, err := m.Inspect(p, part)
			if err != nil {
				t.Fatalf("%s %s: %v", name, part, err)
			}
			if got := describe(io); got != w {
				t.Errorf("%s %s:\n got %s\nwant %s", name, part, got, w)
			}
		}
	}
}

func describe(io sdmodel.IO) string {
	var in, out []string
	for _, x := range io.Inputs {
		in = append(in, x.String())
	}
	for _, x := range io.Outputs {
		out = append(out, x.String())
	}
	return strings.Join(in, " ") + " → " + strings.Join(out, " ")
}

// A model that is not the part the layout names is refused, naming what
// the export has.
func TestInspectWrongModel(t *testing.T) {
	p := needORT(t)
	models := t.TempDir()
	writeSD(t, models, "m", onnxgen.TinySD{})
	dir := filepath.Join(models, "checkpoints", "m")
	if err := onnxgen.NewConvNet().Model(1, -1, -1).WriteFile(filepath.Join(dir, "unet", "model.onnx")); err != nil {
		t.Fatal(err)
	}
	te := onnxgen.NewTextEncoder(10, 4)
	b := onnxgen.New("te").InputOf("input_ids", onnxgen.Float32, 1, 77).Output("last_hidden_state", 1, 77, 4).
		Float("k", []float32{1}, 1).Node("Mul", []string{"input_ids", "k"}, []string{"x"}).
		Int64("s", []int64{1, 77, 1}, 3).Node("Reshape", []string{"x", "s"}, []string{"y"}).
		Float("e", te.Emb[:4], 1, 1, 4).Node("Mul", []string{"y", "e"}, []string{"last_hidden_state"})
	if err := b.WriteFile(filepath.Join(dir, "text_encoder", "model.onnx")); err != nil {
		t.Fatal(err)
	}
	m, err := sdmodel.Find(sdmodel.Folders{ModelDir: models}, "m")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Inspect(p, sdmodel.UNet)
	for _, w := range []string{"checkpoints/m/unet/model.onnx", "no input sample (the model has x float32[1,3,-1,-1])", "sample, timestep, encoder_hidden_states → out_sample"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("unet: %v\n  lacks %q", err, w)
		}
	}
	_, err = m.Inspect(p, sdmodel.TextEncoder)
	if err == nil || !strings.Contains(err.Error(), "input input_ids float32[1,77]: element type float32, want int64") {
		t.Errorf("text encoder: %v", err)
	}
}
