package builtin

import (
	"math"
	"strings"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/clip"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// sdSetup loads the tiny checkpoint and encodes two prompts.
type sdSetup struct {
	p              engine.Provider
	dir            string
	unet           *SDUNet
	clip           *SDCLIP
	pos, neg       value.Value
	te             onnxgen.TextEncoder
	un             onnxgen.UNet
	posText, negTx string
	lastDenoised   []float32 // reference's last model output
}

func newSDSetup(t *testing.T, p engine.Provider) *sdSetup {
	t.Helper()
	return newSDSetupIn(t, p, sdModels(t, onnxgen.TinySD{}))
}

// newSDSetupIn is newSDSetup on the models folder dir.
func newSDSetupIn(t *testing.T, p engine.Provider, dir string) *sdSetup {
	t.Helper()
	s := &sdSetup{p: p, dir: dir, posText: "a (cat:1.5) photo", negTx: "the dog"}
	_, s.un, s.te = onnxgen.TinySD{}.Parts()
	out := runPrepared(t, modelKernel(t, "CheckpointLoaderSimple", p, s.dir), str("tiny"))
	s.unet, s.clip = out[0].Handle.(*SDUNet), out[1].Handle.(*SDCLIP)
	s.pos = runPrepared(t, modelKernel(t, "CLIPTextEncode", p, s.dir), str(s.posText), value.OfHandle(s.clip))[0]
	s.neg = runPrepared(t, modelKernel(t, "CLIPTextEncode", p, s.dir), str(s.negTx), value.OfHandle(s.clip))[0]
	return s
}

// wantCond is the conditioning computed without the node: the tokenizer,
// the tiny encoder's embedding table, clip.Conditioning.
func (s *sdSetup) wantCond(t *testing.T, text string) []float32 {
	t.Helper()
	tok, err := loadTokenizer(s.clip)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := tok.TokenizeWithWeights(text, clip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := tok.EncoderRows(chunks, clip.Options{})
	d := s.te.D
	hidden := make([]float32, len(rows)*77*d)
	for r, row := range rows {
		for j, tk := range row {
			copy(hidden[(r*77+j)*d:], s.te.Emb[int(tk.ID)*d:(int(tk.ID)+1)*d])
		}
	}
	cond := make([]float32, len(chunks)*77*d)
	if err := clip.Conditioning(cond, nil, hidden, nil, chunks, d); err != nil {
		t.Fatal(err)
	}
	return cond
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]-want[i])) / math.Max(1, math.Abs(float64(want[i])))
		if !(d <= worst) {
			worst = d
		}
	}
	if worst > tol {
		t.Errorf("%s: max relative difference %g > %g", what, worst, tol)
	}
}

func TestCLIPTextEncodeValues(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	c := s.pos.Handle.(*SDConditioning)
	if len(c.Entries) != 1 || c.Entries[0].Tokens != 77 || c.Entries[0].Dim != s.te.D || len(c.Entries[0].Pooled) != s.te.D {
		t.Fatalf("conditioning %+v", c.Entries[0])
	}
	closeTo(t, "weighted prompt", c.Entries[0].Cond, s.wantCond(t, s.posText), 1e-6)
	if s.wantCond(t, s.posText)[2*s.te.D] == s.wantCond(t, "a cat photo")[2*s.te.D] {
		t.Error("the weight does not change the cat token's row")
	}
	// A long prompt: two chunks, 154 tokens.
	long := strings.Repeat("hello ", 80)
	e := runPrepared(t, modelKernel(t, "CLIPTextEncode", s.p, s.dir), str(long), value.OfHandle(s.clip))[0].Handle.(*SDConditioning).Entries[0]
	if e.Tokens != 154 {
		t.Errorf("long prompt: %d tokens", e.Tokens)
	}
	closeTo(t, "long prompt", e.Cond, s.wantCond(t, long), 1e-6)
	// Too long, refused before the encoder runs, naming the input.
	_, err := nodes.SafePrepare(modelKernel(t, "CLIPTextEncode", s.p, s.dir), specsOf([]value.Value{str(strings.Repeat("cat ", 3000)), value.OfHandle(s.clip)}))
	if err == nil || !strings.Contains(err.Error(), "input text") || !strings.Contains(err.Error(), "chunks") {
		t.Errorf("3000-token prompt: %v", err)
	}
	last := *s.clip
	last.LastLayer = -2
	_, err = nodes.SafePrepare(modelKernel(t, "CLIPTextEncode", s.p, s.dir), specsOf([]value.Value{str("a"), value.OfHandle(&last)}))
	if err == nil || !strings.Contains(err.Error(), "input clip") {
		t.Errorf("layer -2: %v", err)
	}
}

