package builtin

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/value"
)

// KSampler and KSamplerAdvanced, as ComfyUI's common_ksampler on a
// discrete eps or v model (comfy/sample.py, comfy/samplers.py):
//
//   - Prepare (once, when the plan is built): the model sampling table of
//     the export's scheduler config, the sigma table (KSamplerSigmas with
//     denoise; KSamplerAdvanced: the full table cut by start/end step),
//     the initial noise of the seed for the latent's shape (prepare_noise:
//     torch.manual_seed(seed), randn; zeros for add_noise disable), the
//     sampler and its step buffers, and the UNet session (unetDenoiser).
//   - Run (per frame when the latent depends on it): latent × latent
//     scale (process_latent_in), noise_scaling at σ₀ (√(1+σ₀²) at full
//     denoise), the sampler's steps with the step noise reseeded seed+1,
//     ÷ latent scale. The step noise (euler_ancestral, lcm) is the same
//     every frame (ComfyUI reseeds each call), so Prepare draws it once
//     (sampling.Sampler.PrecomputeNoise) and the steps read it. An empty schedule (denoise 0, or a start step at or
//     past the last) returns the input latent unchanged, as ComfyUI.
//
// A KSampler denoise computed per frame (a RealTimeNodes FloatControl)
// keeps everything but the sigma schedule prepared: the seed's noise has
// the latent's shape whatever denoise is (prepare_noise), and the step
// noise is drawn ahead for the most steps a schedule of steps+1 sigmas
// takes (a frame that runs fewer reads the first ones, as ComfyUI's fresh
// generator gives them). Per frame the schedule is computed again, into a
// buffer of steps+1 values, only when int(steps/denoise) changes, and
// from a kept copy when that step count was seen before (only a new one
// computes, and allocates: a FloatControl's cycle allocates on its first
// pass only);
// denoise 0 returns the input. A cfg computed per frame (any of the three
// nodes) prepares the unconditional pass and skips it on frames at cfg 1.
//
// Samplers: sampling.Samplers; schedulers: sampling.Schedulers. Other
// names of ComfyUI's lists are refused naming the input and the supported
// ones. Run does not allocate.
type kSampler struct {
	base
	mode   int // samplerKSampler, samplerAdvanced, samplerCustom
	ms     *sampling.Discrete
	sigmas []float64
	skip   bool
	noise  []float32
	x      []float32
	seed   uint64
	scale  float32
	maxDen bool
	smp    *sampling.Sampler
	den    *unetDenoiser
	model  sampling.Denoiser
	last   []float32 // SamplerCustom: the last step's denoised latent
	frame  frameScalars
	stream *streamBatch // SamplerCustom with StreamBatchSampler's SAMPLER
	warmup bool         // this run is a warm-up (SetFrameTime)
}

// frameScalars are KSampler's denoise and the samplers' cfg when a
// per-frame node (a RealTimeNodes FloatControl) drives them.
type frameScalars struct {
	denoiseAt, cfgAt   int // input slots; -1: constant
	steps              int
	scheduler, sampler string
	buf                []float64         // steps+1 sigmas, made in Prepare
	seen               map[int][]float64 // schedules computed so far, by step count (at most maxSeenSchedules)
	total              int               // the schedule's steps for the current denoise (0: none; -1: not yet)
}

// The sampler nodes.
const (
	samplerKSampler = iota
	samplerAdvanced
	samplerCustom
)

func newKSampler(mode int) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &kSampler{base: base{cfg}, mode: mode, frame: frameScalars{denoiseAt: -1, cfgAt: -1}}, nil
	}
}

// samplerArgs are the inputs both nodes share.
type samplerArgs struct {
	unet          *SDUNet
	seed          uint64
	addNoise      bool
	steps         int
	cfg           float64
	sampler       string
	scheduler     string
	pos, neg      *SDConditioning
	latent        []int
	denoise       float64
	start, end    int
	forceFullDeno bool
	sigmas        []float64 // SamplerCustom's
	denoiseFrame  bool      // KSampler's denoise comes per frame
	cfgFrame      bool      // cfg comes per frame
	stream        *SDStreamSampler
}

var ksamplerInputs = []string{"model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative", "latent_image", "denoise"}

var samplerCustomInputs = []string{"model", "add_noise", "noise_seed", "cfg", "positive", "negative", "sampler", "sigmas", "latent_image"}

