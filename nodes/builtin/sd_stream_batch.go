package builtin

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/diffusion/torchrand"
	"comfyrt/nodes/value"
)

// Stream-Pack's batched denoising (livepeer/ComfyUI-Stream-Pack, branch
// add_batched_denoising @4e883d8, src/batched_denoising/batched_denoising.py):
//
//   - StreamScheduler → SIGMAS: ComfyUI's normal schedule of
//     num_inference_steps steps (comfy.samplers.normal_scheduler), the
//     sigmas at t_index_list's indexes taken in descending index order
//     (sorted(t_index_list, reverse=True): the lowest sigma first, as the
//     pack does), indexes outside [0, num_inference_steps) dropped, then
//     0 appended; float32 values (torch.FloatTensor). A list that is not
//     comma-separated integers is [32, 45], as the pack's except branch.
//   - StreamBatchSampler → SAMPLER for SamplerCustom (streamSample below).
//     num_steps only labels the node: the pack's sample never reads it.
//   - StreamFrameBuffer → LATENT [buffer_size, C, H, W] (streamFrameBuffer).
//
// StreamBatchSampler's state (the stock noise and x_t_latent_buffer) lives
// in the pack's node instance, which ComfyUI keeps while the node stays;
// here it lives in the SAMPLER handle, a static result a plan update keeps
// while the StreamBatchSampler node is unchanged and makes afresh when it
// changes; a latent item of another shape starts a fresh state (the pack
// redraws the stock noise for another shape).
//
// scripts/reference/stream_batch.py renders the pack's sample and
// SamplerCustom around it in PyTorch on a closed-form ε-model
// (testdata/stream_batch.json); the tests run runStream on the same model.

// SDStreamSampler is StreamBatchSampler's SAMPLER handle.
type SDStreamSampler struct {
	NumSteps int
	mu       sync.Mutex
	cur      *streamBatchState
}

// streamBatchState is the pack's per-instance state for one latent item
// shape.
type streamBatchState struct {
	shape [3]int    // one latent item [C,H,W] (the pack compares stock_noise.shape)
	stock []float32 // stock_noise
	xt    []float32 // x_t_latent_buffer
	hasSt bool
	hasXT bool
	// gen stands for ComfyUI's global generator: seeded with the seed when
	// the state is made, set to its state after the seed's noise on each
	// frame with add_noise enabled (prepare_noise's torch.manual_seed and
	// randn); txt2img mode's normal_() and the stock noise's draw from it.
	gen *torchrand.Generator
}

// state returns the handle's state for latent items of shape [C,H,W]: a
// fresh one when there is none or its shape differs (the pack's shape
// checks).
func (h *SDStreamSampler) state(item [3]int, seed uint64) *streamBatchState {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil || h.cur.shape != item {
		h.cur = newStreamBatchState(item, seed)
	}
	return h.cur
}

func newStreamBatchState(item [3]int, seed uint64) *streamBatchState {
	n := item[0] * item[1] * item[2]
	return &streamBatchState{shape: item, stock: make([]float32, n), xt: make([]float32, n), gen: torchrand.New(seed)}
}

// StreamBatchSampler → *SDStreamSampler.
func streamBatchSampler(_ *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "num_steps")
	steps := a.int(0)
	if steps < 1 || steps > 10 {
		a.errorf(0, "%d is not in 1..10", steps)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return []any{&SDStreamSampler{NumSteps: int(steps)}}, nil
}

// StreamScheduler → *SDSigmas.
func streamScheduler(_ *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "model", "t_index_list", "num_inference_steps")
	u := unetHandle(a, 0)
	list := a.str(1)
	steps := a.int(2)
	if steps < 1 || steps > 1000 {
		a.errorf(2, "%d is not in 1..1000", steps)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	ms, err := modelSampling(u)
	if err != nil {
		return nil, err
	}
	full, err := sampling.Sigmas(ms, "normal", int(steps))
	if err != nil {
		return nil, fmt.Errorf("input num_inference_steps: %w", err)
	}
	return []any{&SDSigmas{Sigmas: StreamSchedulerSigmas(full, list)}}, nil
}

