package builtin

import (
	"fmt"
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
//     ÷ latent scale. An empty schedule (denoise 0, or a start step at or
//     past the last) returns the input latent unchanged, as ComfyUI.
//
// Samplers: sampling.Samplers; schedulers: sampling.Schedulers. Other
// names of ComfyUI's lists are refused naming the input and the supported
// ones. Run does not allocate.
type kSampler struct {
	base
	advanced bool
	ms       *sampling.Discrete
	sigmas   []float64
	skip     bool
	noise    []float32
	x        []float32
	seed     uint64
	scale    float32
	maxDen   bool
	smp      *sampling.Sampler
	den      *unetDenoiser
	model    sampling.Denoiser
}

func newKSampler(advanced bool) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &kSampler{base: base{cfg}, advanced: advanced}, nil
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
}

var ksamplerInputs = []string{"model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative", "latent_image", "denoise"}

var ksamplerAdvancedInputs = []string{"model", "add_noise", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "positive",
	"negative", "latent_image", "start_at_step", "end_at_step", "return_with_leftover_noise"}

// readSamplerArgs reads either node's inputs.
func readSamplerArgs(in []value.Spec, advanced bool) (samplerArgs, error) {
	var s samplerArgs
	names := ksamplerInputs
	if advanced {
		names = ksamplerAdvancedInputs
	}
	a := newArgs(in, names...)
	idx := func(n string) int { return slices.Index(names, n) }
	s.unet = unetHandle(a, 0)
	s.addNoise, s.denoise, s.start, s.end = true, 1, -1, -1
	if !advanced {
		s.seed = uint64(a.int(1))
	} else {
		s.addNoise = a.choice(1, "enable", "disable") == 0
		s.seed = uint64(a.int(2))
		s.start, s.end = int(a.int(idx("start_at_step"))), int(a.int(idx("end_at_step")))
		s.forceFullDeno = a.choice(idx("return_with_leftover_noise"), "disable", "enable") == 0
	}
	if !advanced {
		s.denoise = a.float(idx("denoise"))
		if !(s.denoise >= 0 && s.denoise <= 1) {
			a.errorf(idx("denoise"), "%v is not in 0..1", s.denoise)
		}
	}
	steps := a.int(idx("steps"))
	if steps < 1 || steps > 10000 {
		a.errorf(idx("steps"), "%d is not in 1..10000", steps)
	}
	s.steps = int(steps)
	if s.cfg = a.float(idx("cfg")); !(s.cfg >= 0 && s.cfg <= 100) {
		a.errorf(idx("cfg"), "%v is not in 0..100", s.cfg)
	}
	s.sampler, s.scheduler = a.str(idx("sampler_name")), a.str(idx("scheduler"))
	if s.sampler != "" && !slices.Contains(sampling.Samplers, s.sampler) {
		a.errorf(idx("sampler_name"), "%q is not supported; comfyrt runs %s", s.sampler, strings.Join(sampling.Samplers, ", "))
	}
	if s.scheduler != "" && !slices.Contains(sampling.Schedulers, s.scheduler) {
		a.errorf(idx("scheduler"), "%q is not supported; comfyrt runs %s", s.scheduler, strings.Join(sampling.Schedulers, ", "))
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

// modelSampling is ComfyUI's ModelSamplingDiscrete for the export's
// scheduler config.
func modelSampling(u *SDUNet) (*sampling.Discrete, error) {
	sc := u.Scheduler
	cfg := sampling.DiscreteConfig{Timesteps: sc.TrainSteps, LinearStart: sc.BetaStart, LinearEnd: sc.BetaEnd}
	switch sc.PredictionType {
	case "epsilon":
		cfg.Prediction = sampling.Eps
	case "v_prediction":
		cfg.Prediction = sampling.V
	default:
		return nil, fmt.Errorf("input model: prediction_type %q is not supported (epsilon or v_prediction)", sc.PredictionType)
	}
	if sc.BetaSchedule != "scaled_linear" {
		return nil, fmt.Errorf("input model: beta_schedule %q is not supported (scaled_linear, as SD1.x and SD2.x)", sc.BetaSchedule)
	}
	return sampling.NewDiscrete(cfg)
}

// schedule computes the sigmas the node runs.
func (s samplerArgs) schedule(ms *sampling.Discrete, advanced bool) (sigmas []float64, skip bool, err error) {
	if !advanced {
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
	s, err := readSamplerArgs(in, k.advanced)
	if err != nil {
		return nil, err
	}
	ms, err := modelSampling(s.unet)
	if err != nil {
		return nil, err
	}
	sigmas, skip, err := s.schedule(ms, k.advanced)
	if err != nil {
		return nil, fmt.Errorf("input scheduler: %w", err)
	}
	n := value.NumElems(s.latent)
	k.close()
	k.ms, k.sigmas, k.skip, k.seed, k.scale = ms, sigmas, skip, s.seed, float32(s.unet.LatentScale)
	k.noise, k.x = make([]float32, n), make([]float32, n)
	if skip {
		return []value.Spec{value.LatentSpec(s.latent[0], s.latent[1], s.latent[2], s.latent[3])}, nil
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
	if k.den, err = newUNetDenoiser(k.cfg, s.unet, ms, s.latent, s.pos.Entries, s.neg.Entries, s.cfg); err != nil {
		return nil, fmt.Errorf("model %q unet: %w", s.unet.Name, err)
	}
	k.model = k.den.Denoise
	return []value.Spec{value.LatentSpec(s.latent[0], s.latent[1], s.latent[2], s.latent[3])}, nil
}

func (k *kSampler) Run(in, out []value.Value) error {
	if k.x == nil {
		return errNotPrepared
	}
	li := 8
	if k.advanced {
		li = 9
	}
	if err := checkTensor(in[li], len(k.x), "latent_image"); err != nil {
		return err
	}
	src, dst := in[li].Tensor.Data, out[0].Tensor.Data
	if k.skip {
		copy(dst, src)
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

// Scratch is the latent buffers and the UNet session's tensors: the
// latent batch for each text group (positive and negative) and their
// encoder_hidden_states.
func (k *kSampler) Scratch(in []value.Spec) (int64, error) {
	s, err := readSamplerArgs(in, k.advanced)
	if err != nil {
		return 0, nil
	}
	n := int64(value.NumElems(s.latent))
	g := int64(len(s.pos.Entries) + len(s.neg.Entries))
	var text int64
	for _, e := range slices.Concat(s.pos.Entries, s.neg.Entries) {
		text = max(text, int64(e.Tokens*e.Dim))
	}
	lat := mulSat(4, mulSat(n, 4+2*g))
	return addSat(lat, vaeScratch(mulSat(g, n), mulSat(mulSat(g, int64(s.latent[0])), text))), nil
}
