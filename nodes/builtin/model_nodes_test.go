package builtin

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
	"comfyrt/nodes/value"
)

// modelKernel makes the kernel of class with an engine provider and a
// models folder.
func modelKernel(t testing.TB, class string, p engine.Provider, modelDir string) nodes.Kernel {
	t.Helper()
	k, err := registry(t).New(nodes.Config{NodeID: "1", Class: class, Engines: p, ModelDir: modelDir,
		Engine: engine.Options{IntraOpThreads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := k.(nodes.Closer); ok {
		t.Cleanup(func() { c.Close() })
	}
	return k
}

// runPrepared prepares k for in, runs it once, checks that a second Run
// allocates nothing, and returns the outputs.
func runPrepared(t testing.TB, k nodes.Kernel, in ...value.Value) []value.Value {
	t.Helper()
	out := prepare(t, k, in)
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if a := testing.AllocsPerRun(3, func() {
		if err := k.Run(in, out); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Run allocates %v times per call", a)
	}
	return out
}

// touch creates an empty file (the fake provider reads nothing).
func touch(t testing.TB, path string) string {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTextDetection_fake: the frame reaches the model resized to
// multiples of 32, in BGR order, normalised with ImageNet's statistics;
// the probability map is resized back and thresholded.
func TestTextDetection_fake(t *testing.T) {
	dir := t.TempDir()
	path := touch(t, filepath.Join(dir, TextDetModel))
	p := fake.New()
	// The fake "detector": probability 1 where the model's channel 0 (B
	// after BGR ordering) is above its mean, i.e. blue > 0.485.
	p.Add(path, fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{-1, 3, -1, -1}}},
		Outputs: []engine.TensorInfo{{Name: "sigmoid_0.tmp_0", DType: engine.Float32, Shape: []int{-1, 1, -1, -1}}},
		Fn: func(in, out []engine.Tensor) {
			n := len(out[0].Data)
			for i := range n {
				if in[0].Data[i] > 0 {
					out[0].Data[i] = 1
				} else {
					out[0].Data[i] = 0
				}
			}
		},
	})
	k := modelKernel(t, "TextDetection", p, dir)
	// 100×200 frame, blue box over x 40..119, y 20..59, red elsewhere.
	frame := mkImage(1, 100, 200, 3, func(_, y, x, ch int) float32 {
		in := x >= 40 && x < 120 && y >= 20 && y < 60
		switch {
		case in && ch == 2, !in && ch == 0:
			return 1
		}
		return 0
	})
	out := runPrepared(t, k, frame, f64(0.5), i64(960))
	wantShape(t, out[0], 1, 100, 200)
	opens := p.Opens()
	if len(opens) != 1 {
		t.Fatalf("%d opens", len(opens))
	}
	if got := opens[0].Opts.Shapes["x"]; !value.EqualShapes(got, []int{1, 3, 96, 192}) {
		t.Errorf("model input %v, want [1,3,96,192] (multiples of 32)", got)
	}
	m := out[0].Tensor.Data
	on := func(y, x int) bool { return m[y*200+x] == 1 }
	if !on(40, 80) || on(80, 160) || on(10, 10) || !on(25, 45) || on(65, 80) {
		t.Errorf("mask wrong: (40,80)=%v (80,160)=%v (10,10)=%v (25,45)=%v (65,80)=%v",
			on(40, 80), on(80, 160), on(10, 10), on(25, 45), on(65, 80))
	}
	// Same frame size: no new session; a new size opens a new one.
	prepare(t, k, []value.Value{frame, f64(0.3), i64(960)})
	if n := len(p.Opens()); n != 1 {
		t.Errorf("re-Prepare with the same size reopened the model (%d opens)", n)
	}
	big := mkImage(1, 1000, 2000, 3, func(int, int, int, int) float32 { return 0 })
	prepare(t, k, []value.Value{big, f64(0.3), i64(960)})
	if o := p.Opens(); len(o) != 2 || !value.EqualShapes(o[1].Opts.Shapes["x"], []int{1, 3, 480, 960}) {
		t.Errorf("large frame: opens %+v", o)
	}
	if p.Live() != 1 {
		t.Errorf("%d sessions live, want 1", p.Live())
	}
	k.(nodes.Closer).Close()
	if p.Live() != 0 {
		t.Errorf("%d sessions live after Close", p.Live())
	}
}

func TestDetSize(t *testing.T) {
	for _, c := range []struct{ h, w, lim, wh, ww int }{
		{512, 512, 960, 512, 512}, {720, 1280, 960, 544, 960}, {10, 10, 960, 32, 32}, {257, 556, 960, 256, 544},
	} {
		if h, w := detSize(c.h, c.w, c.lim); h != c.wh || w != c.ww {
			t.Errorf("detSize(%d,%d,%d) = %d,%d want %d,%d", c.h, c.w, c.lim, h, w, c.wh, c.ww)
		}
	}
}

// depthFake returns a fake Depth Anything model whose depth is the input's
// R plane.
func depthFake(t testing.TB, dir, file string) *fake.Provider {
	p := fake.New()
	p.Add(touch(t, filepath.Join(dir, "tensorrt", "depth-anything", file)), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "input", DType: engine.Float32, Shape: []int{1, 3, 518, 518}}},
		Outputs: []engine.TensorInfo{{Name: "output", DType: engine.Float32, Shape: []int{1, 518, 518}}},
		Fn:      func(in, out []engine.Tensor) { copy(out[0].Data, in[0].Data[:518*518]) },
	})
	return p
}

