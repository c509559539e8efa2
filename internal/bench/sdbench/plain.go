package sdbench

import (
	"fmt"
	"os"
	"path/filepath"

	"comfyrt/nodes/diffusion/clip"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/diffusion/sdmodel"
	"comfyrt/nodes/engine"
)

// sdPlain is `bench sd`'s peer: the img2img frame as a plain sequential
// Go loop over sessions opened from the same files with the same provider
// and options as the plan's (so ONNX Runtime shares the loaded models),
// doing the same arithmetic the kernels do, with no plan around it.
type sdPlain struct {
	enc, unet, dec *plainSess
	ms             *sampling.Discrete
	smp            *sampling.Sampler
	sigmas         []float64
	noise, x       []float32
	pic            []float32 // the decoded frame, HWC
	den            []float32 // denoised rows of one UNet call (cond, uncond)
	cfg            float64
	groups, gpc    int // text groups (1 or 2), groups per UNet call
	n, side        int // latent values; frame side
	scale          float32
	maxDen         bool
	ehs            []float32 // cond rows then uncond rows
	si, ti, ei, oi int
}

// plainSess is a session with its bound buffers.
type plainSess struct {
	s       engine.Session
	in, out []engine.Tensor
}

func openPlain(p engine.Provider, path string, opts engine.Options, shapes map[string][]int) (*plainSess, error) {
	opts.Shapes = shapes
	s, err := p.Open(path, opts)
	if err != nil {
		return nil, err
	}
	ps := &plainSess{s: s}
	if b, ok := s.(engine.Buffers); ok {
		ps.in, ps.out = b.InputBuffers(), b.OutputBuffers()
	} else {
		ps.in, ps.out = engine.NewBuffers(s.Inputs()), engine.NewBuffers(s.Outputs())
	}
	return ps, nil
}

func (p *plainSess) run() error { return p.s.Run(p.in, p.out) }

func (p *sdPlain) close() {
	for _, s := range []*plainSess{p.enc, p.unet, p.dec} {
		if s != nil {
			s.s.Close()
		}
	}
}