var ksamplerAdvancedInputs = []string{"model", "add_noise", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "positive",
	"negative", "latent_image", "start_at_step", "end_at_step", "return_with_leftover_noise"}

// readSamplerArgs reads the node's inputs.
func readSamplerArgs(in []value.Spec, mode int) (samplerArgs, error) {
	var s samplerArgs
	names := [...][]string{ksamplerInputs, ksamplerAdvancedInputs, samplerCustomInputs}[mode]
	a := newArgs(in, names...)
	idx := func(n string) int { return slices.Index(names, n) }
	s.unet = unetHandle(a, 0)
	s.addNoise, s.denoise, s.start, s.end = true, 1, -1, -1
	switch mode {
	case samplerKSampler:
		s.seed = uint64(a.int(1))
		if s.denoiseFrame = perFrameScalar(a.spec(idx("denoise"))); s.denoiseFrame {
			s.denoise = 1 // Prepare makes what the full schedule needs
		} else if s.denoise = a.float(idx("denoise")); !(s.denoise >= 0 && s.denoise <= 1) {
			a.errorf(idx("denoise"), "%v is not in 0..1", s.denoise)
		}
	case samplerAdvanced:
		s.addNoise = a.choice(1, "enable", "disable") == 0
		s.seed = uint64(a.int(2))
		s.start, s.end = int(a.int(idx("start_at_step"))), int(a.int(idx("end_at_step")))
		s.forceFullDeno = a.choice(idx("return_with_leftover_noise"), "disable", "enable") == 0
	case samplerCustom:
		s.addNoise, s.seed = a.bool(1), uint64(a.int(2))
		s.sampler, s.stream = samplerHandle(a, idx("sampler"))
		if sg := handleOf[*SDSigmas](a, idx("sigmas"), "SIGMAS", "BasicScheduler"); sg != nil {
			s.sigmas = sg.Sigmas
		}
	}
	if mode != samplerCustom {
		steps := a.int(idx("steps"))
		if steps < 1 || steps > 10000 {
			a.errorf(idx("steps"), "%d is not in 1..10000", steps)
		}
		s.steps = int(steps)
		s.sampler = checkSamplerName(a, idx("sampler_name"))
		s.scheduler = checkSchedulerName(a, idx("scheduler"))
	}
	if s.cfgFrame = perFrameScalar(a.spec(idx("cfg"))); s.cfgFrame {
		s.cfg = 0 // any value but 1: the unconditional pass is prepared
	} else if s.cfg = a.float(idx("cfg")); !(s.cfg >= 0 && s.cfg <= 100) {
		a.errorf(idx("cfg"), "%v is not in 0..100", s.cfg)
	}
	s.pos, s.neg = condHandle(a, idx("positive")), condHandle(a, idx("negative"))
	li := idx("latent_image")
	if l := a.spec(li); l.Kind != value.Latent || len(l.Shape) != 4 {
		a.errorf(li, "want LATENT [B,C,H,W], got %s", l)
	} else if s.latent = l.Shape; l.Shape[1] != 4 {
		a.errorf(li, "%d latent channels; SD1.x/2.x UNets take 4", l.Shape[1])
	}
	return s, a.Err()
}

// samplerHandle reads SamplerCustom's SAMPLER: KSamplerSelect's name or
// StreamBatchSampler's handle.
func samplerHandle(a *args, i int) (string, *SDStreamSampler) {
	if sp := a.spec(i); sp.Kind == value.Handle && sp.Const != nil {
		if h, ok := sp.Const.Handle.(*SDStreamSampler); ok {
			return "", h
		}
	}
	if smp := handleOf[*SDSampler](a, i, "SAMPLER", "KSamplerSelect or StreamBatchSampler"); smp != nil {
		return smp.Name, nil
	}
	return "", nil
}

// perFrameScalar reports whether a FLOAT or INT input is computed per
// frame (no constant when the plan is built).
func perFrameScalar(s value.Spec) bool {
	return (s.Kind == value.Float || s.Kind == value.Int) && s.Const == nil
}