// StreamSchedulerSigmas selects StreamScheduler's sigmas from the full
// normal schedule (num_inference_steps+1 values): see the package note.
func StreamSchedulerSigmas(full []float64, tIndexList string) []float64 {
	var idx []int
	for _, f := range strings.Split(tIndexList, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			idx = []int{32, 45}
			break
		}
		idx = append(idx, v)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(idx)))
	out := []float64{}
	for _, t := range idx {
		if t >= 0 && t < len(full)-1 {
			out = append(out, float64(float32(full[t])))
		}
	}
	return append(out, 0)
}

// streamBatch is SamplerCustom running StreamBatchSampler's sample: the
// pack's lines reproduced, over a latent batch of B = len(sigmas)−1 items:
//
//   - the sampler's noise argument is KSAMPLER.sample's noise_scaling(σ₀,
//     noise, latent): the seed's noise (prepare_noise of the whole batch)
//     × σ₀ (×√(1+σ₀²) at full strength) + the latent (× the latent scale
//     when it has a non-zero value: inner_sample's process_latent_in);
//   - when Σ|that| < 1e-5 (txt2img mode) it is replaced by normal draws;
//   - stock_noise, one item drawn once (torch.empty_like(noise[0]).normal_()
//     on ComfyUI's global generator, which prepare_noise's
//     torch.manual_seed(seed) left after the batch's randn: the CPU
//     generator seeded with the seed, after B items), is added to each item
//     × its own σ (sigmas[:-1]);
//   - with B > 1, item 0 is replaced by x_t_latent_buffer (set from item 0
//     on the first frame and in txt2img mode);
//   - the model denoises every item at its own σ (ComfyUI's model call
//     takes a σ per batch row: per-row c_in, timestep and
//     calculate_denoised); here one UNet call per item, each the one-item
//     denoiser with cfg and ControlNets. ComfyUI decides a ControlNet's
//     σ range by the first row's σ for the whole batch; here each item's
//     own σ decides (the same for the usual 0–100 % range);
//   - with B > 1, x_t_latent_buffer becomes item 0's denoised latent and
//     the output is the last item's ([1,C,H,W]: the UNet's rows being
//     independent, the buffer feeds item 0 only, whose result only
//     refills it; the pack's lines do that, so do these); with B = 1 the output is
//     the denoised batch and the buffer is dropped. Both SamplerCustom
//     outputs are that latent ÷ the latent scale (inverse_noise_scaling is
//     the identity for eps and v models; denoised_output is the callback's
//     denoised[-1:]).
//
// The draws (txt2img mode's and the stock noise) come from ComfyUI's
// global generator, which prepare_noise seeds with the seed on each frame
// with add_noise enabled; with add_noise disabled nothing seeds it, and
// here it is the generator seeded with the seed when the state was made,
// going on from frame to frame (txt2img mode draws first, then the stock
// noise, as the pack's lines). The pack on a GPU draws from CUDA's
// generator; these are the CPU generator's values, as the rest of comfyrt.
type streamBatch struct {
	st       *streamBatchState // the handle's
	warm     *streamBatchState // a warm-up's own (FrameTime.Warmup)
	b, n     int               // items, values per item
	seed     uint64
	addNoise bool
	noise    []float32           // the seed's noise for the batch
	x, d     []float32           // the batch and its denoised latents
	after    torchrand.Generator // the generator seeded with the seed, after the noise's draws
}

// newStreamBatch makes the sampler's buffers for a latent batch of shape
// [B,C,H,W] and takes the handle's state for its items.
func newStreamBatch(h *SDStreamSampler, latent []int, seed uint64, addNoise bool) *streamBatch {
	b := latent[0]
	item := [3]int{latent[1], latent[2], latent[3]}
	n := item[0] * item[1] * item[2]
	sb := &streamBatch{b: b, n: n, seed: seed, addNoise: addNoise,
		noise: make([]float32, b*n), x: make([]float32, b*n), d: make([]float32, b*n), warm: newStreamBatchState(item, seed)}
	sb.st = h.state(item, seed)
	g := torchrand.New(seed)
	if addNoise {
		g.Randn(sb.noise)
	}
	sb.after = *g
	return sb
}

