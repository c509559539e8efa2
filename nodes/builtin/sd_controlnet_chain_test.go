package builtin

import (
	"math"
	"strings"
	"testing"

	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/value"
)

// cnImage2 is another hint picture [1,16,24,3].
func cnImage2() value.Value {
	v := value.New(value.ImageSpec(1, 16, 24))
	for i := range v.Tensor.Data {
		v.Tensor.Data[i] = float32(0.5 + 0.4*math.Cos(float64(i)*0.17))
	}
	return v
}

// chainCtl is one control of a chain for the reference.
type chainCtl struct {
	img        value.Value
	strength   float64
	start, end float64
	hint       []float32
	hi, lo     float64
}

// chainReference samples in plain Go with a chain of controls: each
// control in range adds its tiny ControlNet's residuals × strength.
func (s *cnSetup) chainReference(t *testing.T, steps int, cfg float64, ctls []*chainCtl) (out []float32, runs int) {
	t.Helper()
	ms := sampling.SD15()
	for _, c := range ctls {
		c.hint = cnHint(c.img)
		c.hi, c.lo = ms.PercentToSigma(c.start), ms.PercentToSigma(c.end)
	}
	out = s.cnSample(t, steps, cfg, cnLatent().Tensor.Data, func(in []float32, ts []float64, ehs []float32, sigma float64) []float32 {
		var down, mid []float32
		for _, c := range ctls {
			if sigma > c.hi || sigma < c.lo {
				continue
			}
			runs++
			d, m := s.cn.Reference(in, ts, ehs, c.hint, c.strength, 1, 4, 6, 77)
			if down == nil {
				down, mid = d, m
				continue
			}
			for i := range d {
				down[i] += d[i]
			}
			for i := range m {
				mid[i] += m[i]
			}
		}
		return s.un.ReferenceWithResiduals(in, ts, ehs, down, mid, 1, 4, 6, 77)
	})
	return out, runs
}

// TestControlNetChain: ControlNetApplyAdvanced applied to the outputs of
// another (ComfyStream's multi-ControlNet workflows) sums both controls'
// residuals, each with its own hint, strength and σ range; the sampler's
// result and its ControlNet runs match the plain-Go computation.
func TestControlNetChain(t *testing.T) {
	s := newCNSetup(t)
	a := &chainCtl{img: cnImage(), strength: 1.3, start: 0, end: 1}
	b := &chainCtl{img: cnImage2(), strength: 0.6, start: 0.5, end: 1}
	out := runPrepared(t, modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir), s.pos, s.neg, value.OfHandle(s.net), a.img,
		f64(a.strength), f64(a.start), f64(a.end), value.Value{})
	out = runPrepared(t, modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir), out[0], out[1], value.OfHandle(s.net), b.img,
		f64(b.strength), f64(b.start), f64(b.end), value.Value{})
	e := out[0].Handle.(*SDConditioning).Entries[0]
	if e.Control == nil || e.Control.Prev == nil || e.Control.Prev.Prev != nil || e.Control.Strength != 0.6 || e.Control.Prev.Strength != 1.3 {
		t.Fatalf("chain: %+v", e.Control)
	}
	if out[1].Handle.(*SDConditioning).Entries[0].Control != e.Control {
		t.Error("positive and negative, chained on the same control, do not share the new one")
	}
	before := s.runs("controlnet")
	got := s.sample(t, s.cnUNet, out[0], out[1], 4, 2.5)
	want, runs := s.chainReference(t, 4, 2.5, []*chainCtl{a, b})
	closeTo(t, "chained ControlNets", got, want, 1e-4)
	if n := s.runs("controlnet") - before; n != runs || runs <= 8 || runs >= 16 {
		t.Errorf("%d ControlNet runs, reference %d (A on every call, B on part of them)", n, runs)
	}
	single, _ := s.chainReference(t, 4, 2.5, []*chainCtl{a})
	if slicesEqual(want, single) {
		t.Error("the second control changed nothing")
	}
}

// TestControlNetChainLimit: at most maxControlChain controls chain on one
// conditioning; the next is refused naming the input.
func TestControlNetChainLimit(t *testing.T) {
	s := newCNSetup(t)
	pos, neg := s.pos, s.neg
	for range maxControlChain {
		out := runPrepared(t, modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir), pos, neg, value.OfHandle(s.net), cnImage(),
			f64(1), f64(0), f64(1), value.Value{})
		pos, neg = out[0], out[1]
	}
	in := []value.Value{pos, neg, value.OfHandle(s.net), cnImage(), f64(1), f64(0), f64(1), {}}
	_, err := modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir).Prepare(specsOf(in))
	if err == nil || !strings.Contains(err.Error(), "input positive") || !strings.Contains(err.Error(), "at most 8") {
		t.Errorf("got %v", err)
	}
}

// TestConditioningConcatKeepsControl: ConditioningConcat keeps
// conditioning_to's control and drops conditioning_from's, as ComfyUI
// copies conditioning_to's dict (ComfyStream's multi-ControlNet workflows
// concatenate two controlled conditionings); ConditioningZeroOut keeps the
// control.
func TestConditioningConcatKeepsControl(t *testing.T) {
	s := newCNSetup(t)
	a := runPrepared(t, modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir), s.pos, s.neg, value.OfHandle(s.net), cnImage(),
		f64(0.9), f64(0), f64(1), value.Value{})
	b := runPrepared(t, modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir), s.pos, s.neg, value.OfHandle(s.net), cnImage2(),
		f64(0.5), f64(0), f64(1), value.Value{})
	cat := runPrepared(t, modelKernel(t, "ConditioningConcat", s.cp, s.dir), a[0], b[0])[0].Handle.(*SDConditioning).Entries[0]
	if want := a[0].Handle.(*SDConditioning).Entries[0].Control; cat.Control != want || cat.Tokens != 154 {
		t.Errorf("concat: control %p (want conditioning_to's %p), %d tokens", cat.Control, want, cat.Tokens)
	}
	zero := runPrepared(t, modelKernel(t, "ConditioningZeroOut", s.cp, s.dir), b[0])[0].Handle.(*SDConditioning).Entries[0]
	if zero.Control != b[0].Handle.(*SDConditioning).Entries[0].Control {
		t.Error("zero out dropped the control")
	}
}
