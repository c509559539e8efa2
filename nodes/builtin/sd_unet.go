package builtin

import (
	"fmt"
	"slices"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// unetDenoiser is the sampler's model call on an ONNX UNet, as ComfyUI's
// sampling_function + calc_cond_batch + BaseModel.apply_model for a
// discrete eps or v model without areas or masks:
//
//   - groups are the positive entries, then (unless cfg is 1: ComfyUI
//     skips the unconditional pass) the negative ones; each group is the
//     latent batch with that entry's text, its tokens repeated to the
//     least common multiple of all entries' lengths (as CONDCrossAttn's
//     concat), so that every group fits one bound encoder_hidden_states;
//   - the UNet sees x·c_in and the timestep of σ (int64 or float); all
//     groups run in one call when the UNet's batch axis is dynamic (B·G
//     rows), else one call per group;
//   - each group's output becomes a denoised latent (calculate_denoised);
//     the positive ones are averaged, the negative ones too, and cfg is
//     applied (cfg_function).
//
// The session and its tensors are bound once, in Prepare; Denoise does not
// allocate.
type unetDenoiser struct {
	ms *sampling.Discrete
	unetSession
	n      int // latent values of the batch
	b      int // latent batch
	groups []*SDCondEntry
	nPos   int
	gpc    int // groups per call
	seqLen int
	dim    int
	cfg    float64
	ehs    []float32 // every group's encoder_hidden_states, B rows each
	seen   []uint64  // the entries' Gen when ehs was filled
	den    []float32 // every group's denoised latent
	acc    []float32 // averages
	calls  int       // UNet runs so far (for tests)
	ctl    cnRun     // the ControlNets and the UNet's residual inputs
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// newUNetDenoiser opens the UNet for a latent [b,4,h,w] and the entries.
func newUNetDenoiser(cfg nodes.Config, u *SDUNet, ms *sampling.Discrete, shape []int, pos, neg []*SDCondEntry, cfgScale float64) (*unetDenoiser, error) {
	if cfg.Engines == nil {
		return nil, errNoEngine
	}
	d := &unetDenoiser{ms: ms, b: shape[0], n: value.NumElems(shape), cfg: cfgScale, nPos: len(pos)}
	d.groups = slices.Clone(pos)
	if !cfgIsOne(cfgScale) {
		d.groups = append(d.groups, neg...)
	}
	d.dim = d.groups[0].Dim
	d.seqLen = 1
	for _, e := range append(slices.Clone(pos), neg...) {
		if e.Dim != d.dim {
			return nil, fmt.Errorf("input negative: text width %d, positive has %d", e.Dim, d.dim)
		}
		d.seqLen = d.seqLen / gcd(d.seqLen, e.Tokens) * e.Tokens
		if d.seqLen > MaxPromptChunks*77 {
			return nil, fmt.Errorf("input negative: the prompts' token counts (%d and others) have no common length within %d tokens", e.Tokens, MaxPromptChunks*77)
		}
	}
	sample, _ := u.IO.Input("sample")
	ehs, _ := u.IO.Input("encoder_hidden_states")
	if w := ehs.Shape[2]; w > 0 && w != d.dim {
		return nil, fmt.Errorf("input positive: text width %d; the UNet takes %d (another CLIP model?)", d.dim, w)
	}
	g := len(d.groups)
	switch bd := sample.Shape[0]; {
	case bd <= 0:
		d.gpc = g
	case bd == d.b:
		d.gpc = 1
	case bd == d.b*g:
		d.gpc = g
	default:
		return nil, fmt.Errorf("input latent_image: a batch of %d; the UNet's batch is fixed at %d", d.b, bd)
	}
	if err := d.ctl.openControls(cfg, d, u, shape); err != nil {
		return nil, err
	}
	if err := d.open(cfg, u, shape); err != nil {
		d.ctl.close()
		return nil, err
	}
	d.ehs = make([]float32, g*d.b*d.seqLen*d.dim)
	d.seen = make([]uint64, g)
	for i := range d.seen {
		d.seen[i] = ^uint64(0)
	}
	d.den = make([]float32, g*d.n)
	d.acc = make([]float32, 2*d.n)
	return d, nil
}

func cfgIsOne(c float64) bool { return c >= 1-1e-9 && c <= 1+1e-9 }

// open binds the session: sample [mb,…], timestep [mb], ehs [mb,L,D],
// and the ControlNets' residual inputs.
func (d *unetDenoiser) open(cfg nodes.Config, u *SDUNet, shape []int) error {
	mb := d.gpc * d.b
	other := func(name string) ([]int, bool) { return d.ctl.unetShape(name, mb) }
	s, err := openUNetSession(cfg, u, []int{mb, shape[1], shape[2], shape[3]}, d.seqLen, d.dim, other, "comfyrt")
	if err != nil {
		return err
	}
	d.unetSession = s
	if err := d.ctl.bindUNet(d.sess.Inputs()); err != nil {
		d.close()
		return err
	}
	return nil
}

// unetSession is a UNet session bound for one shape: its tensors and the
// indices of the inputs every UNet call feeds. KSampler's denoiser and
// StreamDiffusionSampler's UNet open theirs with openUNetSession.
type unetSession struct {
	sess       engine.Session
	in, out    []engine.Tensor
	si, ti, ei int // inputs: sample, timestep (−1: none), encoder_hidden_states
	oi         int // output out_sample
}

// openUNetSession opens u for sample [mb,c,h,w], timestep [mb] (when it
// has a batch axis) and encoder_hidden_states [mb,seq,dim]; other gives
// the shape of any other input (false: refused, saying who feeds the
// three). out_sample must have the sample's size.
func openUNetSession(cfg nodes.Config, u *SDUNet, sample []int, seq, dim int, other func(string) ([]int, bool), who string) (unetSession, error) {
	s := unetSession{si: -1, ti: -1, ei: -1, oi: -1}
	mb := sample[0]
	opts := u.Opts
	opts.Shapes = map[string][]int{}
	for _, t := range u.IO.Inputs {
		switch t.Name {
		case "sample":
			opts.Shapes[t.Name] = sample
		case "timestep":
			if len(t.Shape) == 1 {
				opts.Shapes[t.Name] = []int{mb}
			}
		case "encoder_hidden_states":
			opts.Shapes[t.Name] = []int{mb, seq, dim}
		default:
			sh, ok := other(t.Name)
			if !ok {
				return s, fmt.Errorf("UNet input %s is not one %s feeds (sample, timestep, encoder_hidden_states)", t, who)
			}
			opts.Shapes[t.Name] = sh
		}
	}
	sess, err := cfg.Engines.Open(u.Path, opts)
	if err != nil {
		return s, err
	}
	s.sess = sess
	for i, t := range sess.Inputs() {
		switch t.Name {
		case "sample":
			s.si = i
		case "timestep":
			s.ti = i
		case "encoder_hidden_states":
			s.ei = i
		}
	}
	s.oi = slices.IndexFunc(sess.Outputs(), func(t engine.TensorInfo) bool { return t.Name == "out_sample" })
	if o := sess.Outputs()[max(s.oi, 0)]; s.oi < 0 || value.NumElems(o.Shape) != value.NumElems(sample) {
		s.close()
		return s, fmt.Errorf("UNet output %v; want out_sample of the sample's shape", sess.Outputs())
	}
	if bs, ok := sess.(engine.Buffers); ok {
		s.in, s.out = bs.InputBuffers(), bs.OutputBuffers()
	} else {
		s.in, s.out = engine.NewBuffers(sess.Inputs()), engine.NewBuffers(sess.Outputs())
	}
	return s, nil
}

func (s *unetSession) close() {
	if s.sess != nil {
		s.sess.Close()
		s.sess = nil
	}
}

func (d *unetDenoiser) close() {
	if d != nil && d.sess != nil {
		d.sess.Close()
		d.sess = nil
	}
	if d != nil {
		d.ctl.close()
	}
}

// bindText copies the entries' text into ehs when a producer has run
// since, and into the session's input when all groups run in one call.
func (d *unetDenoiser) bindText() {
	changed := false
	row := d.seqLen * d.dim
	for g, e := range d.groups {
		if d.seen[g] == e.Gen {
			continue
		}
		changed = true
		d.seen[g] = e.Gen
		for b := range d.b {
			dst := d.ehs[(g*d.b+b)*row : (g*d.b+b+1)*row]
			for off := 0; off < row; off += len(e.Cond) {
				copy(dst[off:], e.Cond)
			}
		}
	}
	if changed && d.gpc == len(d.groups) {
		copy(d.in[d.ei].Data, d.ehs)
	}
}

// Denoise is the sampling.Denoiser.
func (d *unetDenoiser) Denoise(x []float32, sigma float64, out []float32) error {
	cin := d.ms.InputScale(sigma)
	t := d.ms.Timestep(sigma)
	mb := d.gpc * d.b
	row := d.seqLen * d.dim
	sample := d.in[d.si].Data
	s := sample[:len(x)]
	for i, v := range x {
		s[i] = v * cin
	}
	for g := 1; g < d.gpc; g++ {
		copy(sample[g*d.n:(g+1)*d.n], sample[:d.n])
	}
	if d.ti >= 0 {
		ts := &d.in[d.ti]
		for i := range ts.Int64 {
			ts.Int64[i] = int64(t)
		}
		for i := range ts.Data {
			ts.Data[i] = float32(t)
		}
	}
	one := cfgIsOne(d.cfg) // a per-frame cfg at 1: ComfyUI skips the unconditional pass
	for g0 := 0; g0 < len(d.groups) && !(one && g0 >= d.nPos); g0 += d.gpc {
		if d.gpc < len(d.groups) {
			copy(d.in[d.ei].Data, d.ehs[g0*d.b*row:(g0*d.b+mb)*row])
		}
		if err := d.ctl.residuals(d, g0, sigma, t, sample[:d.n]); err != nil {
			return err
		}
		if err := d.sess.Run(d.in, d.out); err != nil {
			return err
		}
		d.calls++
		o := d.out[d.oi].Data
		for g := range d.gpc {
			d.ms.CalculateDenoised(sigma, o[g*d.n:(g+1)*d.n], x, d.den[(g0+g)*d.n:(g0+g+1)*d.n])
		}
	}
	cond := d.average(0, d.nPos, d.acc[:d.n])
	if len(d.groups) == d.nPos || one {
		copy(out, cond)
		return nil
	}
	uncond := d.average(d.nPos, len(d.groups), d.acc[d.n:])
	sampling.ApplyCFG(cond, uncond, d.cfg, out)
	return nil
}

// average returns the mean of groups [from, to)'s denoised latents (the
// group's own slice when there is one).
func (d *unetDenoiser) average(from, to int, buf []float32) []float32 {
	if to-from == 1 {
		return d.den[from*d.n : (from+1)*d.n]
	}
	copy(buf, d.den[from*d.n:(from+1)*d.n])
	for g := from + 1; g < to; g++ {
		for i, v := range d.den[g*d.n : (g+1)*d.n] {
			buf[i] += v
		}
	}
	inv := float32(to - from)
	for i := range buf {
		buf[i] /= inv
	}
	return buf
}