// prepareStream is Prepare for a StreamBatchSampler SAMPLER.
func (k *kSampler) prepareStream(s samplerArgs, ms *sampling.Discrete) ([]value.Spec, error) {
	b := len(s.sigmas) - 1
	if b < 1 {
		return nil, fmt.Errorf("input sigmas: no timestep (StreamScheduler's t_index_list selects none in range)")
	}
	if s.latent[0] != b {
		return nil, fmt.Errorf("input latent_image: a batch of %d; StreamBatchSampler denoises one item per timestep and the sigmas give %d (StreamFrameBuffer's buffer_size must match)", s.latent[0], b)
	}
	one := []int{1, s.latent[1], s.latent[2], s.latent[3]}
	den, err := newUNetDenoiser(k.cfg, s.unet, ms, one, s.pos.Entries, s.neg.Entries, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("model %q unet: %w", s.unet.Name, err)
	}
	k.den = den
	k.setStream(newStreamBatch(s.stream, s.latent, s.seed, s.addNoise), ms, s.sigmas, float32(s.unet.LatentScale), den.Denoise)
	if s.cfgFrame {
		k.frame.cfgAt = slices.Index(samplerCustomInputs, "cfg")
	}
	spec := value.LatentSpec(one[0], one[1], one[2], one[3])
	return []value.Spec{spec, spec}, nil
}

// setStream sets the kernel to run sb with model denoising one item; what
// an earlier Prepare left for the other samplers is dropped.
func (k *kSampler) setStream(sb *streamBatch, ms *sampling.Discrete, sigmas []float64, scale float32, model sampling.Denoiser) {
	k.ms, k.sigmas, k.seed, k.scale, k.model, k.stream = ms, sigmas, sb.seed, scale, model, sb
	k.skip, k.smp, k.noise, k.last = false, nil, nil, nil
	k.x = sb.x
	k.maxDen = ms.MaxDenoise(sigmas[0])
}

// SetFrameTime notes a warm-up run: a StreamBatchSampler's state is then
// left as it was (the warm-up runs on state of its own).
func (k *kSampler) SetFrameTime(t nodes.FrameTime) { k.warmup = t.Warmup }

// runStream is Run for a StreamBatchSampler SAMPLER (see streamBatch).
func (k *kSampler) runStream(src []float32, out []value.Value) error {
	sb := k.stream
	st := sb.st
	if k.warmup {
		st = sb.warm
		st.hasSt, st.hasXT = false, false
		st.gen.ManualSeed(sb.seed)
	}
	if sb.addNoise {
		*st.gen = sb.after
	}
	x := sb.x
	txt2img := k.streamNoise(src, x)
	if txt2img {
		st.gen.Randn(x)
	}
	if !st.hasSt {
		st.gen.Randn(st.stock)
		st.hasSt = true
	}
	if !txt2img {
		for r := range sb.b {
			sg := float32(k.sigmas[r])
			row := x[r*sb.n : (r+1)*sb.n]
			for i, v := range st.stock {
				row[i] += v * sg
			}
		}
	}
	if sb.b > 1 {
		if !st.hasXT || txt2img {
			copy(st.xt, x[:sb.n])
			st.hasXT = true
		}
		copy(x[:sb.n], st.xt)
	}
	if k.den != nil {
		k.den.bindText()
	}
	for r := range sb.b {
		if err := k.model(x[r*sb.n:(r+1)*sb.n], k.sigmas[r], sb.d[r*sb.n:(r+1)*sb.n]); err != nil {
			return err
		}
	}
	if sb.b > 1 {
		copy(st.xt, sb.d[:sb.n])
	} else {
		st.hasXT = false
	}
	last := sb.d[(sb.b-1)*sb.n:]
	for _, o := range out[:2] {
		for i, v := range last {
			o.Tensor.Data[i] = v / k.scale
		}
	}
	return nil
}