// unetHandle reads the MODEL handle of slot i.
func unetHandle(a *args, i int) *SDUNet {
	s := a.spec(i)
	if s.Kind != value.Handle || s.Const == nil {
		a.errorf(i, "want a MODEL known when the plan is built (from CheckpointLoaderSimple or TensorRTLoader)")
		return nil
	}
	u, _ := s.Const.Handle.(*SDUNet)
	if u == nil {
		a.errorf(i, "want a MODEL from CheckpointLoaderSimple or TensorRTLoader, got %T", s.Const.Handle)
	}
	return u
}

// modelSampling is ComfyUI's ModelSamplingDiscrete for the model (see
// SDUNet.modelSampling, sd_modelsampling.go).
func modelSampling(u *SDUNet) (*sampling.Discrete, error) { return u.modelSampling() }

// schedule computes the sigmas the node runs.
func (s samplerArgs) schedule(ms *sampling.Discrete, mode int) (sigmas []float64, skip bool, err error) {
	switch mode {
	case samplerCustom:
		return slices.Clone(s.sigmas), len(s.sigmas) == 0, nil
	case samplerKSampler:
		sigmas, err = sampling.KSamplerSigmas(ms, s.scheduler, s.sampler, s.steps, s.denoise)
		return sigmas, err == nil && len(sigmas) == 0, err
	}
	full, err := sampling.KSamplerSigmas(ms, s.scheduler, s.sampler, s.steps, 1)
	if err != nil {
		return nil, false, err
	}
	sigmas, skip = sampling.StepRange(full, s.start, s.end, s.forceFullDeno)
	return sigmas, skip, nil
}

func (k *kSampler) Prepare(in []value.Spec) ([]value.Spec, error) {
	s, err := readSamplerArgs(in, k.mode)
	if err != nil {
		return nil, err
	}
	ms, err := modelSampling(s.unet)
	if err != nil {
		return nil, err
	}
	sigmas, skip, err := s.schedule(ms, k.mode)
	if err != nil {
		return nil, fmt.Errorf("input scheduler: %w", err)
	}
	n := value.NumElems(s.latent)
	k.close()
	k.frame = frameScalars{denoiseAt: -1, cfgAt: -1}
	k.stream = nil
	if s.stream != nil {
		return k.prepareStream(s, ms)
	}
	k.ms, k.sigmas, k.skip, k.seed, k.scale = ms, sigmas, skip, s.seed, float32(s.unet.LatentScale)
	k.noise, k.x = make([]float32, n), make([]float32, n)
	outs := []value.Spec{value.LatentSpec(s.latent[0], s.latent[1], s.latent[2], s.latent[3])}
	if k.mode == samplerCustom {
		outs = append(outs, outs[0])
	}
	if skip {
		return outs, nil
	}
	if s.addNoise {
		if err := sampling.PrepareNoise(s.seed, k.noise, n/s.latent[0], nil); err != nil {
			return nil, err
		}
	}
	k.maxDen = ms.MaxDenoise(sigmas[0])
	if k.smp, err = sampling.NewSampler(s.sampler, n, s.seed); err != nil {
		return nil, fmt.Errorf("input sampler_name: %w", err)
	}
	k.smp.PrecomputeNoise(s.seed, stepDraws(s, k.smp.NoiseDraws(sigmas)))
	k.prepareFrame(s, sigmas)
	if k.den, err = newUNetDenoiser(k.cfg, s.unet, ms, s.latent, s.pos.Entries, s.neg.Entries, s.cfg); err != nil {
		return nil, fmt.Errorf("model %q unet: %w", s.unet.Name, err)
	}
	k.model = k.den.Denoise
	if k.mode == samplerCustom {
		k.last = make([]float32, n)
		k.model = k.denoiseKeep
	}
	return outs, nil
}

// stepDraws is the step-noise latents Prepare draws ahead: those of the
// schedule, or with a per-frame denoise the most any schedule of steps+1
// sigmas takes (one per step: a frame that runs fewer reads the first
// ones, as ComfyUI's generator seeded seed+1 gives them).
func stepDraws(s samplerArgs, draws int) int {
	if s.denoiseFrame && sampling.NoiseDraws(s.sampler, 1, []float64{1, 0.5}) > 0 {
		return s.steps
	}
	return draws
}