func TestConditioningNodes(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	pos, neg := s.pos.Handle.(*SDConditioning), s.neg.Handle.(*SDConditioning)
	cat := runPrepared(t, modelKernel(t, "ConditioningConcat", s.p, s.dir), s.pos, s.neg)[0].Handle.(*SDConditioning)
	if e := cat.Entries[0]; e.Tokens != 154 || !slicesEqual(e.Cond[:77*e.Dim], pos.Entries[0].Cond) || !slicesEqual(e.Cond[77*e.Dim:], neg.Entries[0].Cond) ||
		!slicesEqual(e.Pooled, pos.Entries[0].Pooled) {
		t.Errorf("concat: %d tokens", e.Tokens)
	}
	comb := runPrepared(t, modelKernel(t, "ConditioningCombine", s.p, s.dir), s.pos, s.neg)[0].Handle.(*SDConditioning)
	if len(comb.Entries) != 2 || comb.Entries[0] != pos.Entries[0] || comb.Entries[1] != neg.Entries[0] {
		t.Errorf("combine: %+v", comb.Entries)
	}
	zero := runPrepared(t, modelKernel(t, "ConditioningZeroOut", s.p, s.dir), value.OfHandle(comb))[0].Handle.(*SDConditioning)
	for _, e := range zero.Entries {
		for _, v := range append(e.Cond, e.Pooled...) {
			if v != 0 {
				t.Fatal("ZeroOut left a non-zero value")
			}
		}
	}
	if pos.Entries[0].Cond[0] == 0 {
		t.Error("ZeroOut changed its input")
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testLatent is a VAE-space latent [1,4,4,5].
func testLatent() value.Value {
	l := value.New(value.LatentSpec(1, 4, 4, 5))
	for i := range l.Tensor.Data {
		l.Tensor.Data[i] = float32(math.Sin(float64(i)*0.7)) * 3
	}
	return l
}

// ksamplerIn are KSampler's inputs.
func (s *sdSetup) ksamplerIn(seed int64, steps int64, cfg float64, sampler, sched string, latent value.Value, denoise float64) []value.Value {
	return []value.Value{value.OfHandle(s.unet), i64(seed), i64(steps), f64(cfg), str(sampler), str(sched), s.pos, s.neg, latent, f64(denoise)}
}

// reference runs the same sampling in plain Go: sampling's functions and
// the tiny UNet's maths.
func (s *sdSetup) reference(t *testing.T, seed uint64, steps int, cfg float64, sampler, sched string, latent []float32, denoise float64) []float32 {
	t.Helper()
	ms, err := s.unet.modelSampling() // SD1.5's, or a ModelSamplingDiscrete patch's
	if err != nil {
		t.Fatal(err)
	}
	sigmas, err := sampling.KSamplerSigmas(ms, sched, sampler, steps, denoise)
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := s.pos.Handle.(*SDConditioning).Entries[0].Cond, s.neg.Handle.(*SDConditioning).Entries[0].Cond
	return plainKSampler(t, ms, sampler, seed, sigmas, cfg, latent, pos, neg, func(in []float32, ts []float64, ehs []float32, _ float64) []float32 {
		return s.un.Reference(in, ts, ehs, 1, 4, 5, 77)
	}, &s.lastDenoised)
}

// plainKSampler samples latent (a VAE latent, ×0.18215 in and out) in
// plain Go as KSampler does: seed's noise scaled at σ₀, then sampler over
// sigmas, the model's denoised latent of the positive row and (cfg ≠ 1)
// the negative one combined by cfg. pred gives the UNet's output for one
// conditioning row at σ. denoised, when not nil, receives the last model
// call's denoised latent.
func plainKSampler(t *testing.T, ms *sampling.Discrete, sampler string, seed uint64, sigmas []float64, cfg float64, latent, pos, neg []float32,
	pred func(in []float32, ts []float64, ehs []float32, sigma float64) []float32, denoised *[]float32) []float32 {
	t.Helper()
	n := len(latent)
	noise := make([]float32, n)
	sampling.PrepareNoise(seed, noise, n, nil)
	x := make([]float32, n)
	for i, v := range latent {
		x[i] = v * 0.18215
	}
	ms.NoiseScaling(sigmas[0], noise, x, ms.MaxDenoise(sigmas[0]), x)
	model := func(x []float32, sigma float64, out []float32) error {
		in := make([]float32, n)
		for i, v := range x {
			in[i] = v * ms.InputScale(sigma)
		}
		ts := []float64{float64(ms.Timestep(sigma))}
		c := pred(in, ts, pos, sigma)
		ms.CalculateDenoised(sigma, c, x, c)
		if cfg == 1 {
			copy(out, c)
		} else {
			u := pred(in, ts, neg, sigma)
			ms.CalculateDenoised(sigma, u, x, u)
			sampling.ApplyCFG(c, u, cfg, out)
		}
		if denoised != nil {
			*denoised = append((*denoised)[:0], out...)
		}
		return nil
	}
	smp, err := sampling.NewSampler(sampler, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := smp.Sample(model, x, sigmas); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		x[i] /= 0.18215
	}
	return x
}

func TestKSamplerValues(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := testLatent()
	cases := []struct {
		sampler, sched string
		steps          int
		cfg, denoise   float64
	}{
		{"euler", "normal", 2, 2.5, 0.5},
		{"lcm", "sgm_uniform", 1, 1, 0.5},
		{"euler_ancestral", "karras", 3, 4, 0.8},
		{"dpmpp_2m", "simple", 3, 1.5, 1},
		{"ddim", "ddim_uniform", 2, 7, 0.6},
		{"lcm", "exponential", 4, 1, 1},
	}
	for _, c := range cases {
		k := modelKernel(t, "KSampler", s.p, s.dir)
		out := runPrepared(t, k, s.ksamplerIn(905056445574169, int64(c.steps), c.cfg, c.sampler, c.sched, lat, c.denoise)...)
		want := s.reference(t, 905056445574169, c.steps, c.cfg, c.sampler, c.sched, lat.Tensor.Data, c.denoise)
		closeTo(t, c.sampler+"/"+c.sched, out[0].Tensor.Data, want, 2e-5)
	}
}

func TestKSamplerSeedsAndDenoise(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := testLatent()
	run := func(seed int64, denoise float64) []float32 {
		out := runPrepared(t, modelKernel(t, "KSampler", s.p, s.dir), s.ksamplerIn(seed, 2, 3, "euler_ancestral", "normal", lat, denoise)...)
		return out[0].Tensor.Data
	}
	if a, b := run(7, 0.5), run(7, 0.5); !slicesEqual(a, b) {
		t.Error("the same seed gives different latents")
	}
	if a, b := run(7, 0.5), run(8, 0.5); slicesEqual(a, b) {
		t.Error("seeds 7 and 8 give the same latent")
	}
	if got := run(7, 0); !slicesEqual(got, lat.Tensor.Data) {
		t.Error("denoise 0 does not return the input latent")
	}
	// KSamplerAdvanced with a start step past the end returns the input.
	adv := []value.Value{value.OfHandle(s.unet), str("enable"), i64(7), i64(2), f64(3), str("euler"), str("normal"), s.pos, s.neg, lat,
		i64(5), i64(10000), str("disable")}
	if got := runPrepared(t, modelKernel(t, "KSamplerAdvanced", s.p, s.dir), adv...)[0].Tensor.Data; !slicesEqual(got, lat.Tensor.Data) {
		t.Error("KSamplerAdvanced start 5 of 2 changed the latent")
	}
	// KSamplerAdvanced over every step with noise is KSampler at denoise 1.
	adv[10] = i64(0)
	got := runPrepared(t, modelKernel(t, "KSamplerAdvanced", s.p, s.dir), adv...)[0].Tensor.Data
	want := runPrepared(t, modelKernel(t, "KSampler", s.p, s.dir), s.ksamplerIn(7, 2, 3, "euler", "normal", lat, 1)...)[0].Tensor.Data
	if !slicesEqual(got, want) {
		t.Error("KSamplerAdvanced 0..10000 differs from KSampler at denoise 1")
	}
}

func TestKSamplerUNetCalls(t *testing.T) {
	cp := testkit.CountRuns(needORT(t))
	s := newSDSetup(t, cp)
	lat := testLatent()
	for _, c := range []struct {
		cfg  float64
		want int
	}{{1, 3}, {2.5, 3}} {
		k := modelKernel(t, "KSampler", cp, s.dir)
		out := prepare(t, k, s.ksamplerIn(1, 3, c.cfg, "euler", "normal", lat, 1))
		before := cp.Runs("unet")
		if err := k.Run(s.ksamplerIn(1, 3, c.cfg, "euler", "normal", lat, 1), out); err != nil {
			t.Fatal(err)
		}
		if got := cp.Runs("unet") - before; got != c.want {
			t.Errorf("cfg %v: %d UNet runs for 3 steps, want %d", c.cfg, got, c.want)
		}
		want := s.reference(t, 1, 3, c.cfg, "euler", "normal", lat.Tensor.Data, 1)
		closeTo(t, "counted run", out[0].Tensor.Data, want, 2e-5)
	}
	if k := modelKernel(t, "KSampler", cp, s.dir).(*kSampler); k != nil {
		prepare(t, k, s.ksamplerIn(1, 3, 2.5, "euler", "normal", lat, 1))
		if k.den.gpc != 2 || k.den.sess.Inputs()[0].Shape[0] != 2 {
			t.Errorf("cfg 2.5 on a dynamic batch: %d groups per call, sample %v", k.den.gpc, k.den.sess.Inputs()[0])
		}
	}
}

func TestKSamplerErrors(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := testLatent()
	cases := []struct {
		in   []value.Value
		want []string
	}{
		{s.ksamplerIn(1, 2, 1, "heun", "normal", lat, 1), []string{"input sampler_name", `"heun" is not supported`, "euler, euler_ancestral, lcm, dpmpp_2m, ddim"}},
		{s.ksamplerIn(1, 2, 1, "euler", "align_your_steps", lat, 1), []string{"input scheduler", "normal, karras"}},
		{s.ksamplerIn(1, 0, 1, "euler", "normal", lat, 1), []string{"input steps"}},
		{s.ksamplerIn(1, 2, 1, "euler", "normal", value.New(value.LatentSpec(1, 16, 4, 4)), 1), []string{"input latent_image", "16 latent channels"}},
	}
	for _, c := range cases {
		_, err := nodes.SafePrepare(modelKernel(t, "KSampler", s.p, s.dir), specsOf(c.in))
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v\n  lacks %q", err, w)
			}
		}
	}
}

