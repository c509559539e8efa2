package builtin

import (
	"fmt"
	"slices"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/clip"
	"comfyrt/nodes/diffusion/streamdiff"
	"comfyrt/nodes/value"
)

// streamSampler is StreamDiffusionSampler: the prompt and the negative
// prompt are encoded once (at the first Run; a changed prompt is a changed
// node, so a fresh kernel), and per frame the picture is resized (nearest,
// as StreamDiffusion's image processor does with a tensor) to the stream's
// width×height, checked by the similar-image filter when it is on (a
// skipped frame repeats the previous output), VAE-encoded, noised at the
// first t_index, advanced one stream step (the UNet once with the
// denoising batch, len(t_index_list) times without) and the x₀ that comes
// out is VAE-decoded. The first frame first runs len(t_index_list)−1
// warm-up steps on itself, as the pack does, so that the batch is full
// and the first output is that frame's. txt2img starts each call from
// the stream's noise. The prompts are tokenized as the pack's diffusers
// encode_prompt tokenizes them (clip's TokenizePlain): the first 75
// tokens between start and end, padded to 77, no weighting — ComfyUI's
// "(cat:1.5)" syntax is plain text there — and the guidance rows of
// cfg_type full and initialize take the negative prompt encoded the same
// way (StreamDiffusion's prepare passes it as encode_prompt's
// negative_prompt; the pack always passes one, "" when empty).
//
// Differences from the pack that remain, by design:
//   - Warm-up: a change of the sampler's own inputs (prompt,
//     negative_prompt, num_inference_steps, guidance_scale, delta) makes a
//     fresh kernel, so the new stream warms its batch up again on its
//     first frame; the pack, after a prompt change, calls StreamDiffusion's
//     prepare again, which resets the latent buffer and the noise without
//     a warm-up (its next len(t_index_list)−1 outputs come from the zeroed
//     buffer).
//   - The LCM schedule's original_inference_steps (50) and
//     timestep_scaling (10) are fixed: LCMScheduler's defaults, which
//     StreamDiffusion gets when the checkpoint's scheduler config does not
//     set them (an SD1.5 or sd-turbo config does not); an export whose
//     scheduler config sets other values still runs with these.
type streamSampler struct {
	base
	st            *SDStream
	stream        *streamdiff.Stream
	filter        *streamdiff.Filter
	unet          *streamUNet
	model         streamdiff.Model
	enc           *vaeEncode
	dec           *vaeDecode
	pos, neg      *clipTextEncode
	encoded       bool
	warm          bool
	b, ih, iw, ic int
	h, w          int
	scale         float32
	resized       value.Value // IMAGE [1,H,W,3]
	latent        value.Value // LATENT [1,4,h/8,w/8]
	x0v           value.Value // LATENT, x₀ in the VAE's space
	decoded       value.Value // IMAGE [1,H,W,3], its data the output's
	vaeV          value.Value
	io1, io2      []value.Value
	xt, x0        []float32
	last          []float32 // the previous outputs (the filter repeats them)
}

func newStreamSampler(cfg nodes.Config) (nodes.Kernel, error) {
	return &streamSampler{base: base{cfg}}, nil
}

var streamSamplerInputs = []string{"stream_model", "prompt", "negative_prompt", "num_inference_steps", "guidance_scale", "delta", "image"}

type streamSamplerArgs struct {
	st            *SDStream
	prompt, neg   string
	steps         int
	guidance, dlt float64
	b, h, w, c    int
}

func readStreamSamplerArgs(in []value.Spec) (streamSamplerArgs, error) {
	a := newArgs(in, streamSamplerInputs...)
	var s streamSamplerArgs
	s.st = handleOf[*SDStream](a, 0, "STREAM_MODEL", "StreamDiffusionConfig")
	s.prompt, s.neg = a.str(1), a.str(2)
	s.steps, s.guidance, s.dlt = int(a.int(3)), a.float(4), a.float(5)
	if err := a.Err(); err != nil {
		return s, err
	}
	if !s.st.Txt2Img {
		if !a.present(6) {
			a.errorf(6, "img2img mode needs a picture (mode txt2img generates without one)")
		} else {
			s.b, s.h, s.w, s.c = a.image(6)
		}
	}
	if err := a.Err(); err != nil {
		return s, err
	}
	if s.c != 0 && s.c < 3 {
		return s, fmt.Errorf("input image: %d channels, want 3", s.c)
	}
	if s.b == 0 {
		s.b = 1
	}
	return s, nil
}