// prepareFrame sets up the per-frame denoise and cfg: the sigma buffer of
// steps+1 values (the schedule is computed by the first frame) and the
// denoiser's cfg.
func (k *kSampler) prepareFrame(s samplerArgs, sigmas []float64) {
	if s.cfgFrame {
		k.frame.cfgAt = slices.Index([...][]string{ksamplerInputs, ksamplerAdvancedInputs, samplerCustomInputs}[k.mode], "cfg")
	}
	if !s.denoiseFrame {
		return
	}
	k.frame.denoiseAt = slices.Index(ksamplerInputs, "denoise")
	k.frame.steps, k.frame.scheduler, k.frame.sampler = s.steps, s.scheduler, s.sampler
	k.frame.buf = make([]float64, len(sigmas))
	k.frame.seen = map[int][]float64{}
	k.frame.total = -1
	k.sigmas = nil
}

// maxSeenSchedules bounds the schedules a per-frame denoise keeps.
const maxSeenSchedules = 256

// frameDenoise recomputes the sigma schedule for this frame's denoise when
// it differs from the last frame's (KSampler.set_steps: the schedule of
// int(steps/denoise) steps, its last steps+1 sigmas; none at denoise 0),
// into the buffer Prepare made. The schedule depends on denoise only
// through that step count, so a change that keeps it computes nothing, and
// a step count seen before takes its kept schedule (up to
// maxSeenSchedules of them): only a new one computes, and allocates.
func (k *kSampler) frameDenoise(v value.Value) error {
	d, ok := scalarValue(v)
	if !ok || math.IsNaN(d) {
		return fmt.Errorf("input denoise: %s is not a number", v)
	}
	// As set_steps, a linked denoise is not range-checked: above 0.9999 it
	// is full, at or below 0 the schedule is empty.
	f := &k.frame
	total := 0
	switch {
	case d > 0.9999:
		total = f.steps
	case d <= 0:
	case float64(f.steps)/d > 1e9:
		total = -2 // beyond any schedule: KSamplerSigmas refuses it
	default:
		total = int(float64(f.steps) / d)
	}
	if total == f.total && total != -2 {
		return nil
	}
	sg, ok := f.seen[total]
	if !ok || total < 0 {
		var err error
		if sg, err = sampling.KSamplerSigmas(k.ms, f.scheduler, f.sampler, f.steps, d); err != nil {
			return fmt.Errorf("input denoise: %w", err)
		}
		if len(f.seen) < maxSeenSchedules {
			// Its own copy: the tail would keep the whole long table.
			sg = slices.Clone(sg)
			f.seen[total] = sg
		}
	}
	if len(sg) > len(f.buf) {
		return fmt.Errorf("input denoise: %d sigmas for %d steps", len(sg), f.steps)
	}
	k.sigmas = f.buf[:copy(f.buf, sg)]
	f.total = total
	if len(k.sigmas) > 0 {
		k.maxDen = k.ms.MaxDenoise(k.sigmas[0])
	}
	return nil
}

// frameCFG sets the denoiser's cfg to this frame's.
func (k *kSampler) frameCFG(v value.Value) error {
	c, ok := scalarValue(v)
	if !ok || math.IsNaN(c) || math.IsInf(c, 0) {
		return fmt.Errorf("input cfg: %s is not a finite number", v)
	}
	k.den.cfg = c
	return nil
}

// scalarValue reads a FLOAT or INT value.
func scalarValue(v value.Value) (float64, bool) {
	switch v.Kind {
	case value.Float:
		return v.Float, true
	case value.Int:
		return float64(v.Int), true
	}
	return 0, false
}

// Note is compile --explain's note on a denoise or cfg computed per frame.
func (k *kSampler) Note() string {
	var parts []string
	if k.frame.denoiseAt >= 0 {
		parts = append(parts, fmt.Sprintf("denoise changes per frame: the sigma schedule (%d+1 values) is computed again only when int(steps/denoise) changes; the seed's noise and the step noise stay prepared once", k.frame.steps))
	}
	if k.stream != nil {
		parts = append(parts, fmt.Sprintf("StreamBatchSampler: %d latents, each at its own sigma (one UNet call each), the stock noise and x_t_latent_buffer kept in the sampler's handle across frames and unrelated plan updates", k.stream.b))
	}
	if k.frame.cfgAt >= 0 {
		parts = append(parts, "cfg changes per frame: the unconditional pass is prepared and skipped on frames at cfg 1")
	}
	return strings.Join(parts, "; ")
}

