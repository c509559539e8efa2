package builtin

import (
	"fmt"
	"slices"
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// The ControlNet side of the sampler's denoiser (see ControlNetApplyAdvanced
// in sd_controlnet.go). A ControlNet-enabled UNet takes diffusers'
// UNet2DConditionModel residual arguments, flattened as
// down_block_additional_residual_N and mid_block_additional_residual; the
// ControlNet gives them as down_block_res_sample_N and
// mid_block_res_sample. Sessions and tensors are bound once; per call the
// residuals are the ControlNet's outputs × strength (conditioning_scale =
// strength when the ControlNet takes one) for the groups whose entry has
// the control and σ in its range, zeros otherwise; a chain of controls
// (ControlNetApplyAdvanced on conditioning that had one) sums its
// controls' residuals, each with its own strength and range.

// Residual input name prefixes of a ControlNet-enabled UNet.
const (
	downResidual = "down_block_additional_residual_"
	midResidual  = "mid_block_additional_residual"
)

// cnRes is one residual input of the UNet.
type cnRes struct {
	name  string
	shape []int // one group's: [b,…]
	per   int   // values per group
	ui    int   // the UNet session's input index
}

// cnSess is one control's ControlNet session.
type cnSess struct {
	ctl            *SDControl
	sess           engine.Session
	in, out        []engine.Tensor
	si, ti, ei, ci int
	outs           []int // per residual: the output index
	hi, lo         float64
	mul            float32
	seen           uint64
	hintH, hintW   int
}

// cnRun holds the denoiser's ControlNets.
type cnRun struct {
	res     []cnRes
	nets    []*cnSess
	byGroup [][]int // per group: its chain's indices into nets, the oldest first
	runs    int     // ControlNet runs so far (for tests)
}

// residualName maps a UNet residual input to the ControlNet output.
func residualName(unetInput string) string {
	if rest, ok := strings.CutPrefix(unetInput, downResidual); ok {
		return "down_block_res_sample_" + rest
	}
	return "mid_block_res_sample"
}

func isResidual(name string) bool {
	return strings.HasPrefix(name, downResidual) || name == midResidual
}

// openControls opens a session per distinct control of the groups.
func (c *cnRun) openControls(cfg nodes.Config, d *unetDenoiser, u *SDUNet, shape []int) error {
	for _, t := range u.IO.Inputs {
		if isResidual(t.Name) {
			c.res = append(c.res, cnRes{name: t.Name, ui: -1})
		}
	}
	c.byGroup = make([][]int, len(d.groups))
	var ctls []*SDControl
	for g, e := range d.groups {
		if e.Control == nil {
			continue
		}
		for _, x := range e.Control.chain() {
			k := slices.Index(ctls, x)
			if k < 0 {
				k = len(ctls)
				ctls = append(ctls, x)
			}
			c.byGroup[g] = append(c.byGroup[g], k)
		}
	}
	if len(c.res) == 0 && !slices.ContainsFunc(ctls, func(x *SDControl) bool { return x.Strength != 0 }) {
		ctls = nil // strength 0 on a plain UNet: as no ControlNet
		clear(c.byGroup)
	}
	switch {
	case len(ctls) > 0 && len(c.res) == 0:
		return fmt.Errorf("input positive: a ControlNet is applied but the UNet %q has no residual inputs (%sN, %s): export the UNet with them", u.Name, downResidual, midResidual)
	case len(ctls) == 0 && len(c.res) > 0:
		return fmt.Errorf("input model: the UNet %q takes ControlNet residuals (%s): apply a ControlNet to the conditioning (ControlNetApplyAdvanced)", u.Name, c.res[0].name)
	}
	for _, ctl := range ctls {
		n, err := c.openNet(cfg, d, ctl, shape)
		if err != nil {
			c.close()
			return fmt.Errorf("control_net %q: %w", ctl.Net.Name, err)
		}
		c.nets = append(c.nets, n)
	}
	return nil
}

// openNet opens one ControlNet for a latent [b,4,h,w] and maps its
// outputs to the UNet's residual inputs.
func (c *cnRun) openNet(cfg nodes.Config, d *unetDenoiser, ctl *SDControl, shape []int) (*cnSess, error) {
	b, h, w := shape[0], shape[2], shape[3]
	n := &cnSess{ctl: ctl, si: -1, ti: -1, ei: -1, ci: -1, mul: float32(ctl.Strength), hintH: 8 * h, hintW: 8 * w, seen: ^uint64(0)}
	n.hi, n.lo = d.ms.PercentToSigma(ctl.Start), d.ms.PercentToSigma(ctl.End)
	opts := ctl.Net.Opts
	opts.Shapes = map[string][]int{}
	for _, t := range ctl.Net.IO.Inputs {
		switch t.Name {
		case "sample":
			opts.Shapes[t.Name] = []int{b, shape[1], h, w}
		case "timestep":
			if len(t.Shape) == 1 {
				opts.Shapes[t.Name] = []int{b}
			}
		case "encoder_hidden_states":
			opts.Shapes[t.Name] = []int{b, d.seqLen, d.dim}
		case "controlnet_cond":
			opts.Shapes[t.Name] = []int{b, 3, n.hintH, n.hintW}
		case "conditioning_scale":
			if len(t.Shape) == 1 {
				opts.Shapes[t.Name] = []int{1}
			}
		default:
			return nil, fmt.Errorf("input %s is not one comfyrt feeds (sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale)", t)
		}
	}
	sess, err := cfg.Engines.Open(ctl.Net.Path, opts)
	if err != nil {
		return nil, err
	}
	n.sess = sess
	if bs, ok := sess.(engine.Buffers); ok {
		n.in, n.out = bs.InputBuffers(), bs.OutputBuffers()
	} else {
		n.in, n.out = engine.NewBuffers(sess.Inputs()), engine.NewBuffers(sess.Outputs())
	}
	if err := c.bindNet(n, sess); err != nil {
		sess.Close()
		return nil, err
	}
	return n, nil
}

// bindNet finds the session's tensors and the residuals' shapes.
func (c *cnRun) bindNet(n *cnSess, sess engine.Session) error {
	for i, t := range sess.Inputs() {
		switch t.Name {
		case "sample":
			n.si = i
		case "timestep":
			n.ti = i
		case "encoder_hidden_states":
			n.ei = i
		case "controlnet_cond":
			n.ci = i
		case "conditioning_scale":
			for j := range n.in[i].Data {
				n.in[i].Data[j] = n.mul
			}
			n.mul = 1
		}
	}
	outs := sess.Outputs()
	for j := range c.res {
		r := &c.res[j]
		k := slices.IndexFunc(outs, func(t engine.TensorInfo) bool { return t.Name == residualName(r.name) })
		if k < 0 {
			return fmt.Errorf("the UNet takes %s; the ControlNet has no output %s (it gives %v)", r.name, residualName(r.name), outs)
		}
		if r.shape == nil {
			r.shape, r.per = slices.Clone(outs[k].Shape), value.NumElems(outs[k].Shape)
		} else if !value.EqualShapes(r.shape, outs[k].Shape) {
			return fmt.Errorf("output %s %v; another ControlNet of this sampler gives %v", outs[k].Name, outs[k].Shape, r.shape)
		}
		n.outs = append(n.outs, k)
	}
	return nil
}

// unetShape is the UNet's residual input shape for a call of mb rows.
func (c *cnRun) unetShape(name string, mb int) ([]int, bool) {
	i := slices.IndexFunc(c.res, func(r cnRes) bool { return r.name == name })
	if i < 0 || len(c.res[i].shape) == 0 {
		return nil, false
	}
	s := slices.Clone(c.res[i].shape)
	s[0] = mb
	return s, true
}

// bindUNet finds the residual inputs in the UNet session.
func (c *cnRun) bindUNet(ins []engine.TensorInfo) error {
	for j := range c.res {
		r := &c.res[j]
		r.ui = slices.IndexFunc(ins, func(t engine.TensorInfo) bool { return t.Name == r.name })
		if r.ui < 0 {
			return fmt.Errorf("UNet input %s missing from the session", r.name)
		}
	}
	return nil
}

// residuals fills the UNet's residual inputs for the call of groups
// g0… at σ (timestep t); sample is one group's x·c_in. Each group's are
// the sum over its chain (oldest first) of the controls whose strength is
// not 0 and whose range holds σ: outputs × strength added to the sum so
// far, as control_merge's prev + current.
func (c *cnRun) residuals(d *unetDenoiser, g0 int, sigma float64, t int, sample []float32) error {
	if len(c.res) == 0 {
		return nil
	}
	for g := range d.gpc {
		for _, r := range c.res {
			clear(d.in[r.ui].Data[g*r.per : (g+1)*r.per])
		}
		for _, k := range c.byGroup[g0+g] {
			n := c.nets[k]
			if n.ctl.Strength == 0 || sigma > n.hi || sigma < n.lo {
				continue
			}
			if err := n.run(d, g0+g, t, sample); err != nil {
				return fmt.Errorf("control_net %q: %w", n.ctl.Net.Name, err)
			}
			c.runs++
			for j, r := range c.res {
				dst, src := d.in[r.ui].Data[g*r.per:(g+1)*r.per], n.out[n.outs[j]].Data
				for i, v := range src {
					dst[i] += float32(v * n.mul) // rounded before the sum (no fused multiply-add)
				}
			}
		}
	}
	return nil
}

// run runs the ControlNet for group g: the hint laid out when the
// control's picture changed, the sample, timestep and the group's text.
func (n *cnSess) run(d *unetDenoiser, g, t int, sample []float32) error {
	if n.seen != n.ctl.Gen {
		hint := n.in[n.ci].Data
		per := 3 * n.hintH * n.hintW
		for b := range d.b {
			n.ctl.hintTo(hint[b*per:(b+1)*per], b, n.hintH, n.hintW)
		}
		n.seen = n.ctl.Gen
	}
	copy(n.in[n.si].Data, sample)
	if n.ti >= 0 {
		ts := &n.in[n.ti]
		for i := range ts.Int64 {
			ts.Int64[i] = int64(t)
		}
		for i := range ts.Data {
			ts.Data[i] = float32(t)
		}
	}
	rows := d.b * d.seqLen * d.dim
	copy(n.in[n.ei].Data, d.ehs[g*rows:(g+1)*rows])
	return n.sess.Run(n.in, n.out)
}

func (c *cnRun) close() {
	for _, n := range c.nets {
		n.sess.Close()
	}
	c.nets = nil
}
