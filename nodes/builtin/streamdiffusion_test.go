package builtin

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/clip"
	"comfyrt/nodes/diffusion/sdmodel"
	"comfyrt/nodes/diffusion/streamdiff"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// sdStreamWidth and sdStreamHeight are the tests' stream size (a 4×3
// latent); the frames are 30×20, resized to it.
const sdStreamWidth, sdStreamHeight = 32, 24

// streamOpts are a test stream's settings.
type streamOpts struct {
	cfgType     string
	tIndex      string
	mode        string
	guidance    float64
	delta       float64
	steps       int
	seed        int64
	batch       bool
	addNoise    bool
	filter      bool
	threshold   float64
	maxSkip     int
	tinyVAE     bool
	prompt, neg string
}

func defaultStreamOpts() streamOpts {
	return streamOpts{cfgType: "self", tIndex: "39,35,30", mode: "img2img", guidance: 1.4, delta: 0.8, steps: 50, seed: 11,
		batch: true, addNoise: true, threshold: 0.98, maxSkip: 10, tinyVAE: true, prompt: "a photo of a cat", neg: "the dog"}
}

// streamChain runs the loader and config nodes and prepares a sampler.
type streamChain struct {
	p      engine.Provider
	dir    string
	o      streamOpts
	st     *SDStream
	k      *streamSampler
	in     []value.Value
	out    []value.Value
	frameV value.Value
}

func newStreamChain(t testing.TB, p engine.Provider, dir string, o streamOpts) *streamChain {
	t.Helper()
	c := &streamChain{p: p, dir: dir, o: o}
	ck := runPrepared(t, modelKernel(t, "StreamDiffusionCheckpointLoader", p, dir), str("tiny.safetensors"))[0]
	adv := value.Value{}
	if !o.batch || !o.addNoise || o.filter {
		adv = runPrepared(t, modelKernel(t, "StreamDiffusionAdvancedConfig", p, dir), i64(10), boolean(o.addNoise), boolean(o.batch),
			boolean(o.filter), f64(o.threshold), i64(int64(o.maxSkip)), str("cpu"), str("float32"), str(""), boolean(false), str("engines"))[0]
	}
	cfg := runPrepared(t, modelKernel(t, "StreamDiffusionConfig", p, dir), ck, str(o.tIndex), str(o.mode), i64(sdStreamWidth), i64(sdStreamHeight),
		str("none"), i64(1), boolean(o.tinyVAE), str(o.cfgType), boolean(true), i64(o.seed), value.Value{}, adv)[0]
	c.st = cfg.Handle.(*SDStream)
	c.frameV = value.New(value.ImageSpec(1, 20, 30))
	img := c.frameV
	if o.mode == "txt2img" {
		img = value.Value{}
	}
	c.in = []value.Value{cfg, str(o.prompt), str(o.neg), i64(int64(o.steps)), f64(o.guidance), f64(o.delta), img}
	c.k = modelKernel(t, "StreamDiffusionSampler", p, dir).(*streamSampler)
	c.out = prepare(t, c.k, c.in)
	return c
}

// testFrame fills a 30×20 picture that varies with k.
func testFrame(dst []float32, k int) {
	for i := range dst {
		dst[i] = float32(0.5 + 0.45*math.Sin(float64(i)*0.37+float64(k)*0.9))
	}
}

// run feeds frame k and returns a copy of the output.
func (c *streamChain) run(t testing.TB, k int) []float32 {
	t.Helper()
	testFrame(c.frameV.Tensor.Data, k)
	if err := nodes.SafeRun(c.k, c.in, c.out); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), c.out[0].Tensor.Data...)
}

// streamRef is the sampler written as a plain loop: the tiny models'
// closed forms (TAESD or the export's VAE, the UNet), the prompt's
// conditioning computed without the node, and a streamdiff stream.
type streamRef struct {
	vae      onnxgen.VAE
	taesd    bool
	un       onnxgen.UNet
	pos, neg []float32
	stream   *streamdiff.Stream
	x0       []float32 // the last x₀ (the model's space)
	warm     bool
	h, w     int
	scale    float32
}