func (k *streamSampler) Prepare(in []value.Spec) ([]value.Spec, error) {
	s, err := readStreamSamplerArgs(in)
	if err != nil {
		return nil, err
	}
	k.close()
	st := s.st
	if p := st.UNet.Scheduler.PredictionType; p != "epsilon" {
		return nil, fmt.Errorf("input stream_model: the UNet's prediction_type is %s; StreamDiffusion's LCM step takes epsilon", p)
	}
	sched, err := streamdiff.NewSchedule(st.UNet.Scheduler.Betas(), streamdiff.DefaultOriginalSteps, s.steps, st.TIndex, 0)
	if err != nil {
		return nil, fmt.Errorf("input num_inference_steps: %w (with the stream model's t_index_list)", err)
	}
	lh, lw := st.Height/8, st.Width/8
	stream, err := streamdiff.New(streamdiff.Config{Schedule: sched, Latent: 4 * lh * lw, CFG: st.CFG, Guidance: s.guidance, Delta: s.dlt,
		AddNoise: st.Advanced.AddNoise, DenoisingBatch: st.Advanced.DenoisingBatch, Seed: st.Seed})
	if err != nil {
		return nil, err
	}
	k.st, k.stream, k.b, k.ih, k.iw, k.ic = st, stream, s.b, s.h, s.w, s.c
	if err := k.openParts(s); err != nil {
		k.close()
		return nil, err
	}
	if st.Advanced.Filter && !st.Txt2Img {
		// The filter compares the resized pictures (the stream's size).
		if k.filter, err = streamdiff.NewFilter(st.Advanced.FilterThreshold, st.Advanced.FilterMaxSkip, st.Seed, st.Height*st.Width*3); err != nil {
			k.close()
			return nil, fmt.Errorf("input stream_model: %w", err)
		}
	}
	k.xt, k.x0 = make([]float32, 4*lh*lw), make([]float32, 4*lh*lw)
	k.last = nil
	if k.filter != nil {
		k.last = make([]float32, k.b*k.h*k.w*3)
	}
	k.encoded, k.warm = false, false
	return []value.Spec{value.ImageSpec(k.b, k.h, k.w)}, nil
}

// openParts prepares the VAE and text encoders and opens the UNet.
func (k *streamSampler) openParts(s streamSamplerArgs) error {
	st := k.st
	k.vaeV = value.OfHandle(st.VAE)
	vaeSpec := handleSpecs(st.VAE)[0]
	k.enc = &vaeEncode{base: k.base}
	lat, err := k.enc.Prepare([]value.Spec{value.ImageSpec(1, st.Height, st.Width), vaeSpec})
	if err != nil {
		return fmt.Errorf("input stream_model: %w", err)
	}
	k.dec = &vaeDecode{base: k.base}
	pic, err := k.dec.Prepare([]value.Spec{lat[0], vaeSpec})
	if err != nil {
		return fmt.Errorf("input stream_model: %w", err)
	}
	k.h, k.w = pic[0].Shape[1], pic[0].Shape[2]
	k.resized = value.New(value.ImageSpec(1, st.Height, st.Width))
	k.decoded = value.OfTensor(value.Image, value.Tensor{Shape: pic[0].Shape}) // decoded into the output
	k.latent, k.x0v = value.New(lat[0]), value.New(lat[0])
	k.scale = float32(st.VAE.VAE.Scale)
	k.io1, k.io2 = make([]value.Value, 2), make([]value.Value, 1)
	clipSpec := handleSpecs(st.CLIP)[0]
	if k.pos, err = plainTextEncode(k.base, clipSpec, s.prompt); err != nil {
		return fmt.Errorf("input prompt: %w", err)
	}
	if slices.Contains(k.stream.Negative(), true) {
		if k.neg, err = plainTextEncode(k.base, clipSpec, s.neg); err != nil {
			return fmt.Errorf("input negative_prompt: %w", err)
		}
	}
	if k.unet, err = openStreamUNet(k.cfg, st.UNet, k.stream.Rows(), st.Height/8, st.Width/8, 77, k.pos.dim); err != nil {
		return fmt.Errorf("input stream_model: unet: %w", err)
	}
	k.model = k.unet.run
	return nil
}

// plainTextEncode prepares a text encoder for text tokenized as the
// pack's diffusers encode_prompt does (clip.TokenizePlain: 77 tokens, no
// weighting syntax, one row): a CLIPTextEncode prepared for one row whose
// row is then that text's.
func plainTextEncode(b base, clipSpec value.Spec, text string) (*clipTextEncode, error) {
	t := &clipTextEncode{base: b}
	if _, err := t.Prepare([]value.Spec{value.ConstSpec(value.OfString("")), clipSpec}); err != nil {
		return nil, err
	}
	c, err := t.tok.TokenizePlain(text, t.tokOpts)
	if err == nil && len(t.rows) != 1 {
		err = fmt.Errorf("the text encoder was prepared for %d rows, want 1", len(t.rows))
	}
	if err != nil {
		t.closeSession()
		return nil, err
	}
	t.chunks, t.rows = []clip.Chunk{c}, []clip.Chunk{c}
	return t, nil
}

// encodeText runs the text encoders once and binds the UNet's text.
func (k *streamSampler) encodeText() error {
	var pos, neg []float32
	for _, t := range []*clipTextEncode{k.pos, k.neg} {
		if t == nil {
			continue
		}
		if err := t.Run(nil, k.io2); err != nil {
			return err
		}
		e := t.cond.Entries[0]
		if t == k.pos {
			pos = e.Cond
		} else {
			neg = e.Cond
		}
	}
	k.unet.bindText(k.stream.Negative(), pos, neg)
	k.encoded = true
	return nil
}