// TestDepthAnything_fake: engine name → ONNX file, min-max scaling,
// resize back to the frame, grey to RGB; "metric" inverts.
func TestDepthAnything_fake(t *testing.T) {
	dir := t.TempDir()
	p := depthFake(t, dir, "depth_anything_v2_vitl.onnx")
	k := modelKernel(t, "DepthAnythingTensorrt", p, dir)
	const h, w = 60, 80
	frame := mkImage(2, h, w, 3, func(b, _, x, ch int) float32 {
		if ch == 0 {
			return 0.2 + 0.5*float32(x)/float32(w-1)
		}
		return 0.9
	})
	out := runPrepared(t, k, frame, str("depth_anything_v2_vitl.engine"))
	wantShape(t, out[0], 2, h, w, 3)
	d := out[0].Tensor.Data
	for b := range 2 {
		for _, x := range []int{0, 20, 40, 79} {
			i := ((b*h+30)*w + x) * 3
			want := float64(x) / float64(w-1)
			if math.Abs(float64(d[i])-want) > 0.03 || d[i] != d[i+1] || d[i] != d[i+2] {
				t.Errorf("picture %d x=%d: %v %v %v, want ≈%.3f grey", b, x, d[i], d[i+1], d[i+2], want)
			}
		}
	}
	if n := len(p.Opens()); n != 1 {
		t.Errorf("batch of 2 with a batch-1 model: %d opens", n)
	}
	// metric: inverted.
	pm := depthFake(t, dir, "depth_metric.onnx")
	km := modelKernel(t, "DepthAnythingTensorrt", pm, dir)
	om := runPrepared(t, km, frame, str("depth_metric.onnx"))
	if v := om[0].Tensor.Data[(30*w+79)*3]; v > 0.03 {
		t.Errorf("metric engine not inverted: %v", v)
	}
	if err := prepareErrWith(t, "DepthAnythingTensorrt", p, dir, frame, str("missing.engine")); err == nil ||
		!strings.Contains(err.Error(), filepath.Join("tensorrt", "depth-anything", "missing.onnx")) {
		t.Errorf("missing engine: %v", err)
	}
}

func prepareErrWith(t testing.TB, class string, p engine.Provider, dir string, in ...value.Value) error {
	t.Helper()
	_, err := nodes.SafePrepare(modelKernel(t, class, p, dir), specsOf(in))
	return err
}

func TestDepthModelFile(t *testing.T) {
	for in, want := range map[string]string{
		"depth_anything_vitl14-fp16.engine": "tensorrt/depth-anything/depth_anything_vitl14-fp16.onnx",
		"v2.onnx":                           "tensorrt/depth-anything/v2.onnx",
	} {
		if got := DepthModelFile(in); got != want {
			t.Errorf("DepthModelFile(%q) = %q", in, got)
		}
	}
}

