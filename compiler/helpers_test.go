package compiler

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"comfyrt/graph"
	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

// testSchemas are classes the tests add: CountImage copies its IMAGE and
// counts its runs (k is a widget), PanicNode panics in Prepare, FancyNode
// has a schema but no kernel.
const testSchemas = `{
 "CountImage": {"input": {"required": {"image": ["IMAGE"], "k": ["INT", {"default": 0, "min": 0, "max": 100}]}},
   "input_order": {"required": ["image", "k"]}, "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"],
   "name": "CountImage", "output_node": false},
 "PanicNode": {"input": {"required": {"image": ["IMAGE"]}}, "input_order": {"required": ["image"]},
   "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"], "name": "PanicNode", "output_node": false},
 "FancyNode": {"input": {"required": {"image": ["IMAGE"]}}, "input_order": {"required": ["image"]},
   "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"], "name": "FancyNode", "output_node": false}
}`

// counters counts the runs and closes of CountImage kernels by node id.
type counters struct {
	runs, prepares, closes atomic.Int64
}

type countKernel struct {
	c *counters
	n int
}

func (k *countKernel) Prepare(in []value.Spec) ([]value.Spec, error) {
	k.c.prepares.Add(1)
	k.n = in[0].Elems()
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *countKernel) Run(in, out []value.Value) error {
	k.c.runs.Add(1)
	copy(out[0].Tensor.Data[:k.n], in[0].Tensor.Data)
	return nil
}

func (k *countKernel) Close() error { k.c.closes.Add(1); return nil }

type panicKernel struct{}

func (panicKernel) Prepare([]value.Spec) ([]value.Spec, error) { panic("boom in prepare") }
func (panicKernel) Run(_, _ []value.Value) error               { return nil }

// testConfig returns a Config with the built-in schemas and kernels plus
// the test classes; c counts CountImage's calls.
func testConfig(t testing.TB) (Config, *counters) {
	t.Helper()
	s := schema.NewSet()
	s.Merge(builtin.Schemas())
	extra, err := schema.Parse([]byte(testSchemas), "test")
	if err != nil {
		t.Fatal(err)
	}
	s.Merge(extra)
	unlisted, err := builtin.FolderLists(s, "")
	if err != nil {
		t.Fatal(err)
	}
	r := nodes.NewRegistry()
	builtin.Register(r)
	c := &counters{}
	r.MustRegister("CountImage", func(nodes.Config) (nodes.Kernel, error) { return &countKernel{c: c}, nil })
	r.MustRegister("PanicNode", func(nodes.Config) (nodes.Kernel, error) { return panicKernel{}, nil })
	cfg := Config{Schemas: s, Registry: r, Unlisted: unlisted}
	// Model-backed nodes run on the real ONNX Runtime with the models that
	// scripts/setup.sh fetches, when both are here (see needsModels).
	models := filepath.Join(testkit.Root(), ".cache", "models")
	if ort.CheckInit() == nil {
		if _, err := os.Stat(models); err == nil {
			cfg.Engines, cfg.ModelDir = ort.New(), models
			cfg.Engine = engine.Options{IntraOpThreads: 1}
		}
	}
	return cfg, c
}

// modelClasses are the built-in classes backed by a model file.
var modelClasses = []string{"TextDetection", "DepthAnythingTensorrt", "ONNXModelLoader", "ONNXImageModel"}

// needsModels returns the model-backed classes of a prompt when cfg has no
// engine to run them (no ONNX Runtime library or models folder here).
func needsModels(p *graph.Prompt, cfg Config) []string {
	if cfg.Engines != nil {
		return nil
	}
	var out []string
	for _, n := range p.Nodes {
		if slices.Contains(modelClasses, n.ClassType) && !slices.Contains(out, n.ClassType) {
			out = append(out, n.ClassType)
		}
	}
	return out
}

// load parses a workflow (API or UI) with the config's schemas.
func load(t testing.TB, name string, data []byte, cfg Config) *graph.Prompt {
	t.Helper()
	wf, diags := graph.Load(name, data, graph.Options{Schemas: cfg.Schemas})
	if wf.Prompt == nil || diags.HasErrors() {
		t.Fatalf("load %s: %v", name, diags)
	}
	return wf.Prompt
}

func loadString(t testing.TB, src string, cfg Config) *graph.Prompt {
	t.Helper()
	return load(t, "test.json", []byte(strings.TrimSpace(src)), cfg)
}

func mustCompile(t testing.TB, src string, cfg Config) *Plan {
	t.Helper()
	pl, err := Compile(loadString(t, src, cfg), cfg)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	t.Cleanup(func() { pl.Close() })
	return pl
}

// rampFrame is a [1,h,w,3] frame with values i/n.
func rampFrame(w, h int) value.Tensor {
	t := value.NewTensor(1, h, w, 3)
	for i := range t.Data {
		t.Data[i] = float32(i%251) / 251
	}
	return t
}

// writePNG writes a w×h picture of one colour to dir/name.
func writePNG(t testing.TB, dir, name string, w, h int, c color.NRGBA) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, c)
		}
	}
	p := filepath.Join(dir, name)
	testkit.WritePNG(t, p, img)
	return p
}
