package compiler

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

// hostileEmpty asks for an IMAGE of 4096×16384×16384×3 float32 (12 TiB);
// CountImage (node 2) must never prepare with it.
const hostileEmpty = `{
 "1": {"class_type": "EmptyImage", "inputs": {"width": 16384, "height": 16384, "batch_size": 4096, "color": 0}},
 "2": {"class_type": "CountImage", "inputs": {"image": ["1", 0], "k": 0}},
 "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
}`

// scaleChain scales the frame by 8 three times.
const scaleChain = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageScaleBy", "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "scale_by": 8.0}},
 "3": {"class_type": "ImageScaleBy", "inputs": {"image": ["2", 0], "upscale_method": "bilinear", "scale_by": 8.0}},
 "4": {"class_type": "ImageScaleBy", "inputs": {"image": ["3", 0], "upscale_method": "bilinear", "scale_by": 8.0}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["4", 0]}}
}`

// tooLarge returns the plan_too_large diagnostic of err, failing the test
// when there is none.
func tooLarge(t *testing.T, err error) *diag.Diagnostic {
	t.Helper()
	var l diag.List
	if !errors.As(err, &l) {
		t.Fatalf("error %v (%T), want a diag.List", err, err)
	}
	for _, d := range l {
		if d.Code == diag.PlanTooLarge {
			return d
		}
	}
	t.Fatalf("no plan_too_large in %v", l)
	return nil
}

func TestBudget_EmptyImageRefusedBeforeAllocation(t *testing.T) {
	cfg, c := testConfig(t)
	cfg.MaxBytes = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Compile(loadString(t, hostileEmpty, cfg), cfg)
	runtime.ReadMemStats(&after)
	d := tooLarge(t, err)
	if d.NodeID != "1" || d.ClassType != "EmptyImage" {
		t.Errorf("diagnostic names node %s (%s), want 1 (EmptyImage): %v", d.NodeID, d.ClassType, d)
	}
	want := int64(4096) * 16384 * 16384 * 3 * 4
	if d.Extra["bytes"] != want || fmt.Sprint(d.Extra["shape"]) != "[4096 16384 16384 3]" {
		t.Errorf("extra %v, want bytes %d and shape [4096 16384 16384 3]", d.Extra, want)
	}
	if !strings.Contains(d.Details, "IMAGE[4096,16384,16384,3]") || !strings.Contains(d.Details, "64.0 MiB") {
		t.Errorf("details %q name neither the shape nor the budget", d.Details)
	}
	if n := c.prepares.Load(); n != 0 {
		t.Errorf("CountImage prepared %d times with the oversized input", n)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 32<<20 {
		t.Errorf("compiling the refused plan allocated %d bytes", grown)
	}
}

func TestBudget_ScaleChainRefusedAtTheNodeThatPushesItOver(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	cfg.Width, cfg.Height = 64, 64
	// 64×64 → 512×512 (3 MiB) → 4096×4096 (192 MiB) → 32768×32768.
	cfg.MaxBytes = 100 << 20
	_, err := Compile(loadString(t, scaleChain, cfg), cfg)
	d := tooLarge(t, err)
	if d.NodeID != "3" || fmt.Sprint(d.Extra["shape"]) != "[1 4096 4096 3]" {
		t.Errorf("refused at node %s with %v, want node 3 with shape [1 4096 4096 3]: %v", d.NodeID, d.Extra, d)
	}
}

func TestBudget_LimitIsInclusiveAndMeasureAgrees(t *testing.T) {
	t.Parallel()
	cfg, c := testConfig(t)
	src := `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "EmptyImage", "inputs": {"width": 32, "height": 32, "batch_size": 1, "color": 255}},
 "3": {"class_type": "CountImage", "inputs": {"image": ["2", 0], "k": 1}},
 "4": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["3", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["4", 0]}}
}`
	p := loadString(t, src, cfg)
	n, err := Measure(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.runs.Load() != 0 || c.closes.Load() != c.prepares.Load() || c.prepares.Load() == 0 {
		t.Errorf("Measure: %d runs, %d prepares, %d closes; want no run and every kernel closed", c.runs.Load(), c.prepares.Load(), c.closes.Load())
	}
	cfg.MaxBytes = n
	pl, err := Compile(p, cfg)
	if err != nil {
		t.Fatalf("compile within a budget of exactly %d: %v", n, err)
	}
	defer pl.Close()
	if pl.MemoryBytes() != n {
		t.Errorf("MemoryBytes %d, Measure %d", pl.MemoryBytes(), n)
	}
	// The count bounds what the plan holds.
	var held int64
	for _, sc := range pl.slotCap {
		held += int64(sc) * 4
	}
	for _, s := range pl.steps[:pl.nStatic] {
		for _, sp := range s.outSpecs {
			held += sp.Bytes()
		}
	}
	if held == 0 || held > n {
		t.Errorf("the plan holds %d B of buffers, its budget count is %d", held, n)
	}
	cfg.MaxBytes = n - 1
	if _, err := Measure(p, cfg); err == nil {
		t.Fatalf("Measure within %d (one byte short) succeeded", n-1)
	} else {
		tooLarge(t, err)
	}
	_, err = Compile(p, cfg)
	tooLarge(t, err)
	// No limit.
	cfg.MaxBytes = 0
	if _, err := Measure(loadString(t, hostileEmpty, cfg), cfg); err != nil {
		t.Errorf("Measure without a limit: %v", err)
	}
}

// scratchKernel declares 1 GiB of scratch and records whether it was
// prepared.
type scratchKernel struct{ prepared *atomic.Bool }

func (k scratchKernel) Scratch(in []value.Spec) (int64, error) { return 1 << 30, nil }
func (k scratchKernel) Prepare(in []value.Spec) ([]value.Spec, error) {
	k.prepared.Store(true)
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}
func (k scratchKernel) Run(_, _ []value.Value) error { return nil }

func TestBudget_ScratchCountedBeforePrepare(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	extra, err := schema.Parse([]byte(`{"ScratchNode": {"input": {"required": {"image": ["IMAGE"]}}, "input_order": {"required": ["image"]},
   "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"], "name": "ScratchNode", "output_node": false}}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Schemas.Merge(extra)
	var prepared atomic.Bool
	cfg.Registry.MustRegister("ScratchNode", func(nodes.Config) (nodes.Kernel, error) { return scratchKernel{&prepared}, nil })
	src := `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ScratchNode", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}
}`
	cfg.MaxBytes = 512 << 20
	_, err = Compile(loadString(t, src, cfg), cfg)
	d := tooLarge(t, err)
	if d.NodeID != "2" || d.Extra["scratch_bytes"] != int64(1<<30) || !strings.Contains(d.Details, "scratch") {
		t.Errorf("diagnostic %v extra %v, want node 2 and its scratch", d, d.Extra)
	}
	if prepared.Load() {
		t.Error("the kernel was prepared although its declared scratch is over the budget")
	}
	cfg.MaxBytes = 2 << 30
	pl, err := Compile(loadString(t, src, cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if pl.MemoryBytes() < 1<<30 {
		t.Errorf("MemoryBytes %d does not count the scratch", pl.MemoryBytes())
	}
}

func TestBudget_ResizeIsChecked(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	cfg.MaxBytes = 8 << 20
	pl := mustCompile(t, invertAPI, cfg)
	if _, err := pl.Resize(4096, 4096); err == nil {
		t.Fatal("resize to 4096×4096 (192 MiB per buffer) within 8 MiB succeeded")
	} else if d := tooLarge(t, err); d.NodeID != "1" {
		t.Errorf("refused at node %s, want the frame input 1: %v", d.NodeID, d)
	}
	if err := pl.RunFrame(rampFrame(512, 512)); err != nil {
		t.Errorf("the plan stopped working after a refused resize: %v", err)
	}
}

func TestBudget_FormatBytes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1536, "1536 B (1.5 KiB)"}, {3 << 30, "3221225472 B (3.0 GiB)"}} {
		if got := FormatBytes(c.n); got != c.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if specBytes(value.TensorSpec(value.Image, 1<<31, 1<<31, 1<<31, 3)) <= 0 {
		t.Error("specBytes overflowed")
	}
}

// TestBudget_BuiltinScratchRefusedBeforePrepare: from a 512×512 frame the
// second ×8 upscale needs 1.5 GiB of resampling rows before its 12 GiB
// output; a 1 GiB budget refuses it on the scratch, which is never
// allocated.
func TestBudget_BuiltinScratchRefusedBeforePrepare(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.MaxBytes = 1 << 30
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Compile(loadString(t, scaleChain, cfg), cfg)
	runtime.ReadMemStats(&after)
	d := tooLarge(t, err)
	if d.NodeID != "3" || d.Extra["scratch_bytes"] == nil {
		t.Errorf("refused at node %s with %v, want node 3 on its scratch: %v", d.NodeID, d.Extra, d)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
		t.Errorf("compiling the refused plan allocated %d bytes", grown)
	}
}
