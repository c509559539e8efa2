package compiler

import (
	"fmt"
	"slices"
	"sync/atomic"

	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// builder carries what Plan.build gathers while it places the steps: the
// steps by node id, signatures, what the previous plan offers for
// adoption, the nodes that failed (their dependants are skipped, not
// reported again), the memory budget and the diagnostics.
type builder struct {
	pl        *Plan
	prev      *Plan
	byID      map[string]*step
	sigs      map[string]string
	prevSigs  map[string]*step // prev's static steps by signature
	prevState map[string]*step // prev's stateful steps (time.go)
	adopted   []*step
	failed    map[string]bool
	bud       budget
	diags     diag.List
}

func (pl *Plan) build(prev *Plan) error {
	b := &builder{pl: pl, prev: prev, byID: map[string]*step{}, sigs: map[string]string{}, failed: map[string]bool{},
		bud: budget{max: pl.cfg.MaxBytes}, prevState: prevStateful(prev)}
	if prev != nil {
		b.prevSigs = map[string]*step{}
		for _, s := range prev.steps[:prev.nStatic] {
			b.prevSigs[s.sig] = s
		}
	}
	b.order()
	for _, s := range pl.steps {
		if tooLarge := b.place(s); tooLarge != nil {
			b.diags.Add(tooLarge)
			break
		}
	}
	pl.bytes = b.bud.total
	if len(b.diags) > 0 || pl.measure {
		return pl.discard(b.diags)
	}
	pl.layOut()
	b.handOver()
	return nil
}

// order makes the plan's steps: static ones, then per-frame ones, each in
// topological order, with the reasons classify and the audio clock give.
func (b *builder) order() {
	pl := b.pl
	order, elided := pl.elidePassThroughs(topoOrder(pl.typed))
	pl.rt.elided = elided
	var static, perFrame []*step
	for _, n := range order {
		s := &step{node: n, frameIn: n.Role == FrameInput, frameOut: n.Role == FrameOutput, audioIn: n.Role == AudioInput, audioOut: n.Role == AudioOutput}
		pl.classify(s, b.byID)
		// Steps on the audio input's clock run per chunk (compiler/audio.go).
		audio, err := audioClock(s, b.byID)
		if err != nil {
			b.diags.Add(pl.prepareDiag(n, "", err.Error()))
		}
		if audio != "" {
			s.reason, s.static, s.timeOnly = audio, false, false
		}
		b.byID[n.ID] = s
		if s.static {
			static = append(static, s)
		} else {
			perFrame = append(perFrame, s)
		}
	}
	pl.steps = append(static, perFrame...)
	pl.nStatic = len(static)
	pl.hasFrame = len(pl.typed.frameIns) > 0
	if pl.hasFrame {
		w, h := pl.cfg.frameSize()
		pl.frameSpec = value.ImageSpec(1, h, w)
	}
}

// fail records d and marks s's node failed.
func (b *builder) fail(s *step, d *diag.Diagnostic) {
	b.diags.Add(d)
	b.failed[s.node.ID] = true
}

// place gives s its input specs and a kernel: adopted from the previous
// plan, taken from the static cache, or made and prepared. It returns the
// plan_too_large diagnostic that stops the build, if s is where the
// budget runs out.
func (b *builder) place(s *step) *diag.Diagnostic {
	s.sig = signature(s.node, b.sigs, b.pl.cfg.InputDir)
	if !b.inputSpecs(s) {
		b.failed[s.node.ID] = true
		return nil
	}
	if b.reuse(s) {
		return b.pl.chargeOutputs(&b.bud, s)
	}
	return b.prepare(s)
}

// inputSpecs sets s's input specs and links; false when an upstream step
// failed or a link names an output its source does not have.
func (b *builder) inputSpecs(s *step) bool {
	n := s.node
	if s.frameIn {
		s.inSpecs = []value.Spec{b.pl.frameSpec}
		return true
	}
	ok := true
	s.inSpecs = make([]value.Spec, len(n.inputs))
	for i, in := range n.inputs {
		if !in.Linked {
			s.inSpecs[i] = in.spec()
			continue
		}
		up := b.byID[in.From]
		if up == nil || b.failed[in.From] {
			ok = false
			continue
		}
		if in.Slot < 0 || in.Slot >= len(up.outSpecs) {
			b.diags.Add(b.pl.prepareDiag(n, in.Name, fmt.Sprintf("input %s: %s has no output %d", in.Name, up.node, in.Slot)))
			ok = false
			continue
		}
		s.inSpecs[i] = up.outSpecs[in.Slot]
		s.links = append(s.links, link{slot: i, from: up, out: in.Slot})
	}
	return ok
}

// reuse gives s a kernel and outputs it need not prepare: the previous
// plan's unchanged static step (or the StaticCache entry it used), its
// stateful step, or this plan's StaticCache entry.
func (b *builder) reuse(s *step) bool {
	pl := b.pl
	if old := b.prevSigs[s.sig]; s.static && old != nil && specsEqual(old.inSpecs, s.inSpecs) {
		switch {
		case old.cached:
			// prev took it from a StaticCache: so does this plan.
			e := old.shared.Load()
			e.acquire()
			pl.useShared(s, e)
			return true
		case old.kernel.ownedBy(b.prev):
			s.kernel, s.outSpecs, s.out, s.done, s.adopted = old.kernel, old.outSpecs, old.out, old.done, true
			if e := old.shared.Load(); e != nil { // prev published it
				e.acquire()
				s.shared.Store(e)
			}
			s.in = make([]value.Value, len(s.inSpecs))
			b.adopted = append(b.adopted, s)
			return true
		}
	}
	if old := b.prevState[stateKey(s)]; !s.static && old != nil {
		adoptStateful(s, old)
		b.adopted = append(b.adopted, s)
		return true
	}
	if s.static && !s.frameIn && pl.cfg.Static != nil {
		if e := pl.cfg.Static.get(pl.staticKey(s)); e != nil {
			pl.useShared(s, e)
			return true
		}
	}
	return false
}

// prepare makes s's kernel, checks that it can play s's role, counts the
// scratch it declares, prepares it, and counts its outputs: each before
// a later kernel prepares with them as inputs.
func (b *builder) prepare(s *step) *diag.Diagnostic {
	pl, n := b.pl, s.node
	k, err := pl.cfg.Registry.New(nodes.Config{NodeID: n.ID, Class: n.Class, Widgets: cloneWidgets(pl.typed.widgetVals[n.ID]), InputDir: pl.cfg.InputDir,
		Engines: pl.cfg.Engines, ModelDir: pl.cfg.ModelDir, Engine: pl.cfg.Engine, Confined: pl.cfg.Confined,
		MaxImagePixels: pl.cfg.MaxImagePixels, FrameMask: pl.cfg.FrameMask})
	if err != nil {
		b.fail(s, pl.prepareErrDiag(n, err))
		return nil
	}
	s.kernel = &kref{k: k, owner: pl}
	if msg := roleMismatch(s, k); msg != "" {
		b.fail(s, pl.prepareDiag(n, "", msg))
		return nil
	}
	scratch, err := nodes.SafeScratch(k, slices.Clone(s.inSpecs))
	if err != nil {
		b.fail(s, pl.prepareErrDiag(n, err))
		return nil
	}
	if tooLarge := pl.chargeScratch(&b.bud, s, scratch); tooLarge != nil {
		return tooLarge
	}
	outSpecs, err := nodes.SafePrepare(k, slices.Clone(s.inSpecs))
	if err != nil {
		b.fail(s, pl.prepareErrDiag(n, err))
		return nil
	}
	if !s.frameOut && len(outSpecs) != len(n.outputs) {
		b.fail(s, pl.prepareDiag(n, "", fmt.Sprintf("kernel returned %d output specs, the class has %d outputs", len(outSpecs), len(n.outputs))))
		return nil
	}
	s.outSpecs = cloneSpecs(outSpecs)
	s.in = make([]value.Value, len(s.inSpecs))
	s.done = new(atomic.Bool)
	return pl.chargeOutputs(&b.bud, s)
}

// roleMismatch says why k cannot play s's role (frame input, frame
// output, audio step), or returns "".
func roleMismatch(s *step, k nodes.Kernel) string {
	if _, ok := k.(nodes.FrameInput); s.frameIn && !ok {
		return fmt.Sprintf("the kernel of %s cannot be bound as the frame input", s.node)
	}
	if _, ok := k.(nodes.FrameOutput); s.frameOut && !ok {
		return fmt.Sprintf("the kernel of %s is not a frame output", s.node)
	}
	return checkAudioKernel(s, k)
}

// discard closes what a failed (or measuring) build made and returns its
// diagnostics, sorted, or nil.
func (pl *Plan) discard(diags diag.List) error {
	for _, s := range pl.steps {
		if s.kernel != nil && !s.adopted {
			closeKernel(s.kernel.k)
		}
		if e := s.shared.Load(); e != nil {
			e.release()
		}
	}
	if len(diags) == 0 {
		return nil
	}
	sortDiags(diags)
	return diags
}

// layOut lays out a built plan for running: frame outputs and their
// sources, buffers, the static and per-frame run lists, the audio split,
// run hooks, and the input values that never change (literals, absent
// inputs) and those linked to upstream outputs.
func (pl *Plan) layOut() {
	for _, s := range pl.steps {
		if s.frameOut {
			pl.outs = append(pl.outs, s)
		}
	}
	slices.SortFunc(pl.outs, func(a, b *step) int { return compareIDs(a.node.ID, b.node.ID) })
	for _, o := range pl.outs {
		var src link
		for _, l := range o.links {
			if l.slot == 0 {
				src = l
			}
		}
		pl.outSrc = append(pl.outSrc, src)
	}
	pl.assignBuffers()
	for _, s := range pl.steps {
		switch {
		case s.frameOut:
		case s.static:
			pl.staticRun = append(pl.staticRun, s)
		default:
			pl.frameRun = append(pl.frameRun, s)
		}
	}
	pl.splitAudio()
	pl.bindRunHooks()
	for _, s := range pl.steps {
		if s.frameIn {
			continue
		}
		for i, in := range s.node.inputs {
			if !in.Linked && len(s.in) > i {
				s.in[i] = value.New(s.inSpecs[i])
			}
		}
		for _, l := range s.links {
			s.in[l.slot] = l.from.out[l.out]
		}
	}
}

// handOver gives the adopted kernels to the new plan.
func (b *builder) handOver() {
	if b.prev == nil {
		return
	}
	b.prev.mu.Lock()
	defer b.prev.mu.Unlock()
	for _, s := range b.adopted {
		s.kernel.mu.Lock()
		s.kernel.owner = b.pl
		s.kernel.mu.Unlock()
	}
}
