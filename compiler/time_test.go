package compiler

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

// timeSchemas: Ticker is time-varying and stateful (it outputs its run
// count, k is a widget), WrapImage is a pass-through.
const timeSchemas = `{
 "Ticker": {"input": {"required": {"k": ["INT", {"default": 0, "min": 0, "max": 100}]}},
   "input_order": {"required": ["k"]}, "output": ["STRING"], "output_is_list": [false], "output_name": ["STRING"],
   "name": "Ticker", "output_node": false},
 "WrapImage": {"input": {"required": {"image": ["IMAGE"], "mode": [["a", "b"]]}},
   "input_order": {"required": ["image", "mode"]}, "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"],
   "name": "WrapImage", "output_node": false}
}`

// ticker counts its runs and keeps the last frame time it was given.
type ticker struct {
	runs int64
	last nodes.FrameTime
	seen []nodes.FrameTime
}

func (k *ticker) Prepare([]value.Spec) ([]value.Spec, error) {
	return []value.Spec{{Kind: value.String}}, nil
}

func (k *ticker) Run(_, out []value.Value) error {
	k.runs++
	k.seen = append(k.seen, k.last)
	out[0] = value.OfString(strconv.FormatInt(k.runs, 10))
	return nil
}

func (k *ticker) SetFrameTime(t nodes.FrameTime) { k.last = t }

// timeConfig is testConfig plus Ticker (its kernels in *made) and
// WrapImage (a pass-through whose kernel must never run).
func timeConfig(t *testing.T) (Config, *[]*ticker) {
	cfg, _ := testConfig(t)
	extra, err := schema.Parse([]byte(timeSchemas), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Schemas.Merge(extra)
	var made []*ticker
	cfg.Registry.MustRegister("Ticker", func(nodes.Config) (nodes.Kernel, error) {
		k := &ticker{}
		made = append(made, k)
		return k, nil
	})
	cfg.Registry.MustRegister("WrapImage", func(nodes.Config) (nodes.Kernel, error) { return panicKernel{}, nil })
	if err := cfg.Registry.SetTraits("Ticker", nodes.Traits{TimeVarying: true, Stateful: true}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Registry.SetTraits("WrapImage", nodes.Traits{PassThrough: true}); err != nil {
		t.Fatal(err)
	}
	cfg.Width, cfg.Height = 8, 8
	return cfg, &made
}

// tickerWorkflow: frame → blur → output; StringControl → text output #6;
// a static text output #8 (tests link it to the Ticker through #7).
const tickerWorkflow = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 1, "sigma": 1.0}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}},
 "4": {"class_type": "Ticker", "inputs": {"k": 0}},
 "5": {"class_type": "StringControl", "inputs": {"always_execute": true, "strings": "a\nb\nc\nd", "steps_per_cycle": 4, "movement_type": "sawtooth"}},
 "6": {"class_type": "SaveTextTensor", "inputs": {"data": ["5", 0]}},
 "7": {"class_type": "PrimitiveString", "inputs": {"value": ["4", 0]}},
 "8": {"class_type": "SaveTextTensor", "inputs": {"data": "static text"}}
}`

func stepByID(pl *Plan, id string) StepInfo {
	for _, s := range pl.Steps() {
		if s.NodeID == id {
			return s
		}
	}
	return StepInfo{}
}

func TestTimeVaryingIsPerFrame(t *testing.T) {
	cfg, _ := timeConfig(t)
	// PrimitiveInt is no output: Ticker and PrimitiveInt are pruned, so
	// keep them through a text output of their own.
	src := strings.Replace(tickerWorkflow, `"8": {"class_type": "SaveTextTensor", "inputs": {"data": "static text"}}`,
		`"8": {"class_type": "SaveTextTensor", "inputs": {"data": "static text"}},
 "9": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}`, 1)
	pl := mustCompile(t, src, cfg)
	for id, static := range map[string]bool{"1": false, "2": false, "5": false, "6": false, "8": false} {
		if s := stepByID(pl, id); s.NodeID == "" || s.Static != static {
			t.Errorf("#%s: %+v, want static=%v", id, s, static)
		}
	}
	ex := pl.Explain()
	for _, want := range []string{
		"why: per-frame: time-varying (StringControl changes every frame)",
		"why: per-frame: time-varying (SaveTextTensor changes every frame)",
		"why: per-frame: input image <- #1 (per-frame)",
	} {
		if !strings.Contains(ex, want) {
			t.Errorf("explain lacks %q:\n%s", want, ex)
		}
	}
}

// A step downstream of a time-varying one only says so.
func TestTimeVaryingDownstreamReason(t *testing.T) {
	cfg, _ := timeConfig(t)
	pl := mustCompile(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}},
 "3": {"class_type": "StringControl", "inputs": {"always_execute": true, "strings": "a", "steps_per_cycle": 4, "movement_type": "sine"}},
 "4": {"class_type": "PrimitiveString", "inputs": {"value": ["3", 0]}},
 "5": {"class_type": "SaveTextTensor", "inputs": {"data": ["4", 0]}}
}`, cfg)
	if s := stepByID(pl, "4"); s.Static {
		t.Fatalf("PrimitiveString downstream of StringControl is static")
	}
	if ex := pl.Explain(); !strings.Contains(ex, "why: per-frame: input value <- #3 (per-frame: time-varying)") {
		t.Errorf("explain:\n%s", ex)
	}
}

