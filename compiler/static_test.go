package compiler

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

const staticShareWF = `{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "x.png"}},
 "2": {"class_type": "LoadImage", "inputs": {"image": "bg.png"}},
 "3": {"class_type": "CountImage", "inputs": {"image": ["2", 0], "k": 1}},
 "4": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["3", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["4", 0]}}
}`

// staticShareSetup is the configuration of the StaticCache tests: 8×8
// frames, a red bg.png in the input folder, a new cache; the ramp frame
// they run and the blend of its first sample that staticShareWF gives.
func staticShareSetup(t *testing.T) (Config, *counters, value.Tensor, float32) {
	t.Helper()
	cfg, c := testConfig(t)
	cfg.InputDir = t.TempDir()
	writePNG(t, cfg.InputDir, "bg.png", 8, 8, color.NRGBA{R: 255, A: 255})
	cfg.Width, cfg.Height = 8, 8
	cfg.Static = NewStaticCache()
	frame := rampFrame(8, 8)
	return cfg, c, frame, 0.5*frame.Data[0] + 0.5*1
}

// TestStaticCache: plans compiled with one StaticCache run each static step
// once between them (the later plans make no kernel for it), give the
// same frames, keep working whichever closes first, and leave the cache
// empty when all are closed. Another literal input or frame size is
// another entry; a plan without the cache shares nothing.
func TestStaticCache(t *testing.T) {
	t.Parallel()
	cfg, c, frame, want := staticShareSetup(t)

	a := mustCompile(t, staticShareWF, cfg)
	if err := a.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	// LoadImage (IMAGE, MASK) and CountImage (IMAGE) are published.
	if e, r := cfg.Static.Len(); e != 2 || r != 2 {
		t.Fatalf("after the first plan: %d entries, %d refs, want 2, 2", e, r)
	}
	b := mustCompile(t, staticShareWF, cfg)
	if !strings.Contains(b.String(), "[shared]") {
		t.Errorf("second plan shares nothing:\n%s", b)
	}
	if err := b.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if n, p := c.runs.Load(), c.prepares.Load(); n != 1 || p != 1 {
		t.Fatalf("two plans: CountImage ran %d times, prepared %d, want 1, 1", n, p)
	}
	for i, pl := range []*Plan{a, b} {
		if got := pl.Output(0).Tensor.Data[0]; math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("plan %d: blend = %v, want %v", i, got, want)
		}
	}
	if e, r := cfg.Static.Len(); e != 2 || r != 4 {
		t.Fatalf("two plans: %d entries, %d refs, want 2, 4", e, r)
	}
	// The publisher closes first: the other plan's results stay.
	a.Close()
	if n := c.closes.Load(); n != 1 {
		t.Errorf("closing the publisher closed %d kernels, want 1", n)
	}
	if err := b.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if got := b.Output(0).Tensor.Data[0]; math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("after the publisher closed: blend = %v, want %v", got, want)
	}
	// A rebuild of a plan that took shared results takes them too.
	b2, err := b.Update("4", "blend_factor", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if got, w := b2.Output(0).Tensor.Data[0], 0.75*frame.Data[0]+0.25; math.Abs(float64(got-w)) > 1e-6 {
		t.Errorf("rebuilt plan: blend = %v, want %v", got, w)
	}
	// Another literal of the static step: a new entry, run once.
	other := mustCompile(t, strings.Replace(staticShareWF, `"k": 1`, `"k": 2`, 1), cfg)
	if err := other.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if n := c.runs.Load(); n != 2 {
		t.Errorf("another k: %d runs, want 2", n)
	}
	if e, _ := cfg.Static.Len(); e != 3 {
		t.Errorf("another k: %d entries, want 3", e)
	}
	// Another frame size does not change the static inputs here: shared.
	cfg2 := cfg
	cfg2.Width, cfg2.Height = 16, 16
	big := mustCompile(t, staticShareWF, cfg2)
	if err := big.RunFrame(rampFrame(16, 16)); err != nil {
		t.Fatal(err)
	}
	if n := c.runs.Load(); n != 2 {
		t.Errorf("another frame size: %d runs, want 2 (static inputs unchanged)", n)
	}
	// Without the cache nothing is shared.
	plain := cfg
	plain.Static = nil
	p := mustCompile(t, staticShareWF, plain)
	if err := p.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if n := c.runs.Load(); n != 3 {
		t.Errorf("without the cache: %d runs, want 3", n)
	}
	for _, pl := range []*Plan{b, b2, other, big, p} {
		pl.Close()
	}
	if e, r := cfg.Static.Len(); e != 0 || r != 0 {
		t.Errorf("all closed: %d entries, %d refs", e, r)
	}
}