func newStreamRef(t *testing.T, p engine.Provider, dir string, o streamOpts) *streamRef {
	t.Helper()
	s := newSDSetupIn(t, p, dir)
	r := &streamRef{un: s.un, h: sdStreamHeight / 8, w: sdStreamWidth / 8, pos: plainCond(t, s, o.prompt), neg: plainCond(t, s, o.neg)}
	r.vae, r.taesd, r.scale = onnxgen.NewTAESD(), true, 1
	if !o.tinyVAE {
		r.vae, r.taesd, r.scale = onnxgen.NewVAE(), false, 0.18215
	}
	ti, _ := streamdiff.ParseTIndexList(o.tIndex)
	sc, err := streamdiff.NewSchedule(sdmodel.Scheduler{BetaSchedule: "scaled_linear", BetaStart: 0.00085, BetaEnd: 0.012, TrainSteps: 1000}.Betas(), 50, o.steps, ti, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfgType, _ := streamdiff.ParseCFG(o.cfgType)
	r.stream, err = streamdiff.New(streamdiff.Config{Schedule: sc, Latent: 4 * r.h * r.w, CFG: cfgType, Guidance: o.guidance, Delta: o.delta,
		AddNoise: o.addNoise, DenoisingBatch: o.batch, Seed: uint64(o.seed)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// plainCond is the text encoder's output for text tokenized as diffusers'
// encode_prompt does (no weighting, 77 tokens), computed without the node:
// the tokenizer and the tiny encoder's embedding table.
func plainCond(t *testing.T, s *sdSetup, text string) []float32 {
	t.Helper()
	tok, err := loadTokenizer(s.clip)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tok.TokenizePlain(text, clip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := s.te.D
	out := make([]float32, 77*d)
	for j, tk := range c {
		copy(out[j*d:(j+1)*d], s.te.Emb[int(tk.ID)*d:(int(tk.ID)+1)*d])
	}
	return out
}

// TestStreamDiffusionPlainPrompt: the sampler encodes its prompts as the
// pack's diffusers encode_prompt does — ComfyUI's weighting syntax is
// text ("(cat:1.5)" keeps its parentheses' tokens, no weights, no
// empty-prompt row) — and each UNet row's text is that encoding of the
// prompt, or of the negative prompt on cfg_type full's guidance rows.
func TestStreamDiffusionPlainPrompt(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	o := defaultStreamOpts()
	o.cfgType, o.prompt, o.neg = "full", "a (cat:1.5) \\(photo\\)", "(the dog)"
	c := newStreamChain(t, p, dir, o)
	c.run(t, 0)
	s := newSDSetupIn(t, p, dir)
	tok, err := loadTokenizer(s.clip)
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := tok.TokenizePlain(o.prompt, clip.Options{})
	paren := tok.Encode("(")
	if len(paren) != 1 || !slices.ContainsFunc(pc, func(tk clip.Token) bool { return tk.ID == paren[0] }) {
		t.Fatalf("plain tokens of %q lack the parenthesis %v", o.prompt, paren)
	}
	pos, neg := plainCond(t, s, o.prompt), plainCond(t, s, o.neg)
	if slicesEqual(pos[:77*s.te.D], s.wantCond(t, o.prompt)[:77*s.te.D]) {
		t.Fatal("the weighted and plain encodings agree; the test cannot tell them apart")
	}
	u := c.k.unet
	row := 77 * s.te.D
	for r, n := range c.k.stream.Negative() {
		want, what := pos, "prompt"
		if n {
			want, what = neg, "negative prompt"
		}
		if !slicesEqual(u.ehs[r*row:(r+1)*row], want) {
			t.Errorf("UNet row %d: the text is not the plain encoding of the %s", r, what)
		}
	}
	if c.k.pos.runs != 1 || len(c.k.pos.rows) != 1 || c.k.neg == nil || len(c.k.neg.rows) != 1 {
		t.Errorf("text encoder rows: prompt %d, want one row each (no empty-prompt row)", len(c.k.pos.rows))
	}
}

func (r *streamRef) model(x []float32, ts []int, eps []float32) error {
	rows := r.stream.Rows()
	d := r.un.D
	ehs := make([]float32, rows*77*d)
	tf := make([]float64, rows)
	for i := range rows {
		src := r.pos
		if r.stream.Negative()[i] {
			src = r.neg
		}
		copy(ehs[i*77*d:], src)
		tf[i] = float64(ts[i])
	}
	copy(eps, r.un.Reference(x, tf, ehs, rows, r.h, r.w, 77))
	return nil
}

// frame runs one 30×20 picture (NHWC) and returns the output (NHWC).
func (r *streamRef) frame(src []float32) []float32 {
	H, W := r.h*8, r.w*8
	x := make([]float32, 3*H*W)
	for y := range H {
		yy := min(int(float32(y)*(float32(20)/float32(H))), 19)
		for xx := range W {
			sx := min(int(float32(xx)*(float32(30)/float32(W))), 29)
			for ch := range 3 {
				v := src[(yy*30+sx)*3+ch]
				if !r.taesd {
					v = v*2 - 1
				}
				x[(ch*H+y)*W+xx] = v
			}
		}
	}
	z := r.vae.Encode(x, 1, H, W)
	for i := range z {
		z[i] *= r.scale
	}
	xt, x0 := make([]float32, len(z)), make([]float32, len(z))
	r.stream.Encode(z, xt)
	if !r.warm {
		for range r.stream.Latency() {
			r.stream.Step(xt, r.model, x0)
		}
		r.warm = true
	}
	r.stream.Step(xt, r.model, x0)
	r.x0 = append(r.x0[:0], x0...)
	for i := range x0 {
		x0[i] /= r.scale
	}
	y := r.vae.Decode(x0, 1, r.h, r.w)
	out := make([]float32, 3*H*W)
	for i := range H * W {
		for ch := range 3 {
			v := y[ch*H*W+i]
			if !r.taesd {
				v = v*0.5 + 0.5
			}
			out[3*i+ch] = clamp01(v)
		}
	}
	return out
}

func TestStreamDiffusionSamplerValues(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	for _, mod := range []func(o *streamOpts){
		func(o *streamOpts) { o.cfgType = "none" },
		func(o *streamOpts) {},
		func(o *streamOpts) { o.cfgType = "full" },
		func(o *streamOpts) { o.cfgType = "initialize"; o.addNoise = false },
		func(o *streamOpts) { o.tIndex = "32,45"; o.tinyVAE = false; o.guidance = 1.1 },
		func(o *streamOpts) { o.batch = false; o.cfgType = "full" },
		func(o *streamOpts) { o.tIndex = "2,3"; o.steps = 4 },
	} {
		o := defaultStreamOpts()
		mod(&o)
		c := newStreamChain(t, p, dir, o)
		ref := newStreamRef(t, p, dir, o)
		for k := range 5 {
			got := c.run(t, k)
			want := ref.frame(c.frameV.Tensor.Data)
			what := fmt.Sprintf("%s %s batch=%v frame %d", o.cfgType, o.tIndex, o.batch, k)
			closeTo(t, what+" picture", got, want, 1e-5)
			// The tiny models' pictures saturate; the latent shows every
			// difference.
			closeTo(t, what+" x0", c.k.x0, ref.x0, 1e-5)
		}
		if a := testing.AllocsPerRun(5, func() {
			if err := c.k.Run(c.in, c.out); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%+v: Run allocates %v times per frame", o, a)
		}
	}
}

// TestStreamDiffusionLatency: with the denoising batch a frame's picture
// comes out len(t_index_list)−1 frames later (frame k's output is frame
// k−2's for 39,35,30), after a first frame that warms the batch up with
// itself; the UNet runs once per frame (the rows batched), three times on
// the first.
func TestStreamDiffusionLatency(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	o := defaultStreamOpts()
	a, b := newStreamChain(t, p, dir, o), newStreamChain(t, p, dir, o)
	var calls []int
	for k := range 6 {
		before := a.k.unet.calls
		oa := a.run(t, k)
		calls = append(calls, a.k.unet.calls-before)
		kb := k
		if k == 2 {
			kb = 17 // b sees another picture at frame 2 only
		}
		ob := b.run(t, kb)
		same := slicesEqual(oa, ob)
		if want := k != 4; same != want {
			t.Errorf("frame %d: outputs equal %v, want %v (frame 2 differs, and shows at frame 4)", k, same, want)
		}
	}
	if calls[0] != 3 || calls[1] != 1 || calls[5] != 1 {
		t.Errorf("UNet runs per frame %v, want 3 then 1", calls)
	}
	// The first frame's output is that frame's alone: the same as a stream
	// fed the first frame only.
	c := newStreamChain(t, p, dir, o)
	testFrame(c.frameV.Tensor.Data, 0)
	first := c.run(t, 0)
	a2 := newStreamChain(t, p, dir, o)
	if !slicesEqual(first, a2.run(t, 0)) {
		t.Error("two fresh streams differ on the first frame")
	}
	if a.k.unet.rows != 3 || a.k.unet.mb != 3 {
		t.Errorf("UNet rows %d per run %d, want 3 in one run", a.k.unet.rows, a.k.unet.mb)
	}
}

// TestStreamDiffusionFilter: identical frames are skipped (the previous
// output repeated, no UNet run) at most max_skip+1 times in a row; a
// clearly different frame is kept (the UNet runs).
func TestStreamDiffusionFilter(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	o := defaultStreamOpts()
	o.filter, o.threshold, o.maxSkip = true, 0.9, 2
	c := newStreamChain(t, p, dir, o)
	var runs []int
	var outs [][]float32
	for range 6 {
		before := c.k.unet.calls
		outs = append(outs, c.run(t, 0))
		runs = append(runs, c.k.unet.calls-before)
	}
	want := []int{3, 0, 0, 0, 1, 0}
	for i := range want {
		if runs[i] != want[i] {
			t.Fatalf("UNet runs per frame %v, want %v", runs, want)
		}
	}
	if !slicesEqual(outs[1], outs[0]) || !slicesEqual(outs[3], outs[0]) || !slicesEqual(outs[5], outs[4]) {
		t.Error("a skipped frame does not repeat the previous output")
	}
	// Frame 3 is another picture (skip probability 0 after 2x−1): it must
	// be kept. (Its picture comes out len(t_index_list)−1 frames later, so
	// the output itself is no test.)
	before := c.k.unet.calls
	out := c.run(t, 3)
	if c.k.unet.calls != before+1 || c.k.filter.LastProbability != 0 {
		t.Errorf("a different frame: %d UNet runs, skip probability %g; want 1 run, 0", c.k.unet.calls-before, c.k.filter.LastProbability)
	}
	// The same frame again right after: skipped, no UNet run.
	if before := c.k.unet.calls; !slicesEqual(c.run(t, 3), out) || c.k.unet.calls != before {
		t.Errorf("the same frame again: %d UNet runs, want 0 (skipped)", c.k.unet.calls-before)
	}
}

// TestStreamDiffusionFilterPreprocessing: the filter compares the pictures
// as StreamDiffusion's __call__ hands them to image_filter.py — resized to
// the stream's size and mapped to −1…1 by the image processor's
// preprocess (2x−1). Two frames 0.5 ± 0.01 of opposite sign look alike in
// 0…1 (cosine 0.9992: skip probability 0.992 at threshold 0.9) and are
// opposite after 2x−1 (cosine −1: probability 0): the second must be kept.
func TestStreamDiffusionFilterPreprocessing(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	o := defaultStreamOpts()
	o.filter, o.threshold, o.maxSkip = true, 0.9, 10
	c := newStreamChain(t, p, dir, o)
	frame := func(sign float32) []float32 {
		f := make([]float32, 20*30*3)
		for i := range f {
			s := float32(1)
			if (i/3)%2 == 1 {
				s = -1
			}
			f[i] = 0.5 + sign*0.01*s
		}
		return f
	}
	a, b := frame(1), frame(-1)
	// What image_filter.py computes on the preprocessed pictures.
	pre := func(f []float32) []float32 {
		r := make([]float32, sdStreamWidth*sdStreamHeight*3)
		resizeNearest(r, f, 20, 30, 3, sdStreamHeight, sdStreamWidth)
		for i, v := range r {
			r[i] = 2*v - 1
		}
		return r
	}
	wantP := streamdiff.SkipProbability(streamdiff.CosineSimilarity(pre(a), pre(b)), o.threshold)
	if rawP := streamdiff.SkipProbability(streamdiff.CosineSimilarity(a, b), o.threshold); wantP != 0 || rawP < 0.9 {
		t.Fatalf("test frames: probability %g after 2x−1, %g before; want 0 and > 0.9", wantP, rawP)
	}
	for i, f := range [][]float32{a, a, b} {
		copy(c.frameV.Tensor.Data, f)
		before := c.k.unet.calls
		if err := nodes.SafeRun(c.k, c.in, c.out); err != nil {
			t.Fatal(err)
		}
		ran := c.k.unet.calls > before
		switch {
		case i == 2 && (!ran || c.k.filter.LastProbability != wantP):
			t.Errorf("frame b after a: UNet ran %v, skip probability %g; want a run and %g (the cosine of 2x−1)", ran, c.k.filter.LastProbability, wantP)
		case i == 1 && math.Abs(c.k.filter.LastProbability-1) > 1e-6:
			t.Errorf("frame a again: skip probability %g, want 1", c.k.filter.LastProbability)
		}
	}
}

func TestStreamDiffusionTxt2Img(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	o := defaultStreamOpts()
	o.mode, o.cfgType = "txt2img", "none"
	c, d := newStreamChain(t, p, dir, o), newStreamChain(t, p, dir, o)
	a0, a1 := c.run(t, 0), c.run(t, 0)
	if slicesEqual(a0, a1) {
		t.Error("txt2img gives the same picture twice (each call starts from new noise)")
	}
	if b0 := d.run(t, 0); !slicesEqual(a0, b0) {
		t.Error("txt2img with the same seed differs")
	}
}

// TestStreamDiffusionEngineSet: StreamDiffusionPrebuiltConfig runs the
// ONNX files beside a prebuilt engine set (the tiny VAE's, read as TAESD)
// with the checkpoint's text encoder; the engine loader's set without a
// text encoder is refused by StreamDiffusionConfig.
func TestStreamDiffusionEngineSet(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	writeSplitEngineSet(t, dir, "Kohaku_Slime", "kohaku-v2.1", 3, 1)
	ck := runPrepared(t, modelKernel(t, "StreamDiffusionCheckpointLoader", p, dir), str("tiny"))[0]
	cfg := runPrepared(t, modelKernel(t, "StreamDiffusionPrebuiltConfig", p, dir), str("Kohaku_Slime"), str("39,35,30"), str("img2img"), i64(1),
		i64(sdStreamWidth), i64(sdStreamHeight), ck, value.Value{}, value.Value{})[0]
	st := cfg.Handle.(*SDStream)
	if filepath.Base(st.UNet.Path) != "unet.onnx" || !st.VAE.VAE.TAESD || st.CLIP == nil || st.CFG != streamdiff.CFGSelf {
		t.Fatalf("prebuilt stream %+v", st)
	}
	// The pack's split layout: the UNet from the max_batch-3 build, the
	// VAEs from the max_batch-1 one.
	if got := filepath.Base(filepath.Dir(st.UNet.Path)); got != engineBuildName("kohaku-v2.1", 3, "img2img") {
		t.Errorf("UNet from %s", got)
	}
	for _, f := range []string{st.VAE.VAE.Encoder, st.VAE.VAE.Decoder} {
		if got := filepath.Base(filepath.Dir(f)); got != engineBuildName("kohaku-v2.1", 1, "img2img") {
			t.Errorf("VAE file %s from %s", filepath.Base(f), got)
		}
	}
	o := defaultStreamOpts()
	frame := value.New(value.ImageSpec(1, 20, 30))
	in := []value.Value{cfg, str(o.prompt), str(o.neg), i64(50), f64(o.guidance), f64(o.delta), frame}
	k := modelKernel(t, "StreamDiffusionSampler", p, dir)
	out := prepare(t, k, in)
	o.seed = 2
	ref := newStreamRef(t, p, dir, o)
	for i := range 3 {
		testFrame(frame.Tensor.Data, i)
		if err := k.Run(in, out); err != nil {
			t.Fatal(err)
		}
		closeTo(t, "prebuilt", out[0].Tensor.Data, ref.frame(frame.Tensor.Data), 1e-5)
		closeTo(t, "prebuilt x0", k.(*streamSampler).x0, ref.x0, 1e-5)
	}
	eng := runPrepared(t, modelKernel(t, "StreamDiffusionTensorRTEngineLoader", p, dir), str("Kohaku_Slime"))[0]
	err := prepareErrWith(t, "StreamDiffusionConfig", p, dir, eng, str("39,35,30"), str("img2img"), i64(32), i64(24), str("tensorrt"), i64(1),
		boolean(true), str("self"), boolean(true), i64(2))
	if err == nil || !strings.Contains(err.Error(), "no text encoder") {
		t.Errorf("engine set into StreamDiffusionConfig: %v", err)
	}
	err = prepareErrWith(t, "StreamDiffusionTensorRTEngineLoader", p, dir, str("Missing"))
	if err == nil || !strings.Contains(err.Error(), "want unet.onnx in a build folder") ||
		!strings.Contains(err.Error(), "tensorrt/StreamDiffusion-engines/Missing") {
		t.Errorf("missing engine set: %v", err)
	}
}

// engineBuildName is the pack's build folder name (StreamDiffusionWrapper's
// create_prefix) for model, rows and mode.
func engineBuildName(model string, rows int, mode string) string {
	return fmt.Sprintf("%s--lcm_lora-True--tiny_vae-True--max_batch-%d--min_batch-%d--mode-%s", model, rows, rows, mode)
}

// writeSplitEngineSet writes an img2img engine set in the pack's layout:
// the UNet in the build folder for unetRows, the VAEs in the one for
// vaeRows (one folder when they are equal).
func writeSplitEngineSet(t testing.TB, dir, name, model string, unetRows, vaeRows int) {
	t.Helper()
	u, v := engineBuildName(model, unetRows, "img2img"), engineBuildName(model, vaeRows, "img2img")
	writeEngineSet(t, dir, name, u, nil)
	if u == v {
		return
	}
	writeEngineSet(t, dir, name, v, nil)
	set := filepath.Join(dir, "tensorrt", "StreamDiffusion-engines", name)
	for _, f := range []string{filepath.Join(u, "vae_encoder.onnx"), filepath.Join(u, "vae_decoder.onnx"), filepath.Join(v, "unet.onnx")} {
		if err := os.Remove(filepath.Join(set, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// writeEngineSet writes a tiny engine set's ONNX files (the tiny UNet,
// TAESD) into tensorrt/StreamDiffusion-engines/name/sub; dec replaces the
// decoder when not nil.
func writeEngineSet(t testing.TB, dir, name, sub string, dec *onnxgen.Builder) {
	t.Helper()
	d := filepath.Join(dir, "tensorrt", "StreamDiffusion-engines", name, sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	_, un, _ := onnxgen.TinySD{}.Parts()
	taesd := onnxgen.NewTAESD()
	if dec == nil {
		dec = taesd.Decoder("latent_sample", "sample", false)
	}
	for f, m := range map[string]*onnxgen.Builder{"unet.onnx": un.Model(true), "vae_encoder.onnx": taesd.Encoder("sample", "latent_sample", false),
		"vae_decoder.onnx": dec} {
		if err := m.WriteFile(filepath.Join(d, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStreamDiffusionDecoderFactor: a VAE decoder that upsamples the
// latent 4× instead of 8× is refused when the plan is built (VAEDecode
// and the sampler, with the similar-image filter on, name the input)
// instead of crashing the filter with a picture of another size.
func TestStreamDiffusionDecoderFactor(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	writeSplitEngineSet(t, dir, "Four", "tiny", 3, 1)
	four := onnxgen.NewTAESD().DecoderScaled("latent_sample", "sample", 4)
	if err := four.WriteFile(filepath.Join(dir, "tensorrt", "StreamDiffusion-engines", "Four", engineBuildName("tiny", 1, "img2img"), "vae_decoder.onnx")); err != nil {
		t.Fatal(err)
	}
	ck := runPrepared(t, modelKernel(t, "StreamDiffusionCheckpointLoader", p, dir), str("tiny"))[0]
	adv := runPrepared(t, modelKernel(t, "StreamDiffusionAdvancedConfig", p, dir), i64(10), boolean(true), boolean(true),
		boolean(true), f64(0.9), i64(2), str("cpu"), str("float32"), str(""), boolean(false), str("engines"))[0]
	cfg := runPrepared(t, modelKernel(t, "StreamDiffusionPrebuiltConfig", p, dir), str("Four"), str("39,35,30"), str("img2img"), i64(1),
		i64(sdStreamWidth), i64(sdStreamHeight), ck, value.Value{}, adv)[0]
	o := defaultStreamOpts()
	err := prepareErrWith(t, "StreamDiffusionSampler", p, dir, cfg, str(o.prompt), str(o.neg), i64(50), f64(o.guidance), f64(o.delta),
		value.New(value.ImageSpec(1, 20, 30)))
	if err == nil || !strings.Contains(err.Error(), "input stream_model") || !strings.Contains(err.Error(), "8×") {
		t.Errorf("sampler with a 4× decoder: %v", err)
	}
	vae := cfg.Handle.(*SDStream).VAE
	err = prepareErrWith(t, "VAEDecode", p, dir, value.New(value.LatentSpec(1, 4, 3, 4)), value.OfHandle(vae))
	if err == nil || !strings.Contains(err.Error(), "input vae") || !strings.Contains(err.Error(), "[1,3,12,16]") || !strings.Contains(err.Error(), "8×") {
		t.Errorf("VAEDecode with a 4× decoder: %v", err)
	}
}

// TestStreamDiffusionEngineBuild: StreamDiffusionPrebuiltConfig picks the
// UNet from the build folder named for the UNet's rows
// (len(t_index_list)·frame_buffer_size, frame_buffer_size without the
// denoising batch) and the VAEs from the one named for frame_buffer_size,
// as the pack's wrapper does; builds of another mode, or folders the pack
// does not name so, are not used; a set whose own name contradicts the
// config is refused; several fitting builds are narrowed to the
// checkpoint's, else refused with the candidates named.
func TestStreamDiffusionEngineBuild(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	ck := runPrepared(t, modelKernel(t, "StreamDiffusionCheckpointLoader", p, dir), str("tiny"))[0]
	noBatch := runPrepared(t, modelKernel(t, "StreamDiffusionAdvancedConfig", p, dir), i64(10), boolean(true), boolean(false),
		boolean(false), f64(0.98), i64(10), str("cpu"), str("float32"), str(""), boolean(false), str("engines"))[0]
	prebuilt := func(name, tIndex string, adv value.Value) (*SDStream, error) {
		k := modelKernel(t, "StreamDiffusionPrebuiltConfig", p, dir)
		in := []value.Value{str(name), str(tIndex), str("img2img"), i64(1), i64(sdStreamWidth), i64(sdStreamHeight), ck, {}, adv}
		if _, err := k.Prepare(specsOf(in)); err != nil {
			return nil, err
		}
		out := []value.Value{{}}
		if err := k.Run(in, out); err != nil {
			return nil, err
		}
		return out[0].Handle.(*SDStream), nil
	}
	folders := func(st *SDStream) (unet, vae string) {
		return filepath.Base(filepath.Dir(st.UNet.Path)), filepath.Base(filepath.Dir(st.VAE.VAE.Decoder))
	}
	b1, b2, b3 := engineBuildName("kohaku", 1, "img2img"), engineBuildName("kohaku", 2, "img2img"), engineBuildName("kohaku", 3, "img2img")
	// UNet builds for 3 and 2 t_indexes, the VAEs' for a frame buffer of 1.
	writeSplitEngineSet(t, dir, "Two", "kohaku", 3, 1)
	writeEngineSet(t, dir, "Two", b2, nil)
	for _, f := range []string{"vae_encoder.onnx", "vae_decoder.onnx"} {
		os.Remove(filepath.Join(dir, "tensorrt", "StreamDiffusion-engines", "Two", b2, f))
	}
	for tIndex, want := range map[string]string{"39,35,30": b3, "39,35": b2} {
		st, err := prebuilt("Two", tIndex, value.Value{})
		if err != nil {
			t.Fatal(err)
		}
		if u, v := folders(st); u != want || v != b1 {
			t.Errorf("t_index_list %s: UNet from %s, VAEs from %s; want %s and %s", tIndex, u, v, want, b1)
		}
	}
	if _, err := prebuilt("Two", "39", value.Value{}); err == nil || !strings.Contains(err.Error(), "input engine_config") ||
		!strings.Contains(err.Error(), b2) || !strings.Contains(err.Error(), b3) || !strings.Contains(err.Error(), "max_batch-1--min_batch-1") {
		t.Errorf("no UNet build for one t_index: %v", err)
	}
	// The engine loader has no settings to pick one by.
	if err := prepareErrWith(t, "StreamDiffusionTensorRTEngineLoader", p, dir, str("Two")); err == nil || !strings.Contains(err.Error(), b3) ||
		!strings.Contains(err.Error(), b2) {
		t.Errorf("engine loader on two UNet builds: %v", err)
	}
	// Without the denoising batch the UNet has frame_buffer_size rows.
	writeSplitEngineSet(t, dir, "Batchless", "kohaku", 1, 1)
	if st, err := prebuilt("Batchless", "39,35,30", noBatch); err != nil {
		t.Fatal(err)
	} else if u, v := folders(st); u != b1 || v != b1 {
		t.Errorf("no denoising batch: UNet from %s, VAEs from %s", u, v)
	}
	if _, err := prebuilt("Batchless", "39,35,30", value.Value{}); err == nil || !strings.Contains(err.Error(), "max_batch-3--min_batch-3--mode-img2img") {
		t.Errorf("denoising batch on a set without its UNet build: %v", err)
	}
	// Builds of the other mode and folders the pack does not name so are
	// not used.
	writeEngineSet(t, dir, "Other", engineBuildName("kohaku", 3, "txt2img"), nil)
	writeEngineSet(t, dir, "Other", "x", nil)
	if _, err := prebuilt("Other", "39,35,30", value.Value{}); err == nil || !strings.Contains(err.Error(), `"x"`) ||
		!strings.Contains(err.Error(), "mode-txt2img") || !strings.Contains(err.Error(), "none of") {
		t.Errorf("no img2img build: %v", err)
	}
	// The set's own name (StreamDiffusionConfig's parent_name) must agree.
	named := "kohaku--lcm_lora-True--tiny_vae-True--mode-img2img--t_index-3--buffer-1"
	writeSplitEngineSet(t, dir, named, "kohaku", 3, 1)
	if _, err := prebuilt(named, "39,35,30", value.Value{}); err != nil {
		t.Errorf("set named for the config: %v", err)
	}
	if _, err := prebuilt(named, "39,35", value.Value{}); err == nil || !strings.Contains(err.Error(), "t_index-3") {
		t.Errorf("set named for 3 t_indexes, config 2: %v", err)
	}
	// Two fitting builds: the checkpoint's (tiny) is taken; of two others,
	// neither.
	writeSplitEngineSet(t, dir, "Models", "kohaku", 3, 1)
	writeSplitEngineSet(t, dir, "Models", "tiny", 3, 1)
	if st, err := prebuilt("Models", "39,35,30", value.Value{}); err != nil {
		t.Fatal(err)
	} else if u, v := folders(st); u != engineBuildName("tiny", 3, "img2img") || v != engineBuildName("tiny", 1, "img2img") {
		t.Errorf("two models: UNet from %s, VAEs from %s; want the checkpoint's", u, v)
	}
	writeSplitEngineSet(t, dir, "Ambiguous", "kohaku", 3, 1)
	writeSplitEngineSet(t, dir, "Ambiguous", "slime", 3, 1)
	if _, err := prebuilt("Ambiguous", "39,35,30", value.Value{}); err == nil || !strings.Contains(err.Error(), b3) ||
		!strings.Contains(err.Error(), engineBuildName("slime", 3, "img2img")) || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("ambiguous builds: %v", err)
	}
}

// TestStreamDiffusionUNetInputs: a UNet with inputs StreamDiffusion does
// not feed (a ControlNet-enabled export's residuals) is refused when the
// plan is built, naming the input (the session helper KSampler shares).
func TestStreamDiffusionUNetInputs(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	writeSplitEngineSet(t, dir, "Residuals", "tiny", 3, 1)
	_, un, _ := onnxgen.TinySD{}.Parts()
	if err := un.ModelWithResiduals(true).WriteFile(filepath.Join(dir, "tensorrt", "StreamDiffusion-engines", "Residuals", engineBuildName("tiny", 3, "img2img"), "unet.onnx")); err != nil {
		t.Fatal(err)
	}
	ck := runPrepared(t, modelKernel(t, "StreamDiffusionCheckpointLoader", p, dir), str("tiny"))[0]
	cfg := runPrepared(t, modelKernel(t, "StreamDiffusionPrebuiltConfig", p, dir), str("Residuals"), str("39,35,30"), str("img2img"), i64(1),
		i64(sdStreamWidth), i64(sdStreamHeight), ck, value.Value{}, value.Value{})[0]
	err := prepareErrWith(t, "StreamDiffusionSampler", p, dir, cfg, str("a cat"), str(""), i64(50), f64(1.2), f64(1), value.New(value.ImageSpec(1, 20, 30)))
	if err == nil || !strings.Contains(err.Error(), "input stream_model: unet: UNet input down_block") || !strings.Contains(err.Error(), "not one StreamDiffusion feeds") {
		t.Errorf("UNet with residual inputs: %v", err)
	}
}

func TestStreamDiffusionErrors(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	ck := runPrepared(t, modelKernel(t, "StreamDiffusionCheckpointLoader", p, dir), str("tiny"))[0]
	configHW := func(tIndex, mode string, w, h, fbs int64, cfgType string, lora value.Value) error {
		return prepareErrWith(t, "StreamDiffusionConfig", p, dir, ck, str(tIndex), str(mode), i64(w), i64(h), str("xformers"), i64(fbs),
			boolean(true), str(cfgType), boolean(true), i64(2), lora)
	}
	config := func(tIndex, mode string, w, fbs int64, cfgType string, lora value.Value) error {
		return configHW(tIndex, mode, w, 24, fbs, cfgType, lora)
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{prepareErrWith(t, "StreamDiffusionLoraLoader", p, dir, str("ral-polygon-sd15.safetensors"), f64(1)), "input lora_name: LoRA \"ral-polygon-sd15.safetensors\" cannot be applied to an ONNX export at run time; fuse"},
		{config("39,35,30", "txt2img", 32, 1, "self", value.Value{}), "input cfg_type: txt2img mode accepts only cfg_type none"},
		{config("39,35,30", "img2img", 32, 2, "self", value.Value{}), "input frame_buffer_size: 2"},
		{config("39,x", "img2img", 32, 1, "self", value.Value{}), "input t_index_list"},
		{config("39", "img2img", 33, 1, "self", value.Value{}), "input width: 33 must be a multiple of 8"},
		{configHW("39", "img2img", 32, 25, 1, "self", value.Value{}), "input height: 25 must be a multiple of 8"},
		{config("39", "img2img", 32, 1, "self", value.OfHandle(map[string]float64{"x": 1})), "input opt_lora_dict: a LoRA cannot be applied"},
		{prepareErrWith(t, "StreamDiffusionCheckpointLoader", p, dir, str("absent.safetensors")), "checkpoints/absent"},
		{prepareErrWith(t, "StreamDiffusionPrebuiltConfig", p, dir, str("Kohaku_Slime"), str("39"), str("img2img"), i64(1), i64(32), i64(24)), "input model: comfyrt needs the model input"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("got %v, want %q", c.err, c.want)
		}
	}
	// A t_index past the steps' timesteps: the sampler says so.
	o := defaultStreamOpts()
	cfg := runPrepared(t, modelKernel(t, "StreamDiffusionConfig", p, dir), ck, str("45"), str("img2img"), i64(32), i64(24),
		str("none"), i64(1), boolean(true), str("self"), boolean(true), i64(2))[0]
	err := prepareErrWith(t, "StreamDiffusionSampler", p, dir, cfg, str(o.prompt), str(""), i64(10), f64(1.2), f64(1), value.New(value.ImageSpec(1, 24, 32)))
	if err == nil || !strings.Contains(err.Error(), "input num_inference_steps: t_index 45: want 0 to 9") {
		t.Errorf("t_index past the steps: %v", err)
	}
	err = prepareErrWith(t, "StreamDiffusionSampler", p, dir, cfg, str(o.prompt), str(""), i64(50), f64(1.2), f64(1))
	if err == nil || !strings.Contains(err.Error(), "input image: img2img mode needs a picture") {
		t.Errorf("img2img without a picture: %v", err)
	}
	// Without TAESD in the models folder, use_tiny_vae says where it looks.
	os.RemoveAll(filepath.Join(dir, "vae_approx"))
	if err := config("39", "img2img", 32, 1, "self", value.Value{}); err == nil || !strings.Contains(err.Error(), "vae_approx/taesd_encoder.onnx") ||
		!strings.Contains(err.Error(), "use_tiny_vae false") {
		t.Errorf("no TAESD: %v", err)
	}
}

// TestStreamDiffusionScratch: the sampler declares at least what its
// Prepare allocates (Go buffers; the sessions' memory is ONNX Runtime's,
// estimated on top), for a 512×512 stream of full guidance.
func TestStreamDiffusionScratch(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	ck := runPrepared(t, modelKernel(t, "StreamDiffusionCheckpointLoader", p, dir), str("tiny"))[0]
	cfg := runPrepared(t, modelKernel(t, "StreamDiffusionConfig", p, dir), ck, str("39,35,30"), str("img2img"), i64(512), i64(512),
		str("none"), i64(1), boolean(true), str("full"), boolean(true), i64(2))[0]
	specs := specsOf([]value.Value{cfg, str("a cat"), str("the dog"), i64(50), f64(1.2), f64(1), value.New(value.ImageSpec(1, 480, 640))})
	declared, err := nodes.SafeScratch(modelKernel(t, "StreamDiffusionSampler", p, dir), specs)
	if err != nil {
		t.Fatal(err)
	}
	got := allocated(t, modelKernel(t, "StreamDiffusionSampler", p, dir), specs)
	// It opens the VAE encoder and decoder at 512×512, as VAEEncode and
	// VAEDecode would, and the UNet on 6 rows.
	vae := ck.Handle.(*SDStreamModel).VAE
	enc, err1 := nodes.SafeScratch(modelKernel(t, "VAEEncode", p, dir), []value.Spec{value.ImageSpec(1, 512, 512), handleSpecs(vae)[0]})
	dec, err2 := nodes.SafeScratch(modelKernel(t, "VAEDecode", p, dir), []value.Spec{value.LatentSpec(1, 4, 64, 64), handleSpecs(vae)[0]})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if declared < got || declared < enc+dec || declared > 2*(enc+dec)+64<<20 {
		t.Errorf("declared %d B, Prepare allocated %d B (the VAE parts declare %d and %d)", declared, got, enc, dec)
	}
}
