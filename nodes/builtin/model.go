package builtin

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// Model-backed kernels share imagePipeline: a session opened in Prepare for
// the frame's size, the frame resized (bilinear, torch's taps) to the
// model's input, normalised and laid out into the session's own input
// buffer, and the first output read from the session's output buffer,
// scaled, and resized back to the frame. Run allocates nothing.

// errNoEngine is returned by model-backed kernels when the CLI gave no
// engine provider.
var errNoEngine = errors.New("no inference engine: this build or configuration has no ONNX Runtime (build with cgo and run scripts/setup.sh)")

// Output scalings of an image model.
const (
	scaleClamp  = iota // clamp to 0..1
	scaleMinMax        // per picture (x−min)/(max−min)
	scaleNone          // as is (masks of probabilities)
)

// pipelineSpec is what a kernel asks of its pipeline.
type pipelineSpec struct {
	path       string
	opts       engine.Options
	b, h, w    int // frame
	mh, mw     int // model input size; 0 takes the model's fixed size
	nhwc, bgr  bool
	mean, std  [3]float32
	scale      int
	quantize   bool // round the scaled output to 8 bits (ComfyStream's uint8 depth)
	image      bool // produce an IMAGE
	mask       bool // produce a MASK
	defaultDim int  // model size when the model's dims are dynamic and mh/mw are 0
}

type imagePipeline struct {
	spec       pipelineSpec
	sess       engine.Session
	in, out    []engine.Tensor
	mb         int // model batch
	oc, oh, ow int // output channels and size
	outNHWC    bool
	down       *resampler // frame picture → model size (3 channels); nil when the sizes match
	sameIn     bool       // the model input has the frame's size: no resize in
	sameOut    bool       // the model output has the frame's size: no resize out
	small      []float32  // mh·mw·3
	post       []float32  // oh·ow·3 (image) or oh·ow (mask)
	up3, up1   *resampler
}

// close releases the session.
func (p *imagePipeline) close() error {
	if p == nil || p.sess == nil {
		return nil
	}
	err := p.sess.Close()
	p.sess = nil
	return err
}

// openPipeline opens the session and allocates every buffer.
func openPipeline(cfg nodes.Config, s pipelineSpec) (_ *imagePipeline, err error) {
	if cfg.Engines == nil {
		return nil, errNoEngine
	}
	p := &imagePipeline{spec: s}
	decl, _, err := cfg.Engines.Inspect(s.path)
	if err != nil {
		return nil, err
	}
	name, shape, err := s.modelInput(decl)
	if err != nil {
		return nil, err
	}
	p.mb = shape[0]
	opts := s.opts
	opts.Shapes = map[string][]int{name: shape}
	sess, err := cfg.Engines.Open(s.path, opts)
	if err != nil {
		return nil, err
	}
	p.sess = sess
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if len(sess.Inputs()) != 1 || len(sess.Outputs()) < 1 {
		return nil, fmt.Errorf("model %s has %d inputs and %d outputs; an image model has one input and at least one output",
			filepath.Base(s.path), len(sess.Inputs()), len(sess.Outputs()))
	}
	if bs, ok := sess.(engine.Buffers); ok {
		p.in, p.out = bs.InputBuffers(), bs.OutputBuffers()
	} else {
		p.in, p.out = ownBuffers(sess.Inputs()), ownBuffers(sess.Outputs())
	}
	if err := p.outputLayout(sess.Outputs()[0]); err != nil {
		return nil, err
	}
	mh, mw := shape[2], shape[3]
	if s.nhwc {
		mh, mw = shape[1], shape[2]
	}
	if err := p.resamplers(mh, mw); err != nil {
		return nil, err
	}
	return p, nil
}

// modelInput checks the model's declared input against the spec and
// returns its name and the shape to bind: the batch, and the height and
// width the node asks for, or the model's fixed ones, or the default.
func (s pipelineSpec) modelInput(decl []engine.TensorInfo) (string, []int, error) {
	base := filepath.Base(s.path)
	if len(decl) != 1 || len(decl[0].Shape) != 4 {
		return "", nil, fmt.Errorf("model %s: inputs %v; an image model has one input [N,C,H,W] or [N,H,W,C]", base, decl)
	}
	d := decl[0].Shape
	hi, wi, ci := 2, 3, 1
	if s.nhwc {
		hi, wi, ci = 1, 2, 3
	}
	if d[ci] >= 0 && d[ci] != 3 {
		return "", nil, fmt.Errorf("model %s: input %s has %d channels, want 3 (wrong layout?)", base, decl[0], d[ci])
	}
	pick := func(want, declared int, what string) (int, error) {
		switch {
		case want > 0 && declared > 0 && want != declared:
			return 0, fmt.Errorf("model %s: input %s has a fixed %s of %d, not %d", base, decl[0], what, declared, want)
		case want > 0:
			return want, nil
		case declared > 0:
			return declared, nil
		case s.defaultDim > 0:
			return s.defaultDim, nil
		}
		return 0, fmt.Errorf("model %s: input %s has a dynamic %s: set it on the node", base, decl[0], what)
	}
	mh, err := pick(s.mh, d[hi], "height")
	if err != nil {
		return "", nil, err
	}
	mw, err := pick(s.mw, d[wi], "width")
	if err != nil {
		return "", nil, err
	}
	mb := d[0]
	if mb <= 0 {
		mb = s.b
	}
	if mb != s.b && mb != 1 {
		return "", nil, fmt.Errorf("model batch %d does not fit a frame batch of %d", mb, s.b)
	}
	if s.nhwc {
		return decl[0].Name, []int{mb, mh, mw, 3}, nil
	}
	return decl[0].Name, []int{mb, 3, mh, mw}, nil
}