// streamNoise writes the sampler's noise argument into x (the latent × the
// latent scale when non-zero, plus the seed's noise scaled at σ₀) and
// reports whether Σ|x| < 1e-5 (the pack's txt2img mode).
func (k *kSampler) streamNoise(src, x []float32) bool {
	scale := float32(1)
	for _, v := range src {
		if v != 0 {
			scale = k.scale
			break
		}
	}
	for i, v := range src {
		x[i] = v * scale
	}
	k.ms.NoiseScaling(k.sigmas[0], k.stream.noise, x, k.maxDen, x)
	var sum float64
	for _, v := range x {
		sum += math.Abs(float64(v))
	}
	return sum < 1e-5
}

// streamFrameBuffer is StreamFrameBuffer (Stateful): a ring of buffer_size
// latent items. The first frame fills every slot with its latent and
// leaves the position at 0; each later frame is written at the position,
// which then advances modulo buffer_size. The output is the ring in slot
// order (not time order), as the pack returns its frame_buffer tensor. The
// input must be one item [1,C,H,W] (the pack squeezes a batch of one; a
// larger batch would make a 5-D buffer).
//
// Where this differs from the pack: ComfyUI keeps the node's instance when
// its inputs change, so after a buffer_size (or latent size) change the
// pack's new ring is zeros, filled with the frame only in txt2img mode (an
// all-zero latent), and after a change that keeps the size it keeps its
// ring and position. A plan update here makes a fresh kernel for a
// changed node, whose first frame fills every slot with its latent, as
// the pack's first frame.
type streamFrameBuffer struct {
	base
	buf  []float32
	n    int
	size int
	pos  int
	init bool
}

func newStreamFrameBuffer(cfg nodes.Config) (nodes.Kernel, error) {
	return &streamFrameBuffer{base: base{cfg}}, nil
}

func (k *streamFrameBuffer) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "latent", "buffer_size")
	l := a.spec(0)
	if l.Kind != value.Latent || len(l.Shape) != 4 {
		a.errorf(0, "want LATENT [B,C,H,W], got %s", l)
	} else if l.Shape[0] != 1 {
		a.errorf(0, "a batch of %d; StreamFrameBuffer buffers one latent per frame", l.Shape[0])
	}
	size := a.int(1)
	if size < 1 || size > 10 {
		a.errorf(1, "%d is not in 1..10", size)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	n := value.NumElems(l.Shape)
	if n != k.n || int(size) != k.size {
		k.buf, k.n, k.size, k.pos, k.init = make([]float32, int(size)*n), n, int(size), 0, false
	}
	return []value.Spec{value.LatentSpec(int(size), l.Shape[1], l.Shape[2], l.Shape[3])}, nil
}

func (k *streamFrameBuffer) Run(in, out []value.Value) error {
	if k.buf == nil {
		return errNotPrepared
	}
	if err := checkTensor(in[0], k.n, "latent"); err != nil {
		return err
	}
	x := in[0].Tensor.Data
	if !k.init {
		for s := range k.size {
			copy(k.buf[s*k.n:], x)
		}
		k.init = true
	} else {
		copy(k.buf[k.pos*k.n:(k.pos+1)*k.n], x)
		k.pos = (k.pos + 1) % k.size
	}
	copy(out[0].Tensor.Data, k.buf)
	return nil
}

// Scratch is the ring (buffer_size read as Prepare reads it; 0 when
// Prepare would refuse it).
func (k *streamFrameBuffer) Scratch(in []value.Spec) (int64, error) {
	if len(in) < 2 || in[0].Kind != value.Latent {
		return 0, nil
	}
	size := newArgs(in, "latent", "buffer_size").int(1)
	if size < 1 || size > 10 {
		return 0, nil
	}
	return mulSat(4, int64(value.NumElems(in[0].Shape)), size), nil
}
