package builtin

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
	"comfyrt/nodes/engine/ort"
	"comfyrt/nodes/value"
)

// These tests run the model nodes on ONNX Runtime (the test wires the
// engine the way the CLI does); they skip when the library, the model or
// the picture is absent (scripts/setup.sh fetches them).

func needORT(t testing.TB) engine.Provider {
	t.Helper()
	if err := ort.CheckInit(); err != nil {
		if errors.Is(err, engine.ErrUnavailable) {
			t.Skipf("ONNX Runtime unavailable: %v", err)
		}
		t.Fatal(err)
	}
	return ort.New()
}

// cacheFile finds .cache/<rel> above the working directory, or skips.
func cacheFile(t testing.TB, rel string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, ".cache", filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skipf("%s absent (run scripts/setup.sh)", rel)
		}
		dir = up
	}
}

// TestDepthAnything_ort: a generated model with Depth Anything's shapes
// runs through the node on ONNX Runtime and agrees with the same node on a
// fake engine computing the model in plain Go.
func TestDepthAnything_ort(t *testing.T) {
	p := needORT(t)
	dir := t.TempDir()
	model := onnxgen.DepthLike{W: [3]float32{0.6, 0.3, 0.1}, B: 0.05}
	path := filepath.Join(dir, "tensorrt", "depth-anything", "gen.onnx")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := model.Model("input", "output").WriteFile(path); err != nil {
		t.Fatal(err)
	}
	frame := randomImage(3, 1, 90, 120, 3)
	got := runPrepared(t, modelKernel(t, "DepthAnythingTensorrt", p, dir), frame, str("gen.engine"))

	f := fake.New()
	f.Add(path, fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "input", DType: engine.Float32, Shape: []int{1, 3, 518, 518}}},
		Outputs: []engine.TensorInfo{{Name: "output", DType: engine.Float32, Shape: []int{1, 518, 518}}},
		Fn:      func(in, out []engine.Tensor) { copy(out[0].Data, model.Reference(in[0].Data)) },
	})
	k := modelKernel(t, "DepthAnythingTensorrt", f, dir)
	want := prepare(t, k, []value.Value{frame, str("gen.engine")})
	if err := k.Run([]value.Value{frame, str("gen.engine")}, want); err != nil {
		t.Fatal(err)
	}
	// Both quantise to 8 bits; a value on a rounding boundary may differ
	// by one step.
	if d := maxAbsDiff(got[0].Tensor.Data, want[0].Tensor.Data); d > 1.01/255 {
		t.Errorf("ORT vs plain Go: max-abs %g", d)
	}
}

// textBands are the text lines of imageTextN.png (556×257), measured from
// the picture: rows and columns holding ink (luminance < 50 %).
var textBands = []struct{ y0, y1, x0, x1 int }{
	{19, 30, 31, 349}, {38, 49, 52, 527}, {56, 67, 31, 526}, {75, 86, 31, 525}, {93, 104, 31, 526},
	{112, 123, 31, 526}, {130, 141, 31, 525}, {149, 160, 31, 526}, {167, 178, 31, 525}, {186, 197, 31, 526},
	{204, 215, 31, 275}, {223, 234, 52, 525}, {241, 252, 31, 270},
}

// blank are regions of the same picture without ink: the ends of short
// lines, paragraph indents, the margins.
var blank = []struct{ y0, y1, x0, x1 int }{
	{17, 32, 365, 550}, {202, 217, 295, 550}, {239, 254, 290, 550}, // after short lines
	{36, 51, 0, 40}, {221, 236, 0, 40}, // indents
	{0, 12, 0, 555}, {0, 256, 0, 22}, {0, 256, 537, 555}, // margins
}

func fraction(m []float32, w int, y0, y1, x0, x1 int) float64 {
	on, n := 0, 0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			n++
			if m[y*w+x] > 0.5 {
				on++
			}
		}
	}
	return float64(on) / float64(n)
}

// TestTextDetection_real runs TextDetection with PP-OCRv4 on a real picture
// from Debian's opencv-doc (imageTextN.png, a page of printed text) and
// checks the mask against the text lines measured from the picture.
func TestTextDetection_real(t *testing.T) {
	p := needORT(t)
	modelPath := cacheFile(t, "models/"+TextDetModel)
	data, err := os.ReadFile(cacheFile(t, "media/imageTextN.png"))
	if err != nil {
		t.Fatal(err)
	}
	pic, err := DecodePicture(bytes.NewReader(data), 0)
	rgb, h, w := pic.RGB, pic.H, pic.W
	if err != nil {
		t.Fatal(err)
	}
	if h != 257 || w != 556 {
		t.Fatalf("picture is %dx%d, the bands were measured on 556x257", w, h)
	}
	frame := value.OfTensor(value.Image, value.Tensor{Shape: []int{1, h, w, 3}, Data: rgb})
	start := time.Now()
	k := modelKernel(t, "TextDetection", p, filepath.Dir(modelPath))
	in := []value.Value{frame, f64(0.3), i64(960)}
	out := prepare(t, k, in)
	load := time.Since(start)
	start = time.Now()
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("prepare (session load) %v, first run %v", load, time.Since(start))
	if a := testing.AllocsPerRun(2, func() { k.Run(in, out) }); a != 0 {
		t.Errorf("Run allocates %v times", a)
	}
	m := out[0].Tensor.Data
	for _, b := range textBands {
		// DBNet's map covers the shrunk text body: check the band's core
		// (the x-height rows, inside the horizontal extent).
		if f := fraction(m, w, b.y0+3, b.y1-2, b.x0+4, b.x1-4); f < 0.6 {
			t.Errorf("text line y %d-%d x %d-%d: only %.0f %% of the mask on", b.y0, b.y1, b.x0, b.x1, 100*f)
		}
	}
	for _, b := range blank {
		if f := fraction(m, w, b.y0, b.y1, b.x0, b.x1); f > 0.03 {
			t.Errorf("blank region y %d-%d x %d-%d: %.1f %% of the mask on", b.y0, b.y1, b.x0, b.x1, 100*f)
		}
	}
	total := fraction(m, w, 0, h-1, 0, w-1)
	t.Logf("mask on over %.1f %% of the picture", 100*total)
	if total < 0.15 || total > 0.6 {
		t.Errorf("mask covers %.1f %% of the picture", 100*total)
	}
	if math.IsNaN(float64(m[0])) {
		t.Error("NaN in mask")
	}
}
