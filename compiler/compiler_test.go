package compiler

import (
	"errors"
	"image/color"
	"math"
	"strings"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/nodes/value"
)

const invertAPI = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}
}`

func codes(l diag.List) string {
	var s []string
	for _, d := range l {
		s = append(s, d.NodeID+":"+string(d.Code))
	}
	return strings.Join(s, " ")
}

func TestCheck_TypesLiterals(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	p := loadString(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 3, "sigma": 1}},
 "3": {"class_type": "ImageScale", "inputs": {"image": ["2", 0], "upscale_method": "bilinear", "width": 64, "height": 32, "crop": "disabled"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}},
 "9": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}
}`, cfg)
	typed, diags := Check(p, cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if typed.Node("9") != nil {
		t.Error("node 9 reaches no output but was typed")
	}
	blur := typed.Node("2")
	ins := blur.Inputs()
	if len(ins) != 3 || !ins[0].Linked || ins[0].From != "1" || ins[0].Kind != value.Image {
		t.Fatalf("blur inputs %+v", ins)
	}
	if r, ok := ins[1].Literal.(int64); !ok || r != 3 {
		t.Errorf("blur_radius literal %#v, want int64 3", ins[1].Literal)
	}
	if s, ok := ins[2].Literal.(float64); !ok || s != 1 {
		t.Errorf("sigma literal %#v, want float64 1", ins[2].Literal)
	}
	if m, ok := typed.Node("3").Inputs()[1].Literal.(string); !ok || m != "bilinear" {
		t.Errorf("upscale_method %#v", m)
	}
	if typed.Node("1").Role != FrameInput || typed.Node("4").Role != FrameOutput {
		t.Error("roles not assigned")
	}
	// The prompt is left alone.
	if _, ok := p.Node("2").Input("sigma").Value.(float64); ok {
		t.Error("Check wrote back into the prompt")
	}
}

func TestCheck_AllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	p := loadString(t, `{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "a.png"}},
 "2": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "b.png"}},
 "3": {"class_type": "FancyNode", "inputs": {"image": ["1", 0]}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}},
 "6": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
 "7": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
 "8": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 99, "sigma": 1.0}},
 "10": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
}`, cfg)
	_, diags := Check(p, cfg)
	got := codes(diags)
	for _, want := range []string{"3:missing_node_implementation", "8:value_bigger_than_max", "2:io_contract", "10:io_contract"} {
		if !strings.Contains(got, want) {
			t.Errorf("diagnostics lack %s: %s", want, got)
		}
	}
	text := diags.Error()
	for _, d := range diags {
		text += "\n" + d.Error()
	}
	for _, want := range []string{"too many primary inputs in prompt", "nodes 1 (PrimaryInputLoadImage), 2 (PrimaryInputLoadImage)",
		"too many outputs in prompt", "Node FancyNode #3 has no implementation"} {
		if !strings.Contains(text, want) {
			t.Errorf("messages lack %q:\n%s", want, text)
		}
	}
	for _, d := range diags {
		if d.Code == diag.MissingNodeImplementation && (d.Pointer != "/3" || d.ClassType != "FancyNode") {
			t.Errorf("missing implementation diag %+v", d)
		}
	}
	_, err := Compile(p, cfg)
	var l diag.List
	if !errors.As(err, &l) || len(l) != len(diags) {
		t.Fatalf("Compile error %v is not the diag.List of Check", err)
	}
}