// denoiseKeep is the model call that keeps the denoised latent
// (SamplerCustom's denoised_output: the last step's, as ComfyUI's x0
// callback).
func (k *kSampler) denoiseKeep(x []float32, sigma float64, out []float32) error {
	if err := k.den.Denoise(x, sigma, out); err != nil {
		return err
	}
	copy(k.last, out)
	return nil
}

func (k *kSampler) Run(in, out []value.Value) error {
	if k.x == nil {
		return errNotPrepared
	}
	li := 8
	if k.mode == samplerAdvanced {
		li = 9
	}
	if err := checkTensor(in[li], len(k.x), "latent_image"); err != nil {
		return err
	}
	src, dst := in[li].Tensor.Data, out[0].Tensor.Data
	if k.frame.denoiseAt >= 0 {
		if err := k.frameDenoise(in[k.frame.denoiseAt]); err != nil {
			return err
		}
	}
	if k.frame.cfgAt >= 0 && !k.skip {
		if err := k.frameCFG(in[k.frame.cfgAt]); err != nil {
			return err
		}
	}
	if k.stream != nil {
		return k.runStream(src, out)
	}
	if k.skip || k.frame.denoiseAt >= 0 && len(k.sigmas) == 0 {
		copy(dst, src)
		if k.mode == samplerCustom {
			copy(out[1].Tensor.Data, src)
		}
		return nil
	}
	for i, v := range src {
		k.x[i] = v * k.scale
	}
	k.ms.NoiseScaling(k.sigmas[0], k.noise, k.x, k.maxDen, k.x)
	k.den.bindText()
	k.smp.Reset(k.seed)
	if err := k.smp.Sample(k.model, k.x, k.sigmas); err != nil {
		return err
	}
	for i, v := range k.x {
		dst[i] = v / k.scale
	}
	if k.mode == samplerCustom {
		d := out[1].Tensor.Data
		if len(k.sigmas) < 2 { // no step: ComfyUI's denoised_output is the output
			copy(d, dst)
			return nil
		}
		for i, v := range k.last {
			d[i] = v / k.scale
		}
	}
	return nil
}

func (k *kSampler) close() {
	k.den.close()
	k.den = nil
}

// Close releases the UNet session.
func (k *kSampler) Close() error {
	k.close()
	return nil
}

// Scratch is the latent buffers, the step noise drawn ahead and the UNet
// session's tensors: the latent batch for each text group (positive and
// negative) and their encoder_hidden_states. With StreamBatchSampler's
// SAMPLER: streamScratch.
func (k *kSampler) Scratch(in []value.Spec) (int64, error) {
	s, err := readSamplerArgs(in, k.mode)
	if err != nil {
		return 0, nil
	}
	if s.stream != nil {
		return streamScratch(s), nil
	}
	n := int64(value.NumElems(s.latent))
	lat := addSat(mulSat(4, n, 4), mulSat(4, int64(stepNoiseLen(s, k.mode))))
	if s.denoiseFrame { // the kept schedules of a per-frame denoise
		lat = addSat(lat, mulSat(8*maxSeenSchedules, int64(s.steps+1)))
	}
	return addSat(lat, denoiserScratch(s, n)), nil
}

// denoiserScratch is the UNet denoiser's buffers and session tensors for
// s.latent (n values): per text group the latent in and out, the text,
// the runtime's estimate, and the ControlNets'.
func denoiserScratch(s samplerArgs, n int64) int64 {
	g := int64(len(s.pos.Entries) + len(s.neg.Entries))
	var text int64
	for _, e := range slices.Concat(s.pos.Entries, s.neg.Entries) {
		text = max(text, int64(e.Tokens*e.Dim))
	}
	return addSat(mulSat(4, n, 2*g), vaeScratch(mulSat(g, n), mulSat(mulSat(g, int64(s.latent[0])), text)), controlScratch(s, n, text))
}

// streamGenBytes bounds one torchrand.Generator (an mt19937 state of 624
// words and its caches).
const streamGenBytes = 4 << 10

// streamScratch is what prepareStream makes for a batch of B items: the
// seed's noise, the batch and its denoised latents (B items each), the
// stock noise and x_t_latent_buffer of the handle's state and of the
// warm-up's (one item each), their generators, and a one-item denoiser.
func streamScratch(s samplerArgs) int64 {
	b := int64(s.latent[0])
	if b < 1 {
		return 0
	}
	n := int64(value.NumElems(s.latent))
	item := n / b
	one := s
	one.latent = []int{1, s.latent[1], s.latent[2], s.latent[3]}
	bufs := mulSat(4, addSat(mulSat(3, n), mulSat(4, item)))
	return addSat(bufs, 3*streamGenBytes, denoiserScratch(one, item))
}