// handleKernel makes a Handle (as a model loader would); unwrapKernel
// turns it into an IMAGE of its width.
type handleKernel struct{ runs *atomic.Int64 }

func (k handleKernel) Prepare([]value.Spec) ([]value.Spec, error) {
	return []value.Spec{{Kind: value.Handle}}, nil
}

func (k handleKernel) Run(_, out []value.Value) error {
	k.runs.Add(1)
	out[0] = value.OfHandle(&struct{ w int }{4})
	return nil
}

type unwrapKernel struct{ runs *atomic.Int64 }

func (k unwrapKernel) Prepare([]value.Spec) ([]value.Spec, error) {
	return []value.Spec{value.TensorSpec(value.Image, 1, 4, 4, 3)}, nil
}

func (k unwrapKernel) Run(in, out []value.Value) error {
	k.runs.Add(1)
	if _, ok := in[0].Handle.(*struct{ w int }); !ok {
		return fmt.Errorf("input is %T", in[0].Handle)
	}
	for i := range out[0].Tensor.Data {
		out[0].Tensor.Data[i] = 0.25
	}
	return nil
}

// TestStaticCacheHandles: a static result that is a Handle (a model, a
// latent) is never shared, and its kernel runs in every plan; the plain
// data made from it is shared.
func TestStaticCacheHandles(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	extra, err := schema.Parse([]byte(`{
 "MakeHandle": {"input": {"required": {}}, "output": ["LATENT"], "output_is_list": [false], "output_name": ["LATENT"], "name": "MakeHandle", "output_node": false},
 "Unwrap": {"input": {"required": {"samples": ["LATENT"]}}, "input_order": {"required": ["samples"]}, "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"], "name": "Unwrap", "output_node": false}
}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Schemas.Merge(extra)
	var makes, unwraps atomic.Int64
	cfg.Registry.MustRegister("MakeHandle", func(nodes.Config) (nodes.Kernel, error) { return handleKernel{&makes}, nil })
	cfg.Registry.MustRegister("Unwrap", func(nodes.Config) (nodes.Kernel, error) { return unwrapKernel{&unwraps}, nil })
	cfg.Static = NewStaticCache()
	const wf = `{
 "1": {"class_type": "MakeHandle", "inputs": {}},
 "2": {"class_type": "Unwrap", "inputs": {"samples": ["1", 0]}},
 "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
}`
	for i := range 2 {
		pl := mustCompile(t, wf, cfg)
		if err := pl.RunStatic(); err != nil {
			t.Fatal(err)
		}
		for _, s := range pl.steps {
			if e := s.shared.Load(); e != nil && !shareable(e.outSpecs) {
				t.Errorf("plan %d: %s shared %v", i, s.node, e.outSpecs)
			}
		}
	}
	if m, u := makes.Load(), unwraps.Load(); m != 2 || u != 1 {
		t.Errorf("MakeHandle ran %d times (want 2: never shared), Unwrap %d (want 1)", m, u)
	}
	if e, _ := cfg.Static.Len(); e != 1 {
		t.Errorf("%d entries, want 1 (Unwrap's IMAGE)", e)
	}
}

// TestStaticCacheConcurrent: plans compiled, run and closed concurrently
// on one cache (go test -race).
func TestStaticCacheConcurrent(t *testing.T) {
	t.Parallel()
	cfg, _, frame, want := staticShareSetup(t)
	prompt := loadString(t, staticShareWF, cfg)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				pl, err := Compile(prompt, cfg)
				if err != nil {
					t.Error(err)
					return
				}
				for range 3 {
					if err := pl.RunFrame(frame); err != nil {
						t.Error(err)
					}
				}
				if got := pl.Output(0).Tensor.Data[0]; math.Abs(float64(got-want)) > 1e-6 {
					t.Errorf("blend = %v, want %v", got, want)
				}
				pl.Close()
			}
		})
	}
	wg.Wait()
	if e, r := cfg.Static.Len(); e != 0 || r != 0 {
		t.Errorf("all closed: %d entries, %d refs", e, r)
	}
}