// resamplers allocates the model-size (mh×mw) picture and the resamplers
// between the frame's size and the model's input and output sizes.
func (p *imagePipeline) resamplers(mh, mw int) (err error) {
	s := p.spec
	p.sameIn, p.sameOut = mh == s.h && mw == s.w, p.oh == s.h && p.ow == s.w
	if !p.sameIn {
		if p.down, err = newResampler(methodBilinear, 1, s.h, s.w, 3, mh, mw, false); err != nil {
			return err
		}
	}
	p.small = make([]float32, mh*mw*3)
	if s.image {
		p.post = make([]float32, p.oh*p.ow*3)
		if !p.sameOut {
			if p.up3, err = newResampler(methodBilinear, 1, p.oh, p.ow, 3, s.h, s.w, false); err != nil {
				return err
			}
		}
	}
	if s.mask {
		if len(p.post) == 0 {
			p.post = make([]float32, p.oh*p.ow)
		}
		if !p.sameOut {
			if p.up1, err = newResampler(methodBilinear, 1, p.oh, p.ow, 1, s.h, s.w, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func ownBuffers(infos []engine.TensorInfo) []engine.Tensor {
	b := make([]engine.Tensor, len(infos))
	for i, in := range infos {
		b[i] = engine.Tensor{Name: in.Name, Tensor: value.NewTensor(in.Shape...)}
	}
	return b
}

// outputLayout reads the first output's channels and size: [N,C,H,W] (or
// [N,H,W,C] for NHWC models), [N,H,W] or [H,W].
func (p *imagePipeline) outputLayout(o engine.TensorInfo) error {
	s := o.Shape
	n := 1
	switch len(s) {
	case 4:
		n, p.oc, p.oh, p.ow = s[0], s[1], s[2], s[3]
		if p.spec.nhwc {
			n, p.oh, p.ow, p.oc = s[0], s[1], s[2], s[3]
			p.outNHWC = true
		}
	case 3:
		n, p.oc, p.oh, p.ow = s[0], 1, s[1], s[2]
	case 2:
		p.oc, p.oh, p.ow = 1, s[0], s[1]
	default:
		return fmt.Errorf("output %s: want [N,C,H,W], [N,H,W] or [H,W]", o)
	}
	if n != p.mb {
		return fmt.Errorf("output %s: batch %d, input batch %d", o, n, p.mb)
	}
	if p.oc != 1 && p.oc < 3 {
		return fmt.Errorf("output %s: %d channels; want 1 or at least 3", o, p.oc)
	}
	return nil
}

// run processes the frame batch into img (IMAGE [B,H,W,3]) and/or mask
// (MASK [B,H,W]); either may be nil.
func (p *imagePipeline) run(frame, img, mask []float32) error {
	s := &p.spec
	picIn, picModel := s.h*s.w*3, len(p.in[0].Data)/p.mb
	for b0 := 0; b0 < s.b; b0 += p.mb {
		for j := range p.mb {
			if p.sameIn {
				sameSizeBilinear(p.small, frame[(b0+j)*picIn:(b0+j+1)*picIn], s.w, 3)
			} else {
				p.down.run(p.small, frame[(b0+j)*picIn:(b0+j+1)*picIn])
			}
			p.layout(p.in[0].Data[j*picModel : (j+1)*picModel])
		}
		if err := p.sess.Run(p.in, p.out); err != nil {
			return err
		}
		picOut := len(p.out[0].Data) / p.mb
		for j := range p.mb {
			b := b0 + j
			o := p.out[0].Data[j*picOut : (j+1)*picOut]
			if img != nil {
				p.gather(o, 3)
				p.finish(p.post[:p.oh*p.ow*3])
				if p.sameOut {
					sameSizeBilinear(img[b*picIn:(b+1)*picIn], p.post[:p.oh*p.ow*3], s.w, 3)
				} else {
					p.up3.run(img[b*picIn:(b+1)*picIn], p.post[:p.oh*p.ow*3])
				}
				if s.quantize {
					quantize8(img[b*picIn : (b+1)*picIn])
				}
			}
			if mask != nil {
				p.gather(o, 1)
				p.finish(p.post[:p.oh*p.ow])
				m := mask[b*s.h*s.w : (b+1)*s.h*s.w]
				if p.sameOut {
					sameSizeBilinear(m, p.post[:p.oh*p.ow], s.w, 1)
				} else {
					p.up1.run(m, p.post[:p.oh*p.ow])
				}
				if s.quantize {
					quantize8(m)
				}
			}
		}
	}
	return nil
}

// sameSizeBilinear is the bilinear resampler from w·c-sample rows to rows
// of the same size, bit for bit, without its two passes. Its taps are then
// (1, 0) on x and y: the vertical pass is 1·v = v exactly, and the
// horizontal one accumulates (0 + 1·p) + 0·q, p the sample and q the next
// one in the row (p itself at the last column). That is p except that −0
// becomes +0 and a q of ±Inf or NaN makes NaN, so it is computed as such;
// for finite samples it is a copy. dst and src have the same length, a
// multiple of w·c.
func sameSizeBilinear(dst, src []float32, w, c int) {
	n := w * c
	dst = dst[:len(src)]
	var zero float32 // a variable, so that 0·q is not folded away
	for y := 0; y+n <= len(src); y += n {
		s, d := src[y:y+n:y+n], dst[y:y+n:y+n]
		last := n - c
		for i := 0; i < last; i++ {
			d[i] = (zero + s[i]) + zero*s[i+c]
		}
		for i := last; i < n; i++ {
			d[i] = (zero + s[i]) + zero*s[i]
		}
	}
}

// layout writes p.small (mh·mw RGB, 0..1) into one picture of the model
// input: channel order, (x−mean)/std, NCHW or NHWC.
func (p *imagePipeline) layout(dst []float32) {
	s := &p.spec
	n := len(p.small) / 3
	var src [3]int
	var scale, off [3]float32
	for c := range 3 {
		src[c] = c
		if s.bgr {
			src[c] = 2 - c
		}
		scale[c] = 1 / s.std[c]
		off[c] = -s.mean[c] / s.std[c]
	}
	if s.nhwc {
		for i := range n {
			px := p.small[3*i : 3*i+3 : 3*i+3]
			d := dst[3*i : 3*i+3 : 3*i+3]
			d[0] = px[src[0]]*scale[0] + off[0]
			d[1] = px[src[1]]*scale[1] + off[1]
			d[2] = px[src[2]]*scale[2] + off[2]
		}
		return
	}
	for c := range 3 {
		plane := dst[c*n : (c+1)*n]
		sc, of, k := scale[c], off[c], src[c]
		for i := range plane {
			plane[i] = p.small[3*i+k]*sc + of
		}
	}
}

// gather copies one output picture into p.post as HWC with k channels (3:
// the first three channels, or the one channel replicated; 1: channel 0).
func (p *imagePipeline) gather(o []float32, k int) {
	n := p.oh * p.ow
	post := p.post[:n*k]
	at := func(c, i int) float32 {
		if p.outNHWC {
			return o[i*p.oc+c]
		}
		return o[c*n+i]
	}
	if k == 1 || p.oc == 1 {
		for i := range n {
			v := at(0, i)
			for c := range k {
				post[i*k+c] = v
			}
		}
		return
	}
	for i := range n {
		post[3*i], post[3*i+1], post[3*i+2] = at(0, i), at(1, i), at(2, i)
	}
}

// finish scales one gathered picture in place.
func (p *imagePipeline) finish(v []float32) {
	switch p.spec.scale {
	case scaleClamp:
		for i, x := range v {
			v[i] = clamp01(x)
		}
	case scaleMinMax:
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, x := range v {
			lo, hi = min(lo, x), max(hi, x)
		}
		d := hi - lo
		for i, x := range v {
			if d > 0 {
				v[i] = (x - lo) / d
			} else {
				v[i] = 0
			}
		}
		if p.spec.quantize {
			// ComfyStream: (d−min)/(max−min)·255 cast to uint8 (truncated).
			for i, x := range v {
				v[i] = float32(int(x*255)) / 255
			}
		}
	}
}

// quantize8 rounds to the nearest 1/255, as an 8-bit resize result is.
func quantize8(v []float32) {
	for i, x := range v {
		v[i] = float32(math.Round(float64(clamp01(x))*255)) / 255
	}
}

// parseTriple reads "a,b,c" (or one number for all three).
func parseTriple(s string) ([3]float32, error) {
	var t [3]float32
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != 3 {
		return t, fmt.Errorf("%q: want three comma-separated numbers", s)
	}
	for i := range 3 {
		f, err := strconv.ParseFloat(strings.TrimSpace(parts[min(i, len(parts)-1)]), 32)
		if err != nil {
			return t, fmt.Errorf("%q: %v", s, err)
		}
		t[i] = float32(f)
	}
	return t, nil
}