func (k *streamSampler) Run(in, out []value.Value) error {
	if k.stream == nil || k.unet == nil {
		return errNotPrepared
	}
	if !k.encoded {
		if err := k.encodeText(); err != nil {
			return err
		}
	}
	if !k.st.Txt2Img {
		if err := checkTensor(in[6], k.b*k.ih*k.iw*k.ic, "image"); err != nil {
			return err
		}
	}
	pic := k.h * k.w * 3
	dst := out[0].Tensor.Data
	for j := range k.b {
		if err := k.frame(in, j, dst[j*pic:(j+1)*pic]); err != nil {
			return err
		}
	}
	return nil
}

// frame runs one picture of the batch through the stream into dst.
func (k *streamSampler) frame(in []value.Value, j int, dst []float32) error {
	var last []float32
	if k.filter != nil {
		n := k.h * k.w * 3
		last = k.last[j*n : (j+1)*n]
	}
	if k.st.Txt2Img {
		k.stream.Noise(k.xt)
	} else {
		img := in[6].Tensor.Data[j*k.ih*k.iw*k.ic : (j+1)*k.ih*k.iw*k.ic]
		pic := k.resized
		if k.ih == k.st.Height && k.iw == k.st.Width && k.ic == 3 {
			pic.Tensor.Data = img // the stream's size already: no copy
		} else {
			resizeNearest(pic.Tensor.Data, img, k.ih, k.iw, k.ic, k.st.Height, k.st.Width)
		}
		if k.filter != nil {
			keep, err := k.filter.Keep(pic.Tensor.Data, 2, -1)
			if err != nil {
				return fmt.Errorf("input image: %w", err)
			}
			if !keep {
				copy(dst, last)
				return nil
			}
		}
		k.io1[0], k.io1[1] = pic, k.vaeV
		k.io2[0] = k.latent
		if err := k.enc.Run(k.io1, k.io2); err != nil {
			return err
		}
		z := k.latent.Tensor.Data
		for i, v := range z {
			z[i] = v * k.scale
		}
		k.stream.Encode(z, k.xt)
	}
	if !k.warm && !k.st.Txt2Img {
		for range k.stream.Latency() {
			if err := k.stream.Step(k.xt, k.model, k.x0); err != nil {
				return err
			}
		}
	}
	k.warm = true
	if err := k.stream.Step(k.xt, k.model, k.x0); err != nil {
		return err
	}
	inv := 1 / k.scale
	for i, v := range k.x0 {
		k.x0v.Tensor.Data[i] = v * inv
	}
	k.io1[0], k.io1[1] = k.x0v, k.vaeV
	k.io2[0] = k.decoded
	k.io2[0].Tensor.Data = dst // decoded straight into the output
	if err := k.dec.Run(k.io1, k.io2); err != nil {
		return err
	}
	if k.filter != nil {
		copy(last, dst)
	}
	return nil
}

// resizeNearest scales an NHWC picture [h,w,c] to [oh,ow,3] as torch's
// interpolate (mode nearest): source index ⌊i·in/out⌋.
func resizeNearest(dst, src []float32, h, w, c, oh, ow int) {
	sy, sx := float32(h)/float32(oh), float32(w)/float32(ow)
	for y := range oh {
		yy := min(int(float32(y)*sy), h-1)
		for x := range ow {
			xx := min(int(float32(x)*sx), w-1)
			s := src[(yy*w+xx)*c:]
			d := dst[(y*ow+x)*3:]
			d[0], d[1], d[2] = s[0], s[1], s[2]
		}
	}
}

func (k *streamSampler) close() {
	for _, t := range []*clipTextEncode{k.pos, k.neg} {
		if t != nil {
			t.closeSession()
		}
	}
	if k.enc != nil {
		_ = k.enc.Close()
	}
	if k.dec != nil {
		_ = k.dec.Close()
	}
	k.unet.close()
	k.pos, k.neg, k.enc, k.dec, k.unet = nil, nil, nil, nil, nil
}

// Close releases the sessions.
func (k *streamSampler) Close() error {
	k.close()
	return nil
}

// Scratch is the sessions and buffers Prepare opens: the VAE parts and
// the UNet at the stream's rows, the text, the stream's latents.
func (k *streamSampler) Scratch(in []value.Spec) (int64, error) {
	s, err := readStreamSamplerArgs(in)
	if err != nil || s.st == nil {
		return 0, nil
	}
	st := s.st
	pic := int64(st.Width) * int64(st.Height) * 3
	lat := pic / 3 * 4 / 64
	rows := int64(2*len(st.TIndex) + 1)
	text := rows * 77 * 1024
	t := vaeScratch(pic, lat) + vaeScratch(lat, pic) + vaeScratch(rows*lat+text, rows*lat)
	buf := 4 * (3*pic + int64(s.b)*int64(max(s.h, 1))*int64(max(s.w, 1))*3 + 12*rows*lat + text)
	return addSat(t, buf), nil
}