// stepNoiseLen is the float32 values of the step noise Prepare draws
// ahead (0 when the sampler draws none, or the schedule is refused:
// Prepare reports that).
func stepNoiseLen(s samplerArgs, mode int) int {
	if s.unet == nil {
		return 0
	}
	ms, err := modelSampling(s.unet)
	if err != nil {
		return 0
	}
	sigmas, skip, err := s.schedule(ms, mode)
	if err != nil || skip {
		return 0
	}
	return sampling.NoiseTableLen(stepDraws(s, sampling.NoiseDraws(s.sampler, 1, sigmas)), value.NumElems(s.latent))
}

// controlScratch is each ControlNet's session tensors: the hint [b,3,8h,8w],
// the sample, the text, and its residuals (counted as four latents, the
// UNet's residual inputs as many per group).
func controlScratch(s samplerArgs, n, text int64) int64 {
	var ctls []*SDControl
	for _, e := range slices.Concat(s.pos.Entries, s.neg.Entries) {
		if e.Control != nil && !slices.Contains(ctls, e.Control) {
			ctls = append(ctls, e.Control)
		}
	}
	if len(ctls) == 0 {
		return 0
	}
	g := int64(len(s.pos.Entries) + len(s.neg.Entries))
	one := addSat(mulSat(n, 3*64/4), mulSat(n, 5), mulSat(int64(s.latent[0]), text))
	return mulSat(4, addSat(mulSat(int64(len(ctls)), one), mulSat(g, n, 4)))
}

func checkSamplerName(a *args, i int) string {
	n := a.str(i)
	if n != "" && !slices.Contains(sampling.Samplers, n) {
		a.errorf(i, "%q is not supported; comfyrt runs %s", n, strings.Join(sampling.Samplers, ", "))
	}
	return n
}

func checkSchedulerName(a *args, i int) string {
	n := a.str(i)
	if n != "" && !slices.Contains(sampling.Schedulers, n) {
		a.errorf(i, "%q is not supported; comfyrt runs %s", n, strings.Join(sampling.Schedulers, ", "))
	}
	return n
}

// handleOf reads a handle of type T from slot i (typ and from name the
// ComfyUI type and the node that makes it, for the message).
func handleOf[T any](a *args, i int, typ, from string) T {
	var zero T
	s := a.spec(i)
	if s.Kind != value.Handle || s.Const == nil {
		a.errorf(i, "want a %s known when the plan is built (from %s)", typ, from)
		return zero
	}
	h, ok := s.Const.Handle.(T)
	if !ok {
		a.errorf(i, "want a %s from %s, got %T", typ, from, s.Const.Handle)
	}
	return h
}

// SDSampler is the SAMPLER handle (KSamplerSelect): a sampler name.
type SDSampler struct{ Name string }

// SDSigmas is the SIGMAS handle (BasicScheduler): a descending sigma
// table.
type SDSigmas struct{ Sigmas []float64 }

// KSamplerSelect → *SDSampler.
func selectSampler(_ *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "sampler_name")
	n := checkSamplerName(a, 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return []any{&SDSampler{Name: n}}, nil
}

// BasicScheduler → *SDSigmas (sampling.BasicSchedulerSigmas on the
// model's sampling table).
func basicScheduler(_ *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "model", "scheduler", "steps", "denoise")
	u := unetHandle(a, 0)
	sched := checkSchedulerName(a, 1)
	steps, denoise := a.int(2), a.float(3)
	if steps < 1 || steps > 10000 {
		a.errorf(2, "%d is not in 1..10000", steps)
	}
	if !(denoise >= 0 && denoise <= 1) {
		a.errorf(3, "%v is not in 0..1", denoise)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	ms, err := modelSampling(u)
	if err != nil {
		return nil, err
	}
	sg, err := sampling.BasicSchedulerSigmas(ms, sched, int(steps), denoise)
	if err != nil {
		return nil, fmt.Errorf("input scheduler: %w", err)
	}
	return []any{&SDSigmas{Sigmas: sg}}, nil
}