func TestCheck_IOContract(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	// Three inputs without a primary one.
	_, diags := Check(loadString(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "LoadTensor", "inputs": {}},
 "3": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
 "4": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "5": {"class_type": "ImageBlend", "inputs": {"image1": ["4", 0], "image2": ["3", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "6": {"class_type": "SaveTensor", "inputs": {"images": ["5", 0]}}
}`, cfg), cfg)
	if !strings.Contains(diags.Error(), "too many inputs in prompt") {
		t.Errorf("got %v", diags)
	}
	// A primary input makes LoadImage nodes static images.
	typed, diags := Check(loadString(t, `{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "x.png"}},
 "2": {"class_type": "LoadImage", "inputs": {"image": "bg.png"}},
 "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`, cfg), cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if typed.Node("1").Role != FrameInput || typed.Node("2").Role != StaticImage {
		t.Errorf("roles %v %v", typed.Node("1").Role, typed.Node("2").Role)
	}
	// A lone LoadImage is the frame input.
	typed, _ = Check(loadString(t, `{
 "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
 "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}
}`, cfg), cfg)
	if typed.Node("1").Role != FrameInput {
		t.Error("lone LoadImage is not the frame input")
	}
}

func TestCompile_PreparePanicIsCompileError(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	_, err := Compile(loadString(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "PanicNode", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`, cfg), cfg)
	var l diag.List
	if !errors.As(err, &l) || len(l) != 1 || l[0].NodeID != "2" || l[0].Code != diag.PrepareFailed || !strings.Contains(l[0].Error(), "panicked in Prepare: boom in prepare") {
		t.Fatalf("got %v", err)
	}
}

func TestCompile_PrepareErrorNamesNode(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	cfg.InputDir = t.TempDir()
	_, err := Compile(loadString(t, `{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "x.png"}},
 "2": {"class_type": "LoadImage", "inputs": {"image": "missing.png"}},
 "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`, cfg), cfg)
	if err == nil || !strings.Contains(err.Error(), "node 2 (LoadImage)") || !strings.Contains(err.Error(), "missing.png") {
		t.Fatalf("got %v", err)
	}
}

func TestPlan_InvertRunsWithoutAllocating(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.Width, cfg.Height = 64, 48
	pl := mustCompile(t, invertAPI, cfg)
	frame := rampFrame(64, 48)
	if err := pl.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	out := pl.Output(0)
	if !value.EqualShapes(out.Tensor.Shape, []int{1, 48, 64, 3}) {
		t.Fatalf("output shape %v", out.Tensor.Shape)
	}
	for i, x := range frame.Data {
		if math.Abs(float64(out.Tensor.Data[i]-(1-x))) > 1e-6 {
			t.Fatalf("out[%d] = %v, want %v", i, out.Tensor.Data[i], 1-x)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if err := pl.RunFrame(frame); err != nil {
			t.Fatal(err)
		}
		_ = pl.Output(0)
	}); allocs != 0 {
		t.Errorf("RunFrame allocates %v times per frame", allocs)
	}
	if err := pl.RunFrame(rampFrame(32, 32)); err == nil || !strings.Contains(err.Error(), "Resize") {
		t.Errorf("wrong-size frame: %v", err)
	}
}

// TestPlan_ChainAllocs: a longer per-frame chain with static inputs and
// scalar wiring also runs without allocating.
func TestPlan_ChainAllocs(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.Width, cfg.Height = 32, 32
	pl := mustCompile(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "PrimitiveFloat", "inputs": {"value": 0.25}},
 "3": {"class_type": "EmptyImage", "inputs": {"width": 32, "height": 32, "batch_size": 1, "color": 255}},
 "4": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["3", 0], "blend_factor": ["2", 0], "blend_mode": "multiply"}},
 "5": {"class_type": "ImageBlur", "inputs": {"image": ["4", 0], "blur_radius": 2, "sigma": 1.0}},
 "6": {"class_type": "ImageToMask", "inputs": {"image": ["5", 0], "channel": "red"}},
 "7": {"class_type": "MaskToImage", "inputs": {"mask": ["6", 0]}},
 "8": {"class_type": "SaveTensor", "inputs": {"images": ["7", 0]}},
 "9": {"class_type": "PreviewImage", "inputs": {"images": ["5", 0]}}
}`, cfg)
	frame := rampFrame(32, 32)
	if err := pl.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if got := pl.NumOutputs(); got != 2 {
		t.Fatalf("%d outputs", got)
	}
	if allocs := testing.AllocsPerRun(50, func() { _ = pl.RunFrame(frame) }); allocs != 0 {
		t.Errorf("RunFrame allocates %v times per frame", allocs)
	}
	steps := pl.Steps()
	var static []string
	for _, s := range steps {
		if s.Static {
			static = append(static, s.NodeID)
		}
	}
	if strings.Join(static, ",") != "2,3" {
		t.Errorf("static steps %v, want 2,3", static)
	}
}

func TestPlan_BufferReuse(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	cfg.Width, cfg.Height = 16, 16
	src := `{"1": {"class_type": "LoadTensor", "inputs": {}}`
	prev := "1"
	for i := 2; i <= 11; i++ {
		id := itoa(i)
		src += `, "` + id + `": {"class_type": "ImageInvert", "inputs": {"image": ["` + prev + `", 0]}}`
		prev = id
	}
	src += `, "99": {"class_type": "SaveTensor", "inputs": {"images": ["` + prev + `", 0]}}}`
	pl := mustCompile(t, src, cfg)
	if n := len(pl.slotCap); n != 2 {
		t.Errorf("a chain of 11 steps uses %d buffers, want 2", n)
	}
	frame := rampFrame(16, 16)
	if err := pl.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	// 10 inversions: the identity.
	out := pl.Output(0).Tensor.Data
	for i, x := range frame.Data {
		if math.Abs(float64(out[i]-x)) > 1e-5 {
			t.Fatalf("out[%d] = %v, want %v", i, out[i], x)
		}
	}
	// No step's output shares storage with its inputs, and the output
	// buffer is nobody else's.
	for _, s := range pl.frameRun {
		for _, l := range s.links {
			for j := range s.outBuf {
				if !l.from.static && s.outBuf[j] >= 0 && l.from.outBuf[l.out] == s.outBuf[j] {
					t.Errorf("step #%s writes the buffer it reads", s.node.ID)
				}
			}
		}
	}
}

func itoa(i int) string { return value.OfInt(int64(i)).String() }

func TestPlan_StaticRunsOnceAndUpdateReuses(t *testing.T) {
	t.Parallel()
	cfg, c := testConfig(t)
	cfg.InputDir = t.TempDir()
	writePNG(t, cfg.InputDir, "bg.png", 8, 8, color.NRGBA{R: 255, A: 255})
	cfg.Width, cfg.Height = 8, 8
	pl := mustCompile(t, `{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "x.png"}},
 "2": {"class_type": "LoadImage", "inputs": {"image": "bg.png"}},
 "3": {"class_type": "CountImage", "inputs": {"image": ["2", 0], "k": 1}},
 "4": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["3", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["4", 0]}}
}`, cfg)
	frame := rampFrame(8, 8)
	for range 5 {
		if err := pl.RunFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.runs.Load(); n != 1 {
		t.Fatalf("static CountImage ran %d times over 5 frames, want 1", n)
	}
	want := 0.5*frame.Data[0] + 0.5*1
	if got := pl.Output(0).Tensor.Data[0]; math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("blend = %v, want %v", got, want)
	}
	// A per-frame parameter changes: the static steps are adopted, not rerun.
	pl2, err := pl.Update("4", "blend_factor", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	defer pl2.Close()
	if !strings.Contains(pl2.String(), "[reused]") {
		t.Errorf("no reused step:\n%s", pl2)
	}
	if err := pl2.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if n, p := c.runs.Load(), c.prepares.Load(); n != 1 || p != 1 {
		t.Errorf("after an update downstream: %d runs, %d prepares of the static step, want 1, 1", n, p)
	}
	want = 0.75*frame.Data[0] + 0.25*1
	if got := pl2.Output(0).Tensor.Data[0]; math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("blend after update = %v, want %v", got, want)
	}
	// The old plan still runs, and its Close leaves the adopted kernel open.
	if err := pl.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	pl.Close()
	if n := c.closes.Load(); n != 0 {
		t.Errorf("closing the old plan closed %d adopted kernels", n)
	}
	// A static parameter changes: that step runs again.
	pl3, err := pl2.Update("3", "k", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := pl3.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if n := c.runs.Load(); n != 2 {
		t.Errorf("after a static update: %d runs, want 2", n)
	}
	pl2.Close()
	if n := c.closes.Load(); n != 1 {
		t.Errorf("closing pl2 closed %d kernels, want 1 (its own CountImage)", n)
	}
	pl3.Close()
	if n := c.closes.Load(); n != 2 {
		t.Errorf("closes %d, want 2", n)
	}
	if err := pl3.RunFrame(frame); !errors.Is(err, ErrClosed) {
		t.Errorf("RunFrame after Close: %v", err)
	}
	// Bad updates.
	if _, err := pl2.Update("42", "k", 1); err == nil {
		t.Error("update of a missing node accepted")
	}
	var l diag.List
	if _, err := pl2.Update("3", "k", 1000); !errors.As(err, &l) || !strings.Contains(codes(l), "3:value_bigger_than_max") {
		t.Errorf("out-of-range update: %v", err)
	}
}

func TestPlan_Resize(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	pl := mustCompile(t, invertAPI, cfg)
	if s := pl.FrameSpec(); s.String() != "IMAGE[1,512,512,3]" {
		t.Errorf("default frame %v", s)
	}
	pl2, err := pl.Resize(40, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer pl2.Close()
	frame := rampFrame(40, 30)
	if err := pl2.RunFrame(frame); err != nil {
		t.Fatal(err)
	}
	if got := pl2.Output(0).Tensor.Shape; !value.EqualShapes(got, []int{1, 30, 40, 3}) {
		t.Errorf("resized output %v", got)
	}
	if _, err := pl.Resize(0, 4); err == nil {
		t.Error("Resize(0, 4) accepted")
	}
}

func TestPlan_NoFrameInputRunsOnce(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	pl := mustCompile(t, `{
 "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 4, "batch_size": 1, "color": 16711680}},
 "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}
}`, cfg)
	if pl.HasFrameInput() {
		t.Fatal("generator has a frame input")
	}
	if err := pl.RunStatic(); err != nil {
		t.Fatal(err)
	}
	outs := pl.Outputs()
	if len(outs) != 1 || outs[0].NodeID != "2" || outs[0].Value.Tensor.Data[0] != 1 || outs[0].Value.Tensor.Data[1] != 0 {
		t.Fatalf("outputs %+v", outs)
	}
	if err := pl.RunFrame(value.Tensor{}); err != nil {
		t.Errorf("RunFrame of a frameless plan: %v", err)
	}
}

func TestPlan_StringIsStable(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	src := `{
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}},
 "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "1": {"class_type": "LoadTensor", "inputs": {}}
}`
	a := mustCompile(t, src, cfg).String()
	for range 5 {
		if b := mustCompile(t, src, cfg).String(); b != a {
			t.Fatalf("String differs between compiles:\n%s\n---\n%s", a, b)
		}
	}
	if i, j := strings.Index(a, "#2 ImageInvert"), strings.Index(a, "#3 ImageBlend"); i < 0 || j < i {
		t.Errorf("steps out of order:\n%s", a)
	}
	dot := mustCompile(t, src, cfg).DOT()
	if !strings.HasPrefix(dot, "digraph plan {") || !strings.Contains(dot, `"n1" -> "n2"`) || !strings.Contains(dot, "#f4a261") {
		t.Errorf("DOT:\n%s", dot)
	}
}

func TestPlan_RunErrorIsStepError(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	cfg.Width, cfg.Height = 8, 8
	pl := mustCompile(t, invertAPI, cfg)
	// Corrupt the prepared size to make the kernel fail at Run.
	bad := value.Tensor{Shape: []int{1, 8, 8, 3}, Data: make([]float32, 10)}
	err := pl.RunFrame(bad)
	if err == nil {
		t.Fatal("bad frame accepted")
	}
}

func TestCheck_NilRegistrySkipsImplementationCheck(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	cfg.Registry = nil
	_, diags := Check(loadString(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "FancyNode", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}
}`, cfg), cfg)
	if diags.HasErrors() {
		t.Errorf("nil registry: %v", diags)
	}
	if _, err := Compile(loadString(t, invertAPI, cfg), cfg); err == nil {
		t.Error("Compile with a nil registry succeeded")
	}
}
