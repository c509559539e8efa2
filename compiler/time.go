package compiler

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// defaultFrameRate is the frame rate RunFrame assumes for the timestamps
// of frames given without a time (SetFrameTime, RunFrameAt).
const defaultFrameRate = 30

// planTime is a plan's state for frame times and text outputs, and the
// pass-through nodes it compiled to nothing.
type planTime struct {
	elided    []elidedNode // pass-through nodes compiled to nothing
	texts     []*step      // steps whose kernel is a nodes.TextOutput
	ftime     nodes.FrameTime
	ftimeSet  bool
	nextIndex int64
}

// elidedNode is a pass-through node the compiler removed (nodes.Traits
// PassThrough): its consumers read From's output Slot instead.
type elidedNode struct {
	node *Node
	from string
	slot int
}

// elidePassThroughs removes the pass-through nodes from order (a
// topological order) and returns the other nodes with every link to a
// removed node redirected to that node's input, and the removed nodes. A
// pass-through whose first input is not linked stays a step.
func (pl *Plan) elidePassThroughs(order []*Node) ([]*Node, []elidedNode) {
	alias := map[string]elidedNode{}
	var removed []elidedNode
	out := make([]*Node, 0, len(order))
	for _, n := range order {
		if pl.cfg.Registry.Traits(n.Class).PassThrough && len(n.inputs) > 0 && n.inputs[0].Linked {
			e := elidedNode{node: n, from: n.inputs[0].From, slot: n.inputs[0].Slot}
			if up, ok := alias[e.from]; ok { // a chain of pass-throughs
				e.from, e.slot = up.from, up.slot
			}
			alias[n.ID] = e
			removed = append(removed, e)
			continue
		}
		rewired := n
		for i, in := range n.inputs {
			e, ok := alias[in.From]
			if !in.Linked || !ok {
				continue
			}
			if rewired == n {
				c := *n
				c.inputs = append([]Input(nil), n.inputs...)
				rewired = &c
			}
			rewired.inputs[i].From, rewired.inputs[i].Slot = e.from, e.slot
		}
		out = append(out, rewired)
	}
	return out, removed
}

// classify decides whether s is static or per-frame and says why: a frame
// input, an input from a step that depends on the frame, a time-varying
// class (nodes.Traits), or an input from a step that is per-frame only
// because something upstream is time-varying.
func (pl *Plan) classify(s *step, byID map[string]*step) {
	n := s.node
	tr := pl.cfg.Registry.Traits(n.Class)
	s.stateful = tr.Stateful
	frameDep, timeDep := "", ""
	for _, in := range n.inputs {
		if !in.Linked {
			continue
		}
		up := byID[in.From]
		switch {
		case up == nil || up.static:
		case !up.timeOnly && frameDep == "":
			frameDep = fmt.Sprintf("input %s <- #%s (per-frame)", in.Name, in.From)
		case up.timeOnly && timeDep == "":
			timeDep = fmt.Sprintf("input %s <- #%s (per-frame: time-varying)", in.Name, in.From)
		}
	}
	switch {
	case s.frameIn:
		s.reason = "per-frame: frame input"
	case frameDep != "":
		s.reason = "per-frame: " + frameDep
	case tr.TimeVarying:
		s.reason = "per-frame: time-varying (" + n.Class + " changes every frame)"
		s.timeOnly = true
	case timeDep != "":
		s.reason = "per-frame: " + timeDep
		s.timeOnly = true
	default:
		s.static = true
		s.reason = "static: no input depends on the frame"
	}
}

// stateKey identifies a stateful node across a rebuild: its id, class,
// literal inputs and the node outputs its links come from (not their
// content: a change upstream does not reset its state), and its input
// specs.
func stateKey(s *step) string {
	var b strings.Builder
	b.WriteString(s.node.ID)
	b.WriteString("\x00")
	b.WriteString(s.node.Class)
	for _, in := range s.node.inputs {
		b.WriteString("\x00")
		b.WriteString(in.Name)
		switch {
		case in.Linked:
			b.WriteString("<-" + in.From + ":" + strconv.Itoa(in.Slot))
		case in.Literal != nil:
			fmt.Fprintf(&b, "=%T:%v", in.Literal, in.Literal)
		}
	}
	for _, sp := range s.inSpecs {
		b.WriteString("\x00")
		b.WriteString(sp.String())
	}
	return b.String()
}