// TestImageModel_fake: the generic pair, with an NHWC model of dynamic
// size: the loader's reference reaches the model node when the plan is
// built, width and height bind the input, mean/std and BGR apply, IMAGE and
// MASK come back at the frame size.
func TestImageModel_fake(t *testing.T) {
	dir := t.TempDir()
	path := touch(t, filepath.Join(dir, "m.onnx"))
	p := fake.New()
	p.Add(path, fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "in", DType: engine.Float32, Shape: []int{1, -1, -1, 3}}},
		Outputs: []engine.TensorInfo{{Name: "out", DType: engine.Float32, Shape: []int{1, -1, -1, 3}}},
		Fn:      func(in, out []engine.Tensor) { copy(out[0].Data, in[0].Data) },
	})
	loader := modelKernel(t, "ONNXModelLoader", p, dir)
	lo := runPrepared(t, loader, str("m.onnx"), str("cuda"))
	ref := lo[0]
	k := modelKernel(t, "ONNXImageModel", p, dir)
	frame := mkImage(1, 40, 50, 3, func(_, _, _, ch int) float32 { return []float32{0.2, 0.5, 0.8}[ch] })
	// (x−0.1)/0.5 on BGR: model channels = (1.4, 0.8, 0.2) → clamp → (1, 0.8, 0.2)
	out := runPrepared(t, k, frame, ref, i64(32), i64(16), str("NHWC"), str("BGR"), str("0.1"), str("0.5"), str("clamp"))
	wantShape(t, out[0], 1, 40, 50, 3)
	wantShape(t, out[1], 1, 40, 50)
	o := p.Opens()
	if len(o) != 1 || !value.EqualShapes(o[0].Opts.Shapes["in"], []int{1, 16, 32, 3}) {
		t.Fatalf("opens %+v", o)
	}
	if d := o[0].Opts.Devices; len(d) != 2 || d[0] != "cuda" || d[1] != "cpu" {
		t.Errorf("devices %v", d)
	}
	px := out[0].Tensor.Data[(20*50+25)*3:]
	if math.Abs(float64(px[0])-1) > 1e-5 || math.Abs(float64(px[1])-0.8) > 1e-5 || math.Abs(float64(px[2])-0.2) > 1e-5 {
		t.Errorf("pixel %v, want [1 0.8 0.2]", px[:3])
	}
	if m := out[1].Tensor.Data[20*50+25]; math.Abs(float64(m)-1) > 1e-5 {
		t.Errorf("mask %v, want 1", m)
	}
	// A model reference that is not known when the plan is built.
	_, err := nodes.SafePrepare(k, []value.Spec{value.ImageSpec(1, 40, 50), {Kind: value.Handle},
		value.ConstSpec(i64(0)), value.ConstSpec(i64(0)), value.ConstSpec(str("NCHW")), value.ConstSpec(str("RGB")),
		value.ConstSpec(str("0,0,0")), value.ConstSpec(str("1,1,1")), value.ConstSpec(str("clamp"))})
	if err == nil || !strings.Contains(err.Error(), "ONNXModelLoader") {
		t.Errorf("unknown model: %v", err)
	}
	// Dynamic size with width/height 0.
	if _, err := nodes.SafePrepare(k, specsOf([]value.Value{frame, ref, i64(0), i64(0), str("NHWC"), str("RGB"), str("0"), str("1"), str("minmax")})); err == nil ||
		!strings.Contains(err.Error(), "dynamic") {
		t.Errorf("dynamic size: %v", err)
	}
}

func TestModelNodes_noEngine(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, TextDetModel))
	k, _ := registry(t).New(nodes.Config{Class: "TextDetection", ModelDir: dir})
	_, err := nodes.SafePrepare(k, specsOf([]value.Value{randomImage(1, 1, 8, 8, 3), f64(0.3), i64(960)}))
	if err == nil || !strings.Contains(err.Error(), "no inference engine") {
		t.Errorf("no engine: %v", err)
	}
	k, _ = registry(t).New(nodes.Config{Class: "TextDetection"})
	if _, err := nodes.SafePrepare(k, specsOf([]value.Value{randomImage(1, 1, 8, 8, 3), f64(0.3), i64(960)})); err == nil ||
		!strings.Contains(err.Error(), "models folder") {
		t.Errorf("no models folder: %v", err)
	}
}

// TestResolveModel_Confinement: names that climb out of the models folder
// are refused; absolute paths only when the workflow is confined.
func TestResolveModel_Confinement(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "models")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveModel(nodes.Config{ModelDir: sub}, "../m.onnx"); err == nil {
		t.Error("../ escaped the models folder")
	}
	if _, err := resolveModel(nodes.Config{ModelDir: sub}, f); err != nil {
		t.Errorf("absolute path, not confined: %v", err)
	}
	if _, err := resolveModel(nodes.Config{ModelDir: sub, Confined: true}, f); err == nil {
		t.Error("absolute path accepted for a confined workflow")
	}
}

// TestLoadImage_ConfinedNoFolder: a confined workflow with no input folder
// cannot read static images.
func TestLoadImage_ConfinedNoFolder(t *testing.T) {
	k, err := newLoadImage(nodes.Config{NodeID: "1", Class: "LoadImage", Confined: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Prepare([]value.Spec{value.ConstSpec(value.OfString("x.png"))}); err == nil || !strings.Contains(err.Error(), "no input folder") {
		t.Fatalf("err = %v", err)
	}
}