func TestSamplerCustom(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := testLatent()
	sigmas := runPrepared(t, modelKernel(t, "BasicScheduler", s.p, s.dir), value.OfHandle(s.unet), str("normal"), i64(2), f64(0.5))[0]
	smp := runPrepared(t, modelKernel(t, "KSamplerSelect", s.p, s.dir), str("euler"))[0]
	in := []value.Value{value.OfHandle(s.unet), boolean(true), i64(11), f64(3), s.pos, s.neg, smp, sigmas, lat}
	out := runPrepared(t, modelKernel(t, "SamplerCustom", s.p, s.dir), in...)
	want := runPrepared(t, modelKernel(t, "KSampler", s.p, s.dir), s.ksamplerIn(11, 2, 3, "euler", "normal", lat, 0.5)...)[0]
	if !slicesEqual(out[0].Tensor.Data, want.Tensor.Data) {
		t.Error("SamplerCustom with BasicScheduler and KSamplerSelect differs from KSampler")
	}
	s.reference(t, 11, 2, 3, "euler", "normal", lat.Tensor.Data, 0.5)
	for i := range s.lastDenoised {
		s.lastDenoised[i] /= 0.18215
	}
	closeTo(t, "denoised_output", out[1].Tensor.Data, s.lastDenoised, 2e-5)
	// Without noise and with an empty table, the latent passes through.
	empty := runPrepared(t, modelKernel(t, "BasicScheduler", s.p, s.dir), value.OfHandle(s.unet), str("normal"), i64(2), f64(0))[0]
	in[1], in[7] = boolean(false), empty
	out = runPrepared(t, modelKernel(t, "SamplerCustom", s.p, s.dir), in...)
	if !slicesEqual(out[0].Tensor.Data, lat.Tensor.Data) || !slicesEqual(out[1].Tensor.Data, lat.Tensor.Data) {
		t.Error("an empty sigma table changed the latent")
	}
	_, err := nodes.SafePrepare(modelKernel(t, "KSamplerSelect", s.p, s.dir), specsOf([]value.Value{str("dpmpp_sde")}))
	if err == nil || !strings.Contains(err.Error(), "input sampler_name") || !strings.Contains(err.Error(), "dpmpp_2m") {
		t.Errorf("KSamplerSelect dpmpp_sde: %v", err)
	}
}

// TestSDScratch: the sampler and the text encoder declare what Prepare
// allocates (latent buffers, the UNet's tensors for both passes; the
// prompt's rows), so that --max-plan-bytes counts them.
func TestSDScratch(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	big := value.New(value.LatentSpec(2, 4, 64, 64))
	n, err := nodes.SafeScratch(modelKernel(t, "KSampler", s.p, s.dir), specsOf(s.ksamplerIn(1, 2, 7, "euler", "normal", big, 1)))
	// Two groups of a 2×4×64×64 latent in the UNet's input and output,
	// plus the sampler's latent buffers.
	if lat := int64(4 * 2 * 4 * 64 * 64); err != nil || n < 2*2*lat+4*lat {
		t.Errorf("KSampler scratch %d (%v), want at least %d", n, err, 2*2*lat+4*lat)
	}
	n, err = nodes.SafeScratch(modelKernel(t, "CLIPTextEncode", s.p, s.dir), specsOf([]value.Value{str("a"), value.OfHandle(s.clip)}))
	if err != nil || n < int64(MaxPromptChunks)*77*int64(s.te.D)*4 {
		t.Errorf("CLIPTextEncode scratch %d (%v)", n, err)
	}
}