// prevStateful indexes prev's stateful per-frame steps that prev still
// owns, by stateKey.
func prevStateful(prev *Plan) map[string]*step {
	if prev == nil {
		return nil
	}
	m := map[string]*step{}
	for _, s := range prev.steps[prev.nStatic:] {
		if s.stateful && s.kernel != nil && s.kernel.ownedBy(prev) {
			m[stateKey(s)] = s
		}
	}
	return m
}

// adoptStateful makes s take over old's kernel (and its state) without a
// new Prepare: the input specs are the same. Its buffers are s's own.
func adoptStateful(s, old *step) {
	s.kernel, s.outSpecs, s.adopted = old.kernel, cloneSpecs(old.outSpecs), true
	s.in = make([]value.Value, len(s.inSpecs))
	s.done = new(atomic.Bool)
}

// bindRunHooks records, for the per-frame steps, the kernels that read the
// frame's time and those that output text.
func (pl *Plan) bindRunHooks() {
	for _, s := range pl.frameRun {
		if c, ok := s.kernel.k.(nodes.Clocked); ok {
			s.clock = c
		}
	}
	for _, s := range pl.steps {
		if s.kernel == nil {
			continue
		}
		if _, ok := s.kernel.k.(nodes.TextOutput); ok {
			pl.rt.texts = append(pl.rt.texts, s)
		}
	}
}

// SetFrameTime sets the time of the frame the next RunFrame or
// RunFrameInPlace runs (once: the run after it uses its own count again).
// Without it a run's time is the next frame index and that index's
// timestamp at 30 frames per second.
func (pl *Plan) SetFrameTime(t nodes.FrameTime) {
	pl.rt.ftime, pl.rt.ftimeSet = t, true
}

// RunFrameAt is RunFrame for a frame of time t: the kernels that read the
// time (nodes.Clocked) get t, and a warm-up run (t.Warmup) skips the steps
// of stateful classes.
func (pl *Plan) RunFrameAt(frame value.Tensor, t nodes.FrameTime) error {
	pl.SetFrameTime(t)
	return pl.RunFrame(frame)
}

// takeFrameTime returns the time of the run starting now.
func (pl *Plan) takeFrameTime() nodes.FrameTime {
	t := pl.rt.ftime
	if !pl.rt.ftimeSet {
		t = nodes.FrameTime{Index: pl.rt.nextIndex, PTS: time.Duration(pl.rt.nextIndex) * time.Second / defaultFrameRate}
	}
	pl.rt.ftimeSet = false
	if !t.Warmup {
		pl.rt.nextIndex = t.Index + 1
	}
	return t
}

// TextOutputs calls f with the node id and text of each text output
// (nodes.TextOutput, ComfyStream's SaveTextTensor) that has text after the
// last run, in node order. It does not allocate.
func (pl *Plan) TextOutputs(f func(nodeID, text string)) {
	for _, s := range pl.rt.texts {
		if s.kernel == nil || (s.static && !s.done.Load()) {
			continue
		}
		if txt, ok := s.kernel.k.(nodes.TextOutput).Text(); ok {
			f(s.node.ID, txt)
		}
	}
}

// HasTextOutputs reports whether the plan has text outputs.
func (pl *Plan) HasTextOutputs() bool { return len(pl.rt.texts) > 0 }

// renderElided lists the pass-through nodes compiled to nothing.
func (pl *Plan) renderElided(b *strings.Builder, explain bool) {
	if len(pl.rt.elided) == 0 {
		return
	}
	b.WriteString("compiled to nothing:\n")
	for _, e := range pl.rt.elided {
		fmt.Fprintf(b, "  #%s %s%s -> #%s.%d\n", e.node.ID, e.node.Class, title(e.node), e.from, e.slot)
		if explain {
			fmt.Fprintf(b, "    why: pass-through: its output is its input %s, read from #%s directly (no step)\n", e.node.inputs[0].Name, e.from)
		}
	}
}
