package executor

import (
	"runtime/debug"
	"time"

	"comfyrt/executor/media"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// runner is the plan goroutine's state; only that goroutine touches it.
type runner[P Plan[P]] struct {
	p           *Pipeline[P]
	pl          P
	hasIn       bool
	nOut        int
	w, h        int          // the plan's frame size
	in          value.Tensor // the frame as IMAGE [1,h,w,3]
	inPlace     inPlacePlan  // the plan, when in is its FrameBuffer
	consec      int          // consecutive failed frames
	passthrough bool
	ewma        float64 // expected plan time, ns
	lastStart   time.Time
	timed       timedPlan // the plan, when it reads frame times
	texts       textPlan  // the plan, when it may have text outputs
	ptsSeen     bool
	firstPTS    int64 // the PTS frame times count from
}

// planLoop runs frames through the plan until the input ends or the
// pipeline stops, then hands the plan back and closes outCh.
func (p *Pipeline[P]) planLoop() {
	defer p.stageDone()
	r := &runner[P]{p: p}
	r.setPlan(p.plan)
	defer func() {
		p.swapMu.Lock()
		p.planExited = true
		select {
		case np := <-p.swapCh:
			_ = np.Close()
		default:
		}
		p.swapMu.Unlock()
		p.adm.drain(p.put)
		p.plan = r.pl
		close(p.outCh)
	}()
	r.warmup()
	for {
		f := r.next()
		if f == nil {
			return
		}
		out := r.frame(f)
		if out == nil {
			continue
		}
		select {
		case p.outCh <- out:
		case <-p.ctx.Done():
			p.put(out)
			return
		}
	}
}

func (r *runner[P]) setPlan(pl P) {
	r.pl = pl
	r.timed, _ = any(pl).(timedPlan)
	r.texts, _ = any(pl).(textPlan)
	r.p.cfg.AudioTap.Set(pl)
	r.hasIn, r.nOut = pl.HasFrameInput(), pl.NumOutputs()
	r.w, r.h = 0, 0
	wasInPlace := r.inPlace != nil
	r.inPlace = nil
	if !r.hasIn {
		if wasInPlace {
			r.in = value.Tensor{} // the previous plan's buffer
		}
		return
	}
	if s := pl.FrameSpec(); len(s.Shape) == 4 {
		r.h, r.w = s.Shape[1], s.Shape[2]
	}
	shape := []int{1, r.h, r.w, 3}
	if ip, ok := any(pl).(inPlacePlan); ok {
		if fb := ip.FrameBuffer(); len(fb.Data) == r.w*r.h*3 && value.EqualShapes(fb.Shape, shape) {
			r.in, r.inPlace = fb, ip
			return
		}
	}
	if wasInPlace || len(r.in.Data) != r.w*r.h*3 || !value.EqualShapes(r.in.Shape, shape) {
		r.in = value.NewTensor(shape...) // not the previous plan's buffer
	}
}

// inPlacePlan is implemented by plans that take the frame in a buffer of
// their own (compiler.Plan): the frame is converted from RGB8 straight
// into it, which saves the plan copying it from r.in.
type inPlacePlan interface {
	// FrameBuffer is the plan's frame tensor, the same for its life.
	FrameBuffer() value.Tensor
	// RunFrameInPlace runs the per-frame steps on FrameBuffer's frame.
	RunFrameInPlace() error
}

// resize replaces the plan by one for w×h frames.
func (r *runner[P]) resize(w, h int) error {
	np, err := r.pl.Resize(w, h)
	if err != nil {
		return err
	}
	old := r.pl
	r.setPlan(np)
	_ = old.Close()
	return nil
}

// swap makes np the plan, at a frame boundary.
func (r *runner[P]) swap(np P) {
	old := r.pl
	r.setPlan(np)
	_ = old.Close()
	r.consec, r.passthrough = 0, false
	r.ewma = 0
	r.p.stats.passthrough.Store(false)
	r.p.stats.swaps.Add(1)
	r.p.emit(Event{Kind: EventSwapped, Frame: -1, PTS: media.NoPTS})
}

// next waits for a queued frame, taking plan swaps between frames; nil
// when the input has ended or the pipeline stops.
func (r *runner[P]) next() *media.Frame {
	p := r.p
	for {
		select {
		case np := <-p.swapCh:
			r.swap(np)
		default:
		}
		f, ended := p.adm.pop()
		if f != nil {
			if p.ctx.Err() != nil {
				p.put(f)
				return nil
			}
			return f
		}
		if ended {
			return nil
		}
		select {
		case <-p.adm.notify:
		case np := <-p.swapCh:
			r.swap(np)
		case <-p.ctx.Done():
			return nil
		}
	}
}

// warmup runs the static steps and the dummy frames at the stream's size.
func (r *runner[P]) warmup() {
	p := r.p
	t0 := p.now()
	info := p.info
	var err error
	if r.hasIn && info.Width > 0 && info.Height > 0 && (info.Width != r.w || info.Height != r.h) {
		err = r.resize(info.Width, info.Height)
	}
	if err == nil {
		err = r.pl.RunStatic()
	}
	if err != nil {
		r.warmError(err)
	} else {
		for i := 0; i < p.cfg.WarmupFrames && p.ctx.Err() == nil && r.nOut > 0; i++ {
			dummy(r.in.Data, uint32(i))
			t := p.now()
			r.setTime(nodes.FrameTime{Index: int64(i), Warmup: true})
			if err := r.run(); err != nil {
				r.warmError(err)
				continue
			}
			r.observe(p.now().Sub(t))
		}
	}
	d := p.now().Sub(t0)
	p.stats.warmup.Store(int64(d))
	p.emit(Event{Kind: EventWarmedUp, Frame: -1, PTS: media.NoPTS, Duration: d})
}

// warmError counts a warm-up failure; real frames retry (RunFrame runs the
// static steps again) and the failure policy applies to them.
func (r *runner[P]) warmError(err error) {
	ne := newNodeError(-1, err)
	r.p.stats.nodeErrs.Add(1)
	r.p.emit(Event{Kind: EventNodeError, Frame: -1, PTS: media.NoPTS, Err: ne})
}

// dummy fills a warm-up frame with pseudo-random values in [0,1), as
// ComfyStream's randn warm-up frames (but deterministic).
func dummy(d []float32, seed uint32) {
	x := seed*2654435761 + 1
	for i := range d {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		d[i] = float32(x>>8) / (1 << 24)
	}
}

func (r *runner[P]) observe(d time.Duration) {
	if r.ewma == 0 {
		r.ewma = float64(d)
	} else {
		r.ewma += ewmaWeight * (float64(d) - r.ewma)
	}
	r.p.stats.planEWMA.Store(int64(r.ewma))
}

// run runs the plan on r.in; a panic outside the kernels (a plan
// wrapper's) is contained like a kernel's.
func (r *runner[P]) run() (err error) {
	defer func() {
		if v := recover(); v != nil {
			st := debug.Stack()
			err = &nodes.PanicError{Kernel: "plan", Phase: "RunFrame", Value: v, Stack: st[:min(len(st), 8<<10)]}
		}
	}()
	if r.inPlace != nil {
		return r.inPlace.RunFrameInPlace()
	}
	return r.pl.RunFrame(r.in)
}

// frame processes one admitted frame and returns the frame to write (nil:
// dropped). f is consumed either way.
func (r *runner[P]) frame(f *media.Frame) *media.Frame {
	p := r.p
	now := p.now()
	if b := time.Duration(p.budget.Load()); b > 0 {
		exp := time.Duration(r.ewma)
		if r.passthrough || r.nOut == 0 {
			exp = 0
		}
		if now.Sub(f.Captured)+exp > b && now.Sub(r.lastStart) < budgetProbe {
			p.drop(f, DropBudget)
			return nil
		}
	}
	r.lastStart = now
	if r.passthrough || r.nOut == 0 {
		return f
	}
	if r.hasIn {
		if f.Width != r.w || f.Height != r.h {
			if err := r.resize(f.Width, f.Height); err != nil {
				return r.failed(f, err)
			}
		}
		value.FromRGB8(r.in.Data, f.RGB)
	}
	ft := r.frameTime(f)
	r.setTime(ft)
	err := r.run()
	r.observe(p.now().Sub(now))
	if err != nil {
		return r.failed(f, err)
	}
	r.emitTexts(ft)
	o := p.get()
	if err := toFrame(o, r.pl.Output(0)); err != nil {
		p.put(o)
		return r.failed(f, err)
	}
	o.PTS, o.TimeBase, o.Index, o.Captured = f.PTS, f.TimeBase, f.Index, f.Captured
	r.consec = 0
	p.put(f)
	return o
}

// failed applies the failure policy to f after err.
func (r *runner[P]) failed(f *media.Frame, err error) *media.Frame {
	p := r.p
	ne := newNodeError(f.Index, err)
	p.stats.nodeErrs.Add(1)
	p.emit(Event{Kind: EventNodeError, Frame: f.Index, PTS: f.PTS, Err: ne})
	r.consec++
	if k := p.cfg.MaxConsecutiveErrors; k > 0 && r.consec >= k && !r.passthrough {
		r.passthrough = true
		p.stats.passthrough.Store(true)
		p.emit(Event{Kind: EventPassthrough, Frame: f.Index, PTS: f.PTS, Err: ne})
	}
	if p.cfg.OnError == PassThrough {
		return f
	}
	p.drop(f, DropError)
	return nil
}

// to8 is value.ToRGB8 for one value.
func to8(x float32) byte {
	v := x * 255
	switch {
	case v >= 255:
		return 255
	case v > 0:
		return byte(v)
	}
	return 0
}

// toFrame writes the first picture of v (IMAGE [B,H,W,C] with C 3, 1 or 4,
// or MASK) into o as RGB24.
func toFrame(o *media.Frame, v value.Value) error {
	t := v.Tensor
	var h, w, c int
	switch v.Kind {
	case value.Image:
		var ok bool
		_, h, w, c, ok = value.ImageDims(t.Shape)
		if !ok || (c != 1 && c != 3 && c != 4) {
			return ErrOutput
		}
	case value.Mask:
		var ok bool
		_, h, w, ok = value.MaskDims(t.Shape)
		if !ok {
			return ErrOutput
		}
		c = 1
	default:
		return ErrOutput
	}
	n := w * h
	if len(t.Data) < n*c {
		return ErrOutput
	}
	o.Resize(w, h)
	switch c {
	case 3:
		value.ToRGB8(o.RGB, t.Data[:n*3])
	default:
		for i := 0; i < n; i++ {
			if c == 1 {
				g := to8(t.Data[i])
				o.RGB[3*i], o.RGB[3*i+1], o.RGB[3*i+2] = g, g, g
			} else {
				o.RGB[3*i], o.RGB[3*i+1], o.RGB[3*i+2] = to8(t.Data[4*i]), to8(t.Data[4*i+1]), to8(t.Data[4*i+2])
			}
		}
	}
	return nil
}
