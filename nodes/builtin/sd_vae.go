package builtin

import (
	"fmt"
	"path/filepath"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/sdmodel"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// VAEEncode and VAEDecode, per frame on the VAE handle's ONNX parts, as
// ComfyUI's nodes.py VAEEncode/VAEDecode with comfy.sd.VAE:
//
//   - VAEEncode: IMAGE [B,H,W,C] (C ≥ 3, the first three used) 0..1 →
//     cropped to multiples of 8 about the centre (offsets (H%8)/2,
//     (W%8)/2, as vae_encode_crop_pixels), NHWC → NCHW, ×2−1 → encoder →
//     LATENT [B,4,H/8,W/8] in the VAE's own space (the sampler applies the
//     latent scale, ComfyUI's process_in). An encoder that outputs
//     latent_parameters (mean and log-variance, 8 channels) gives its mean.
//   - VAEDecode: LATENT [B,4,h,w] → decoder → (x+1)/2 clamped to 0..1 →
//     IMAGE [B,8h,8w,3] (the decoder's output size).
//   - TAESD (VAELoader "taesd"): pictures enter and leave in 0..1, and the
//     encoder's scaled latents are divided by the scale (the decoder's input
//     multiplied), as ComfyUI's taesd wrapper.
//
// The session is opened in Prepare for the frame's batch and size (one
// picture per run when the model's batch is fixed at 1) and its buffers
// are written and read in place; Run allocates nothing.

// vaePart is one VAE model opened for a shape.
type vaePart struct {
	path    string
	shape   []int // bound input shape
	sess    engine.Session
	in, out []engine.Tensor
	oi      int // index of the output used
	mb      int // pictures per run
}

func (p *vaePart) close() error {
	if p == nil || p.sess == nil {
		return nil
	}
	err := p.sess.Close()
	p.sess = nil
	return err
}

// partBatch is the pictures per run for a frame batch b: the model's
// fixed batch when it has one (b or 1), else b.
func partBatch(io sdmodel.IO, b int) (int, error) {
	d := io.Inputs[0].Shape[0]
	switch {
	case d <= 0 || d == b:
		return b, nil
	case d == 1:
		return 1, nil
	}
	return 0, fmt.Errorf("model input %s has a fixed batch of %d, which does not divide a batch of %d", io.Inputs[0], d, b)
}

// openVAEPart opens the model at path with its one input bound to shape
// [mb, rest...] and picks the output named one of outs.
func openVAEPart(cfg nodes.Config, path string, io sdmodel.IO, opts engine.Options, b int, rest []int, outs ...string) (*vaePart, error) {
	if cfg.Engines == nil {
		return nil, errNoEngine
	}
	if len(io.Inputs) != 1 {
		return nil, fmt.Errorf("model %s has %d inputs; a VAE part has one", filepath.Base(path), len(io.Inputs))
	}
	mb, err := partBatch(io, b)
	if err != nil {
		return nil, err
	}
	shape := append([]int{mb}, rest...)
	opts.Shapes = map[string][]int{io.Inputs[0].Name: shape}
	sess, err := cfg.Engines.Open(path, opts)
	if err != nil {
		return nil, err
	}
	p := &vaePart{path: path, shape: shape, sess: sess, mb: mb, oi: -1}
	for i, o := range sess.Outputs() {
		for _, n := range outs {
			if o.Name == n && p.oi < 0 {
				p.oi = i
			}
		}
	}
	if p.oi < 0 {
		p.close()
		return nil, fmt.Errorf("model %s has no output %v", filepath.Base(path), outs)
	}
	if bs, ok := sess.(engine.Buffers); ok {
		p.in, p.out = bs.InputBuffers(), bs.OutputBuffers()
	} else {
		p.in, p.out = engine.NewBuffers(sess.Inputs()), engine.NewBuffers(sess.Outputs())
	}
	return p, nil
}

// same reports whether the part is open for path and shape.
func (p *vaePart) same(path string, shape []int) bool {
	return p != nil && p.sess != nil && p.path == path && value.EqualShapes(p.shape, shape)
}

// vaeHandle reads the VAE handle of slot i.
func vaeHandle(a *args, i int) *SDVAE {
	s := a.spec(i)
	if s.Kind != value.Handle || s.Const == nil {
		a.errorf(i, "want a VAE known when the plan is built (from CheckpointLoaderSimple or VAELoader)")
		return nil
	}
	v, _ := s.Const.Handle.(*SDVAE)
	if v == nil {
		a.errorf(i, "want a VAE from CheckpointLoaderSimple or VAELoader, got %T", s.Const.Handle)
	}
	return v
}

type vaeEncode struct {
	base
	vae          *SDVAE
	part         *vaePart
	b, h, w, c   int
	hc, wc       int // cropped size
	yo, xo       int // crop offsets
	lc, lh, lw   int // latent channels used and size
	scale, shift float32
}

func newVAEEncode(cfg nodes.Config) (nodes.Kernel, error) { return &vaeEncode{base: base{cfg}}, nil }

// encodeGeometry checks the inputs and returns the cropped size.
func encodeGeometry(in []value.Spec) (v *SDVAE, b, h, w, c, hc, wc int, err error) {
	a := newArgs(in, "pixels", "vae")
	b, h, w, c = a.image(0)
	v = vaeHandle(a, 1)
	if err = a.Err(); err != nil {
		return
	}
	if c < 3 {
		return nil, 0, 0, 0, 0, 0, 0, fmt.Errorf("input pixels: %d channels, want 3", c)
	}
	hc, wc = h/8*8, w/8*8
	if hc == 0 || wc == 0 {
		return nil, 0, 0, 0, 0, 0, 0, fmt.Errorf("input pixels: %d×%d is smaller than the VAE's 8×8 latent pixel", w, h)
	}
	return v, b, h, w, c, hc, wc, nil
}

func (k *vaeEncode) Prepare(in []value.Spec) ([]value.Spec, error) {
	v, b, h, w, c, hc, wc, err := encodeGeometry(in)
	if err != nil {
		return nil, err
	}
	mb, err := partBatch(v.Enc, b)
	if err != nil {
		return nil, fmt.Errorf("vae encoder: %w", err)
	}
	if !k.part.same(v.VAE.Encoder, []int{mb, 3, hc, wc}) {
		k.part.close()
		if k.part, err = openVAEPart(k.cfg, v.VAE.Encoder, v.Enc, v.Opts, b, []int{3, hc, wc}, "latent_sample", "latent_parameters"); err != nil {
			return nil, fmt.Errorf("vae %q encoder: %w", v.VAE.Name, err)
		}
	}
	o := k.part.sess.Outputs()[k.part.oi]
	if len(o.Shape) != 4 || o.Shape[0] != k.part.mb || (o.Shape[1] != 4 && o.Shape[1] != 8) || o.Shape[2]*8 != hc || o.Shape[3]*8 != wc {
		k.part.close()
		return nil, fmt.Errorf("vae %q encoder: output %s for input %s; want [%d,4,%d,%d] (or 8 channels of latent_parameters)",
			v.VAE.Name, o, value.ShapeString(k.part.shape), k.part.mb, hc/8, wc/8)
	}
	k.vae, k.b, k.h, k.w, k.c, k.hc, k.wc = v, b, h, w, c, hc, wc
	k.yo, k.xo = (h%8)/2, (w%8)/2
	k.lc, k.lh, k.lw = o.Shape[1], o.Shape[2], o.Shape[3]
	k.scale, k.shift = 2, -1
	if v.VAE.TAESD {
		k.scale, k.shift = 1, 0
	}
	return []value.Spec{value.LatentSpec(b, 4, k.lh, k.lw)}, nil
}

func (k *vaeEncode) Run(in, out []value.Value) error {
	if k.part == nil || k.part.sess == nil {
		return errNotPrepared
	}
	if err := checkTensor(in[0], k.b*k.h*k.w*k.c, "pixels"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data, out[0].Tensor.Data
	pic, lat := k.hc*k.wc, k.lh*k.lw
	for b0 := 0; b0 < k.b; b0 += k.part.mb {
		x := k.part.in[0].Data
		for j := range k.part.mb {
			k.layoutIn(x[j*3*pic:(j+1)*3*pic], src[(b0+j)*k.h*k.w*k.c:(b0+j+1)*k.h*k.w*k.c])
		}
		if err := k.part.sess.Run(k.part.in, k.part.out); err != nil {
			return err
		}
		z := k.part.out[k.part.oi].Data
		inv := float32(1)
		if k.vae.VAE.TAESD {
			inv = float32(1 / k.vae.VAE.Scale)
		}
		for j := range k.part.mb {
			d := dst[(b0+j)*4*lat : (b0+j+1)*4*lat]
			s := z[j*k.lc*lat : j*k.lc*lat+4*lat]
			for i, v := range s {
				d[i] = v * inv
			}
		}
	}
	return nil
}

// layoutIn writes one cropped picture NCHW, mapped to the encoder's range.
// The rows and planes are sliced to their lengths first so that the
// compiler drops the per-element bounds checks.
func (k *vaeEncode) layoutIn(x, src []float32) {
	pic, wc, c := k.hc*k.wc, k.wc, k.c
	sc, sh := k.scale, k.shift
	r, g, b := x[:pic], x[pic:2*pic], x[2*pic:3*pic]
	for y := range k.hc {
		o := y * wc
		row := src[((y+k.yo)*k.w+k.xo)*c:][:wc*c]
		rr, gg, bb := r[o:o+wc], g[o:o+wc], b[o:o+wc]
		for i := range rr {
			p := row[i*c : i*c+3]
			rr[i] = p[0]*sc + sh
			gg[i] = p[1]*sc + sh
			bb[i] = p[2]*sc + sh
		}
	}
}

// Close releases the session.
func (k *vaeEncode) Close() error {
	err := k.part.close()
	k.part = nil
	return err
}

type vaeDecode struct {
	base
	vae        *SDVAE
	part       *vaePart
	b, lh, lw  int
	h, w       int
	scale      float32 // decoder input multiplier (TAESD: the latent scale)
	mul, shift float32 // output → 0..1
}

func newVAEDecode(cfg nodes.Config) (nodes.Kernel, error) { return &vaeDecode{base: base{cfg}}, nil }

func (k *vaeDecode) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "samples", "vae")
	s := a.spec(0)
	if s.Kind != value.Latent || len(s.Shape) != 4 {
		a.errorf(0, "want LATENT [B,C,H,W], got %s", s)
	}
	v := vaeHandle(a, 1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	b, c, lh, lw := s.Shape[0], s.Shape[1], s.Shape[2], s.Shape[3]
	if c != 4 {
		return nil, fmt.Errorf("input samples: %d latent channels; the VAE takes 4", c)
	}
	mb, err := partBatch(v.Dec, b)
	if err != nil {
		return nil, fmt.Errorf("vae decoder: %w", err)
	}
	if !k.part.same(v.VAE.Decoder, []int{mb, 4, lh, lw}) {
		k.part.close()
		if k.part, err = openVAEPart(k.cfg, v.VAE.Decoder, v.Dec, v.Opts, b, []int{4, lh, lw}, "sample"); err != nil {
			return nil, fmt.Errorf("vae %q decoder: %w", v.VAE.Name, err)
		}
	}
	o := k.part.sess.Outputs()[k.part.oi]
	if len(o.Shape) != 4 || o.Shape[0] != k.part.mb || o.Shape[1] != 3 || o.Shape[2] != 8*lh || o.Shape[3] != 8*lw {
		k.part.close()
		return nil, fmt.Errorf("input vae: vae %q decoder: output %s for latent %s; want [%d,3,%d,%d] (the decoder must upsample the latent 8×)",
			v.VAE.Name, o, value.ShapeString([]int{mb, 4, lh, lw}), k.part.mb, 8*lh, 8*lw)
	}
	k.vae, k.b, k.lh, k.lw, k.h, k.w = v, b, lh, lw, o.Shape[2], o.Shape[3]
	k.scale, k.mul, k.shift = 1, 0.5, 0.5
	if v.VAE.TAESD {
		k.scale, k.mul, k.shift = float32(v.VAE.Scale), 1, 0
	}
	return []value.Spec{value.ImageSpec(b, k.h, k.w)}, nil
}

func (k *vaeDecode) Run(in, out []value.Value) error {
	if k.part == nil || k.part.sess == nil {
		return errNotPrepared
	}
	lat := 4 * k.lh * k.lw
	if err := checkTensor(in[0], k.b*lat, "samples"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data, out[0].Tensor.Data
	pic := k.h * k.w
	for b0 := 0; b0 < k.b; b0 += k.part.mb {
		x := k.part.in[0].Data
		for i, v := range src[b0*lat : (b0+k.part.mb)*lat] {
			x[i] = v * k.scale
		}
		if err := k.part.sess.Run(k.part.in, k.part.out); err != nil {
			return err
		}
		y := k.part.out[k.part.oi].Data
		for j := range k.part.mb {
			k.layoutOut(dst[(b0+j)*pic*3:(b0+j+1)*pic*3], y[j*3*pic:(j+1)*3*pic])
		}
	}
	return nil
}

// layoutOut writes one decoded picture NHWC in 0..1 (sliced as layoutIn
// is, for the bounds checks).
func (k *vaeDecode) layoutOut(d, y []float32) {
	pic := k.h * k.w
	mul, sh := k.mul, k.shift
	r, g, b := y[:pic], y[pic:2*pic], y[2*pic:3*pic]
	g, b, d = g[:len(r)], b[:len(r)], d[:3*len(r)]
	for i, v := range r {
		q := d[3*i : 3*i+3]
		q[0] = clamp01(v*mul + sh)
		q[1] = clamp01(g[i]*mul + sh)
		q[2] = clamp01(b[i]*mul + sh)
	}
}

// Close releases the session.
func (k *vaeDecode) Close() error {
	err := k.part.close()
	k.part = nil
	return err
}

// vaeScratch is what a VAE part's session holds for an input of in
// elements and an output of out elements: its tensors and the runtime's
// working memory (modelActivationFactor of them).
func vaeScratch(in, out int64) int64 {
	t := addSat(mulSat(4, in), mulSat(4, out))
	return addSat(t, mulSat(modelActivationFactor, t))
}

// Scratch is the session Prepare would open.
func (k *vaeEncode) Scratch(in []value.Spec) (int64, error) {
	v, b, _, _, _, hc, wc, err := encodeGeometry(in)
	if err != nil || v == nil {
		return 0, nil
	}
	mb, err := partBatch(v.Enc, b)
	if err != nil {
		return 0, nil
	}
	pic := mulSat(int64(mb), int64(hc), int64(wc))
	return vaeScratch(mulSat(3, pic), pic/8), nil
}

// Scratch is the session Prepare would open.
func (k *vaeDecode) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "samples", "vae")
	s := a.spec(0)
	v := vaeHandle(a, 1)
	if a.Err() != nil || v == nil || s.Kind != value.Latent || len(s.Shape) != 4 {
		return 0, nil
	}
	mb, err := partBatch(v.Dec, s.Shape[0])
	if err != nil {
		return 0, nil
	}
	lat := mulSat(int64(mb), 4, int64(s.Shape[2]), int64(s.Shape[3]))
	return vaeScratch(lat, mulSat(lat, 3*64/4)), nil
}