func TestTextOutputsPerFrame(t *testing.T) {
	cfg, _ := timeConfig(t)
	pl := mustCompile(t, tickerWorkflow, cfg)
	frame := rampFrame(8, 8)
	var got []string
	for range 6 {
		if err := pl.RunFrame(frame); err != nil {
			t.Fatal(err)
		}
		pl.TextOutputs(func(id, txt string) { got = append(got, id+"="+txt) })
	}
	// sawtooth over 4 lines at phase 1/4, 2/4, 3/4, 0, 1/4, 2/4: index
	// round(3·phase) = 1 (0.75), 2 (1.5 → 2), 2 (2.25), 0, 1, 2.
	want := []string{"6=b", "8=static text", "6=c", "8=static text", "6=c", "8=static text", "6=a", "8=static text",
		"6=b", "8=static text", "6=c", "8=static text"}
	if !slices.Equal(got, want) {
		t.Errorf("texts = %q\nwant %q", got, want)
	}
	if !pl.HasTextOutputs() {
		t.Error("HasTextOutputs = false")
	}
}

func TestFrameTimeReachesKernels(t *testing.T) {
	cfg, made := timeConfig(t)
	pl := mustCompile(t, strings.Replace(tickerWorkflow, `"data": "static text"`, `"data": ["7", 0]`, 1), cfg)
	if s := stepByID(pl, "7"); s.Static {
		t.Fatal("PrimitiveString downstream of the time-varying Ticker is static")
	}
	frame := rampFrame(8, 8)
	if err := pl.RunFrameAt(frame, nodes.FrameTime{PTS: 2 * time.Second, Index: 60}); err != nil {
		t.Fatal(err)
	}
	if err := pl.RunFrame(frame); err != nil { // no time given: the next index at 30 fps
		t.Fatal(err)
	}
	pl.SetFrameTime(nodes.FrameTime{PTS: 5 * time.Second, Index: 7})
	if err := pl.RunFrameInPlace(); err != nil {
		t.Fatal(err)
	}
	if len(*made) != 1 {
		t.Fatalf("%d Ticker kernels", len(*made))
	}
	want := []nodes.FrameTime{{PTS: 2 * time.Second, Index: 60}, {PTS: 61 * time.Second / 30, Index: 61}, {PTS: 5 * time.Second, Index: 7}}
	if got := (*made)[0].seen; !slices.Equal(got, want) {
		t.Errorf("frame times = %v, want %v", got, want)
	}
	var texts []string
	pl.TextOutputs(func(id, txt string) { texts = append(texts, id+"="+txt) })
	if !slices.Contains(texts, "8=3") {
		t.Errorf("texts %q: the ticker's third count does not reach #8", texts)
	}
}

