package builtin

import (
	"fmt"
	"math"
	"slices"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// ControlNetApplyAdvanced, as ComfyUI's nodes.py ControlNetApplyAdvanced
// and comfy/controlnet.py: the node attaches one control (the ControlNet,
// the hint picture, the strength and the start/end percents) to every
// entry of positive and negative (strength 0: the residuals are zeros and
// the ControlNet never runs; with a UNet without residual inputs the
// control is ignored, as ComfyUI returns the conditioning unchanged); the
// sampler's denoiser (unetDenoiser) runs the ControlNet before each UNet
// call whose σ lies in [percent_to_sigma(end), percent_to_sigma(start)],
// for the groups whose entry has the control, and feeds its outputs ×
// strength to the UNet's residual inputs (zeros for the other groups and
// outside the range). The hint (IMAGE [B,H,W,3], 0..1) is cropped to the
// latent's aspect and resized nearest-exact to the latent size ×8 (as
// ComfyUI's common_upscale with "center"), laid out NCHW when its Gen
// changes: once for a static picture, per frame for a frame-derived one
// (a depth map). The optional vae is not needed by ONNX ControlNets taking
// the picture.
//
// Chaining: applied to conditioning that already has a control, the new
// control's previous control is the entry's (ComfyUI's
// set_previous_controlnet; entries sharing a previous control share the
// new one, as its cnets dict), and the sampler sums the chain's residuals,
// each control with its own strength and σ range (control_merge: the
// newest's outputs × strength plus the previous chain's).

// maxControlChain bounds a chain of ControlNets on one conditioning.
const maxControlChain = 8

var controlNetApplyInputs = []string{"positive", "negative", "control_net", "image", "strength", "start_percent", "end_percent", "vae"}

// SDControl is a control attached to conditioning entries.
type SDControl struct {
	Net        *SDControlNet
	Strength   float64
	Start, End float64   // percents
	Image      []float32 // [B,H,W,3], filled by the node's Run
	B, H, W    int
	Gen        uint64 // counts the node's Runs
	// Prev is the control this one was chained onto (nil: none).
	Prev *SDControl
}

// chain lists c's controls, the oldest first.
func (c *SDControl) chain() []*SDControl {
	var out []*SDControl
	for x := c; x != nil; x = x.Prev {
		out = append(out, x)
	}
	slices.Reverse(out)
	return out
}

type controlNetApply struct {
	base
	ctl  *SDControl   // the settings and the hint buffer
	ctls []*SDControl // the controls made, one per previous control
	srcs [2]*SDConditioning
	outs [2]*SDConditioning
}

func newControlNetApply(cfg nodes.Config) (nodes.Kernel, error) {
	return &controlNetApply{base: base{cfg}}, nil
}

func (k *controlNetApply) readArgs(in []value.Spec) (*SDControl, [2]*SDConditioning, error) {
	a := newArgs(in, controlNetApplyInputs...)
	srcs := [2]*SDConditioning{condHandle(a, 0), condHandle(a, 1)}
	net := handleOf[*SDControlNet](a, 2, "CONTROL_NET", "ControlNetLoader")
	b, h, w, c := a.image(3)
	if c != 3 && c != 0 {
		a.errorf(3, "%d channels; a ControlNet hint is RGB (3)", c)
	}
	ctl := &SDControl{Net: net, Strength: a.float(4), Start: a.float(5), End: a.float(6), B: b, H: h, W: w}
	if !(ctl.Strength >= 0 && ctl.Strength <= 10) {
		a.errorf(4, "%v is not in 0..10", ctl.Strength)
	}
	for i, p := range []float64{ctl.Start, ctl.End} {
		if !(p >= 0 && p <= 1) {
			a.errorf(5+i, "%v is not in 0..1", p)
		}
	}
	if err := a.Err(); err != nil {
		return nil, srcs, err
	}
	for i, s := range srcs {
		for _, e := range s.Entries {
			if e.Control != nil && len(e.Control.chain()) >= maxControlChain {
				return nil, srcs, fmt.Errorf("input %s: %d ControlNets are already chained on it; at most %d", controlNetApplyInputs[i], len(e.Control.chain()), maxControlChain)
			}
		}
	}
	return ctl, srcs, nil
}

func (k *controlNetApply) Prepare(in []value.Spec) ([]value.Spec, error) {
	ctl, srcs, err := k.readArgs(in)
	if err != nil {
		return nil, err
	}
	k.srcs = srcs
	ctl.Image = make([]float32, ctl.B*ctl.H*ctl.W*3)
	k.ctl, k.ctls = ctl, nil
	byPrev := map[*SDControl]*SDControl{}
	for i, s := range srcs {
		o := &SDConditioning{}
		for _, e := range s.Entries {
			d := newCondEntry(e.Tokens, e.Dim, len(e.Pooled))
			if d.Control = byPrev[e.Control]; d.Control == nil {
				c := *ctl // the same settings and hint buffer
				c.Prev = e.Control
				d.Control, byPrev[e.Control] = &c, &c
				k.ctls = append(k.ctls, &c)
			}
			o.Entries = append(o.Entries, d)
		}
		k.outs[i] = o
	}
	return handleSpecs(k.outs[0], k.outs[1]), nil
}

func (k *controlNetApply) Run(in, out []value.Value) error {
	if k.outs[0] == nil {
		return errNotPrepared
	}
	if err := checkTensor(in[3], len(k.ctl.Image), "image"); err != nil {
		return err
	}
	copy(k.ctl.Image, in[3].Tensor.Data)
	for _, c := range k.ctls {
		c.Gen++
	}
	for i, s := range k.srcs {
		for j, e := range s.Entries {
			d := k.outs[i].Entries[j]
			copy(d.Cond, e.Cond)
			copy(d.Pooled, e.Pooled)
			d.Gen++
		}
	}
	out[0], out[1] = value.OfHandle(k.outs[0]), value.OfHandle(k.outs[1])
	return nil
}

// Scratch is the hint picture's copy and the entries' copies.
func (k *controlNetApply) Scratch(in []value.Spec) (int64, error) {
	ctl, srcs, err := k.readArgs(in)
	if err != nil {
		return 0, nil
	}
	n := mulSat(mulSat(int64(ctl.B), int64(ctl.H)), mulSat(int64(ctl.W), 3))
	for _, s := range srcs {
		for _, e := range s.Entries {
			n = addSat(n, int64(len(e.Cond)+len(e.Pooled)))
		}
	}
	return mulSat(n, 4), nil
}

// hintTo writes the control's picture (batch index b mod its batch) into
// dst [3,H,W] NCHW: centre-cropped to H:W's aspect, resized nearest-exact
// (ComfyUI's common_upscale(…, "nearest-exact", "center")).
func (c *SDControl) hintTo(dst []float32, b, H, W int) {
	b %= c.B
	x0, x1, y0, y1 := 0, c.W, 0, c.H
	oldA, newA := float64(c.W)/float64(c.H), float64(W)/float64(H)
	if oldA > newA {
		x := int(math.Round((float64(c.W) - float64(c.W)*(newA/oldA)) / 2))
		x0, x1 = x, c.W-x
	} else if oldA < newA {
		y := int(math.Round((float64(c.H) - float64(c.H)*(oldA/newA)) / 2))
		y0, y1 = y, c.H-y
	}
	sh, sw := y1-y0, x1-x0
	img := c.Image[b*c.H*c.W*3 : (b+1)*c.H*c.W*3]
	for i := range H {
		si := y0 + min(int(math.Floor((float64(i)+0.5)*float64(sh)/float64(H))), sh-1)
		for j := range W {
			sj := x0 + min(int(math.Floor((float64(j)+0.5)*float64(sw)/float64(W))), sw-1)
			p := (si*c.W + sj) * 3
			for ch := range 3 {
				dst[(ch*H+i)*W+j] = img[p+ch]
			}
		}
	}
}