func newSDPlain(prov engine.Provider, modelsDir string, sd Config, opts engine.Options, sampler string, cfg float64, steps int) (*sdPlain, error) {
	m, err := sdmodel.Find(sdmodel.Folders{ModelDir: modelsDir}, sd.Checkpoint)
	if err != nil {
		return nil, err
	}
	h := sd.Size / 8
	p := &sdPlain{cfg: cfg, groups: 2, n: 4 * h * h, side: sd.Size, scale: float32(m.LatentScale)}
	if cfg == 1 {
		p.groups = 1
	}
	if p.ms, err = sampling.NewDiscrete(sampling.DiscreteConfig{Timesteps: m.Scheduler.TrainSteps,
		LinearStart: m.Scheduler.BetaStart, LinearEnd: m.Scheduler.BetaEnd, Prediction: prediction(m.Scheduler.PredictionType)}); err != nil {
		return nil, err
	}
	if p.sigmas, err = sampling.KSamplerSigmas(p.ms, "normal", sampler, steps, sd.Denoise); err != nil {
		return nil, err
	}
	p.noise, p.x, p.pic = make([]float32, p.n), make([]float32, p.n), make([]float32, 3*sd.Size*sd.Size)
	if err := sampling.PrepareNoise(sdSeed, p.noise, p.n, nil); err != nil {
		return nil, err
	}
	p.maxDen = p.ms.MaxDenoise(p.sigmas[0])
	if p.smp, err = sampling.NewSampler(sampler, p.n, sdSeed); err != nil {
		return nil, err
	}
	p.smp.PrecomputeNoise(sdSeed, p.smp.NoiseDraws(p.sigmas))
	if err := p.open(prov, m, opts, h); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func prediction(t string) sampling.Prediction {
	if t == "v_prediction" {
		return sampling.V
	}
	return sampling.Eps
}

// open opens the VAE's two parts and the UNet, and runs the text encoder
// once for the prompts.
func (p *sdPlain) open(prov engine.Provider, m *sdmodel.Model, opts engine.Options, h int) error {
	var err error
	if p.enc, err = openPlain(prov, m.PartPath(sdmodel.VAEEncoder), opts, map[string][]int{"sample": {1, 3, p.side, p.side}}); err != nil {
		return err
	}
	if p.dec, err = openPlain(prov, m.PartPath(sdmodel.VAEDecoder), opts, map[string][]int{"latent_sample": {1, 4, h, h}}); err != nil {
		return err
	}
	cond, err := p.encodeText(prov, m, opts)
	if err != nil {
		return err
	}
	dim := len(cond[0]) / 77
	ins, _, err := prov.Inspect(m.PartPath(sdmodel.UNet))
	if err != nil {
		return err
	}
	p.gpc = 1
	shapes := map[string][]int{}
	for _, t := range ins {
		if t.Name == "sample" && t.Shape[0] <= 0 {
			p.gpc = p.groups
		}
	}
	for _, t := range ins {
		switch t.Name {
		case "sample":
			shapes[t.Name] = []int{p.gpc, 4, h, h}
		case "timestep":
			if len(t.Shape) == 1 {
				shapes[t.Name] = []int{p.gpc}
			}
		case "encoder_hidden_states":
			shapes[t.Name] = []int{p.gpc, 77, dim}
		}
	}
	if p.unet, err = openPlain(prov, m.PartPath(sdmodel.UNet), opts, shapes); err != nil {
		return err
	}
	p.si, p.ti, p.ei, p.oi = index(p.unet.s.Inputs(), "sample"), index(p.unet.s.Inputs(), "timestep"),
		index(p.unet.s.Inputs(), "encoder_hidden_states"), index(p.unet.s.Outputs(), "out_sample")
	if p.si < 0 || p.ei < 0 || p.oi < 0 {
		return fmt.Errorf("UNet %v → %v: not the exported signature", p.unet.s.Inputs(), p.unet.s.Outputs())
	}
	p.ehs = append(cond[0], cond[1]...)[:p.groups*len(cond[0])]
	p.den = make([]float32, p.groups*p.n)
	copy(p.unet.in[p.ei].Data, p.ehs)
	return nil
}

func index(infos []engine.TensorInfo, name string) int {
	for i, t := range infos {
		if t.Name == name {
			return i
		}
	}
	return -1
}

// encodeText runs the text encoder on the positive and the empty prompt
// (start, the tokens, end, padded with end to 77).
func (p *sdPlain) encodeText(prov engine.Provider, m *sdmodel.Model, opts engine.Options) ([2][]float32, error) {
	var out [2][]float32
	vocab, _ := m.TokenizerFiles()
	tok, err := clip.Load(os.DirFS(filepath.Dir(vocab)), ".")
	if err != nil {
		return out, err
	}
	te, err := openPlain(prov, m.PartPath(sdmodel.TextEncoder), opts, map[string][]int{"input_ids": {1, 77}})
	if err != nil {
		return out, err
	}
	defer te.s.Close()
	oi := max(index(te.s.Outputs(), "last_hidden_state"), 0)
	for i, text := range []string{sdPrompt, ""} {
		ids := append(append([]int32{tok.StartID()}, tok.Encode(text)...), tok.EndID())
		in := te.in[0].Int64
		for j := range in {
			in[j] = int64(tok.EndID())
			if j < len(ids) {
				in[j] = int64(ids[j])
			}
		}
		if err := te.run(); err != nil {
			return out, err
		}
		out[i] = append([]float32(nil), te.out[oi].Data...)
	}
	return out, nil
}

// frame runs one frame: encode, the steps, decode into p.pic (HWC).
func (p *sdPlain) frame(img []float32) error {
	pic := p.side * p.side
	in := p.enc.in[0].Data
	for i := range pic {
		in[i], in[pic+i], in[2*pic+i] = 2*img[3*i]-1, 2*img[3*i+1]-1, 2*img[3*i+2]-1
	}
	if err := p.enc.run(); err != nil {
		return err
	}
	for i, v := range p.enc.out[0].Data {
		p.x[i] = v * p.scale
	}
	p.ms.NoiseScaling(p.sigmas[0], p.noise, p.x, p.maxDen, p.x)
	p.smp.Reset(sdSeed)
	if err := p.smp.Sample(p.denoise, p.x, p.sigmas); err != nil {
		return err
	}
	lat := p.dec.in[0].Data
	for i, v := range p.x {
		lat[i] = v / p.scale
	}
	if err := p.dec.run(); err != nil {
		return err
	}
	y, d := p.dec.out[0].Data, p.pic
	for i := range pic {
		d[3*i] = clamp01((y[i] + 1) / 2)
		d[3*i+1] = clamp01((y[pic+i] + 1) / 2)
		d[3*i+2] = clamp01((y[2*pic+i] + 1) / 2)
	}
	return nil
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

// denoise is the model call: c_in·x for each group, the timestep, the
// UNet, calculate_denoised, cfg.
func (p *sdPlain) denoise(x []float32, sigma float64, out []float32) error {
	cin, t := p.ms.InputScale(sigma), p.ms.Timestep(sigma)
	sample := p.unet.in[p.si].Data
	for i, v := range x {
		sample[i] = v * cin
	}
	if p.gpc == 2 {
		copy(sample[p.n:], sample[:p.n])
	}
	if p.ti >= 0 {
		ts := &p.unet.in[p.ti]
		for i := range ts.Int64 {
			ts.Int64[i] = int64(t)
		}
		for i := range ts.Data {
			ts.Data[i] = float32(t)
		}
	}
	row := len(p.ehs) / p.groups
	for g0 := 0; g0 < p.groups; g0 += p.gpc {
		if p.gpc < p.groups {
			copy(p.unet.in[p.ei].Data, p.ehs[g0*row:(g0+1)*row])
		}
		if err := p.unet.run(); err != nil {
			return err
		}
		o := p.unet.out[p.oi].Data
		for g := range p.gpc {
			p.ms.CalculateDenoised(sigma, o[g*p.n:(g+1)*p.n], x, p.den[(g0+g)*p.n:(g0+g+1)*p.n])
		}
	}
	if p.groups == 1 {
		copy(out, p.den)
		return nil
	}
	sampling.ApplyCFG(p.den[:p.n], p.den[p.n:], p.cfg, out)
	return nil
}