func TestWarmupSkipsStatefulSteps(t *testing.T) {
	cfg, made := timeConfig(t)
	pl := mustCompile(t, strings.Replace(tickerWorkflow, `"data": "static text"`, `"data": ["7", 0]`, 1), cfg)
	frame := rampFrame(8, 8)
	for range 3 {
		if err := pl.RunFrameAt(frame, nodes.FrameTime{Warmup: true}); err != nil {
			t.Fatal(err)
		}
	}
	if n := (*made)[0].runs; n != 0 {
		t.Fatalf("warm-up ran the stateful Ticker %d times", n)
	}
	if err := pl.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if k := (*made)[0]; k.runs != 1 || k.seen[0].Index != 0 {
		t.Errorf("first real frame: runs %d, time %+v (warm-ups must not count)", k.runs, k.seen)
	}
}

func TestStatefulKernelSurvivesUnrelatedSwap(t *testing.T) {
	cfg, made := timeConfig(t)
	pl := mustCompile(t, strings.Replace(tickerWorkflow, `"data": "static text"`, `"data": ["7", 0]`, 1), cfg)
	frame := rampFrame(8, 8)
	run := func(p *Plan) map[string]string {
		t.Helper()
		if err := p.RunFrame(frame); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		p.TextOutputs(func(id, txt string) { m[id] = txt })
		return m
	}
	for range 3 {
		run(pl)
	}
	// An unrelated literal changes: the ticker and StringControl keep
	// their kernels and state.
	np, err := pl.Update("2", "blur_radius", 2)
	if err != nil {
		t.Fatal(err)
	}
	run(pl) // the old plan keeps working meanwhile, on the same kernel
	pl.Close()
	if got := run(np); got["8"] != "5" || got["6"] != "b" {
		t.Errorf("after an unrelated swap: %v, want the ticker's 5th run and StringControl's 5th value (b)", got)
	}
	if len(*made) != 1 {
		t.Errorf("%d Ticker kernels, want the first one kept", len(*made))
	}
	if !strings.Contains(np.String(), "kernel=*compiler.ticker [reused]") {
		t.Errorf("the kept kernel is not marked reused:\n%s", np)
	}
	// The node itself changes: a fresh kernel, its state starts over.
	np2, err := np.Update("4", "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer np2.Close()
	np.Close()
	if got := run(np2); got["8"] != "1" || got["6"] != "c" {
		t.Errorf("after the ticker changed: %v, want a fresh ticker (1) and StringControl kept (c, its 6th value)", got)
	}
	if len(*made) != 2 {
		t.Errorf("%d Ticker kernels, want a new one", len(*made))
	}
	// A new frame size is a new state too (the input specs differ).
	np3, err := np2.Resize(16, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer np3.Close()
	if err := np3.RunFrame(rampFrame(16, 8)); err != nil {
		t.Fatal(err)
	}
}

func TestPassThroughCompiledToNothing(t *testing.T) {
	cfg, _ := timeConfig(t)
	pl := mustCompile(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "WrapImage", "inputs": {"image": ["1", 0], "mode": "a"}},
 "3": {"class_type": "WrapImage", "inputs": {"image": ["2", 0], "mode": "b"}},
 "4": {"class_type": "ImageInvert", "inputs": {"image": ["3", 0]}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["4", 0]}}
}`, cfg)
	for _, s := range pl.Steps() {
		if s.Class == "WrapImage" {
			t.Fatalf("a pass-through has a step: %+v", s)
		}
	}
	ex := pl.Explain()
	for _, want := range []string{"compiled to nothing:", "#2 WrapImage -> #1.0", "#3 WrapImage -> #1.0",
		"why: pass-through: its output is its input image, read from #1 directly (no step)", "in  image <- #1.0"} {
		if !strings.Contains(ex, want) {
			t.Errorf("explain lacks %q:\n%s", want, ex)
		}
	}
	frame := rampFrame(8, 8)
	if err := pl.RunFrame(frame); err != nil { // WrapImage's kernel panics if it runs
		t.Fatal(err)
	}
	out := pl.Output(0).Tensor.Data
	for i, v := range frame.Data {
		if out[i] != 1-v {
			t.Fatalf("out[%d] = %v, want %v", i, out[i], 1-v)
		}
	}
}
