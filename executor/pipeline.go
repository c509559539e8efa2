package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"comfyrt/executor/media"
)

// Pipeline runs a plan on a stream; see the package documentation. Create
// it with New, then Start and Close (or Run); every method is safe for
// concurrent use.
type Pipeline[P Plan[P]] struct {
	cfg    Config[P]
	now    func() time.Time
	epoch  time.Time
	stats  counters
	budget atomic.Int64

	pool  chan *media.Frame
	adm   *admission
	outCh chan *media.Frame

	// swap hands plans from the actor to the plan goroutine.
	swapMu     sync.Mutex
	swapCh     chan P
	planExited bool

	ctrl chan request[P]
	quit chan struct{} // closed by Close once the stages have stopped

	ctx       context.Context
	cancel    context.CancelFunc
	stages    sync.WaitGroup // decode, plan, encode
	actor     sync.WaitGroup
	left      atomic.Int32 // stages still running
	finished  chan struct{}
	life      sync.Mutex // orders Start and Close
	started   atomic.Bool
	closing   bool
	closeOnce sync.Once
	closeErr  error

	errMu  sync.Mutex
	runErr error

	live atomic.Bool // an Auto stream found its source live

	plan P // the plan goroutine's, handed back when it exits
	info media.StreamInfo
}

type reqKind int

const (
	reqSwap reqKind = iota
	reqBudget
	reqStats
)

type request[P any] struct {
	kind   reqKind
	plan   P
	budget time.Duration
	reply  chan reply
}

type reply struct {
	err   error
	stats Stats
}

// New checks cfg and returns a pipeline that owns cfg's Source, Sink and
// Plan (Close closes them, also when Start is never called).
func New[P Plan[P]](cfg Config[P]) (*Pipeline[P], error) {
	switch {
	case cfg.Source == nil:
		return nil, fmt.Errorf("%w: no Source", ErrConfig)
	case cfg.Sink == nil:
		return nil, fmt.Errorf("%w: no Sink", ErrConfig)
	case IsNil(cfg.Plan):
		return nil, fmt.Errorf("%w: no Plan", ErrConfig)
	}
	if cfg.MaxFPS == 0 {
		cfg.MaxFPS = DefaultMaxFPS
	}
	if cfg.WarmupFrames == 0 {
		cfg.WarmupFrames = DefaultWarmupFrames
	}
	if cfg.MaxConsecutiveErrors == 0 {
		cfg.MaxConsecutiveErrors = DefaultMaxConsecutiveErrors
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Pipeline[P]{
		cfg: cfg, now: cfg.Now,
		pool:     make(chan *media.Frame, poolSize),
		adm:      newAdmission(cfg.Queue),
		outCh:    make(chan *media.Frame, outQueue),
		swapCh:   make(chan P, 1),
		ctrl:     make(chan request[P]),
		quit:     make(chan struct{}),
		finished: make(chan struct{}),
		plan:     cfg.Plan,
	}
	if cfg.Queue != Auto {
		p.budget.Store(int64(cfg.Budget)) // Auto: once the source is live
	}
	return p, nil
}

// IsNil reports a nil plan: a nil interface, or a nil pointer (map,
// slice, func, chan) inside one.
func IsNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return r.IsNil()
	}
	return false
}

// Start starts the goroutines; the stream runs until the source ends, a
// fatal error, ctx is done or Close.
func (p *Pipeline[P]) Start(ctx context.Context) error {
	p.life.Lock()
	defer p.life.Unlock()
	if p.closing {
		return ErrClosed
	}
	if !p.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	p.epoch = p.now()
	p.info = p.cfg.Source.Info()
	// Fill the pool with the frames a LatestWins stream can have in use
	// at once, at the stream's size, so that none is allocated later.
	for range inUse {
		f := new(media.Frame)
		if p.info.Width > 0 && p.info.Height > 0 {
			f.Resize(p.info.Width, p.info.Height)
		}
		p.pool <- f
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
	p.left.Store(3)
	p.stages.Add(3)
	go p.decodeLoop()
	go p.planLoop()
	go p.encodeLoop()
	p.actor.Add(1)
	go p.actorLoop()
	return nil
}

// Done is closed when the stream has ended (all stages stopped).
func (p *Pipeline[P]) Done() <-chan struct{} { return p.finished }

// Wait waits for the stream to end and returns why it ended early: a
// fatal source error or a sink error (nil at the end of the input or
// after Close).
func (p *Pipeline[P]) Wait() error {
	<-p.finished
	return p.Err()
}

// Err is the error that ended the stream, if any.
func (p *Pipeline[P]) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.runErr
}

func (p *Pipeline[P]) fail(err error) {
	p.errMu.Lock()
	if p.runErr == nil {
		p.runErr = err
	}
	p.errMu.Unlock()
}

// Run starts the pipeline, waits for the stream to end or ctx to be done,
// and closes it. It returns the stream's error, else ctx's.
func (p *Pipeline[P]) Run(ctx context.Context) error {
	if err := p.Start(ctx); err != nil {
		return err
	}
	select {
	case <-p.finished:
	case <-ctx.Done():
	}
	cerr := p.Close()
	if err := p.Err(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return cerr
}

// Close stops the stream (a pending ReadFrame is cancelled and the source
// closed), waits for every goroutine, answers pending control requests
// with ErrClosed, and closes the plan, the source and the sink.
func (p *Pipeline[P]) Close() error {
	p.closeOnce.Do(func() {
		var errs []error
		p.life.Lock()
		p.closing = true
		started := p.started.Load()
		p.life.Unlock()
		if started {
			p.cancel()
		}
		if err := p.cfg.Source.Close(); err != nil {
			errs = append(errs, fmt.Errorf("source: %w", err))
		}
		p.stages.Wait()
		close(p.quit)
		p.actor.Wait()
		if !started {
			close(p.finished)
		}
		closePlan := func() {
			if err := p.plan.Close(); err != nil {
				errs = append(errs, fmt.Errorf("plan: %w", err))
			}
		}
		if p.cfg.AudioTap == nil {
			closePlan()
		}
		// With an AudioTap the sink's flush still runs the plan's audio
		// path on the last audio: the plan closes after it.
		if err := p.cfg.Sink.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sink: %w", err))
		}
		if p.cfg.AudioTap != nil {
			closePlan()
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}

// stageDone marks one stage stopped; the last closes finished.
func (p *Pipeline[P]) stageDone() {
	if p.left.Add(-1) == 0 {
		close(p.finished)
	}
	p.stages.Done()
}

// get takes a frame buffer from the pool.
func (p *Pipeline[P]) get() *media.Frame {
	select {
	case f := <-p.pool:
		return f
	default:
		return new(media.Frame)
	}
}

// put returns a frame buffer to the pool.
func (p *Pipeline[P]) put(f *media.Frame) {
	select {
	case p.pool <- f:
	default:
	}
}

func (p *Pipeline[P]) emit(ev Event) {
	if p.cfg.Events == nil {
		return
	}
	ev.Time = p.now()
	select {
	case p.cfg.Events <- ev:
		return
	default:
	}
	// State changes (rare, and acted upon: a restart follows a
	// passthrough) wait a little for room; per-frame events never wait.
	switch ev.Kind {
	case EventPassthrough, EventSwapped, EventWarmedUp, EventFirstFrame, EventLive:
		t := time.NewTimer(stateEventWait)
		defer t.Stop()
		select {
		case p.cfg.Events <- ev:
			return
		case <-t.C:
		}
	}
	p.stats.eventsLost.Add(1)
}

// stateEventWait bounds how long a state-change event waits for room in
// Config.Events.
const stateEventWait = time.Second

func (p *Pipeline[P]) drop(f *media.Frame, r DropReason) {
	p.stats.dropped[r].Add(1)
	if p.cfg.Events != nil {
		p.emit(Event{Kind: EventDrop, Reason: r, Frame: f.Index, PTS: f.PTS})
	}
	p.put(f)
}

func (p *Pipeline[P]) since(t time.Time) int64 { return int64(t.Sub(p.epoch)) + 1 }

// decodeLoop reads frames and admits them.
func (p *Pipeline[P]) decodeLoop() {
	defer p.stageDone()
	defer p.adm.end()
	g := gate{}
	if p.cfg.MaxFPS > 0 {
		g.interval = 1 / p.cfg.MaxFPS
	}
	epoch := p.epoch.UnixNano()
	auto := p.cfg.Queue == Auto
	var meter liveMeter
	for {
		f := p.get()
		var t0 time.Time
		if auto {
			t0 = p.now()
		}
		err := p.cfg.Source.ReadFrame(p.ctx, f)
		if auto && err == nil && f.PTS != media.NoPTS && f.TimeBase.Den > 0 && f.TimeBase.Num > 0 {
			t := float64(f.PTS) * float64(f.TimeBase.Num) / float64(f.TimeBase.Den)
			if meter.add(t, p.now().Sub(t0)) {
				auto = false
				p.goLive(&g)
			}
		}
		if err != nil {
			p.put(f)
			if p.ctx.Err() != nil || errors.Is(err, io.EOF) {
				return
			}
			p.stats.sourceErrs.Add(1)
			p.emit(Event{Kind: EventSourceError, Frame: -1, PTS: media.NoPTS, Err: err})
			if media.IsFatal(err) {
				p.fail(fmt.Errorf("source: %w", err))
				return
			}
			continue
		}
		p.stats.in.Add(1)
		stamp(&p.stats.firstIn, &p.stats.lastIn, p.since(p.now()))
		if ok, why := g.admit(f, epoch); !ok {
			p.drop(f, why)
			continue
		}
		if old := p.adm.push(f, p.ctx.Done()); old == f {
			p.put(f) // shutting down while waiting for room (Block)
			return
		} else if old != nil {
			p.drop(old, DropQueue)
		}
	}
}

// goLive turns an Auto stream live: latest frame wins, the live
// frame-rate cap (unless MaxFPS set one) and the budget apply.
func (p *Pipeline[P]) goLive(g *gate) {
	p.adm.setPolicy(LatestWins, func(f *media.Frame) { p.drop(f, DropQueue) })
	if p.cfg.MaxFPS < 0 {
		switch fps := p.cfg.LiveMaxFPS; {
		case fps == 0:
			g.interval = 1.0 / DefaultMaxFPS
		case fps > 0:
			g.interval = 1 / fps
		}
	}
	p.budget.Store(int64(p.cfg.Budget))
	p.live.Store(true)
	p.emit(Event{Kind: EventLive, Frame: -1, PTS: media.NoPTS})
}

// encodeLoop writes the plan's frames.
func (p *Pipeline[P]) encodeLoop() {
	defer p.stageDone()
	failed := false
	for o := range p.outCh {
		if failed || p.ctx.Err() != nil {
			p.put(o)
			continue
		}
		if err := p.cfg.Sink.WriteFrame(o); err != nil {
			p.stats.sinkErr.Add(1)
			p.emit(Event{Kind: EventSinkError, Frame: o.Index, PTS: o.PTS, Err: err})
			p.fail(fmt.Errorf("sink: %w", err))
			failed = true
			p.cancel()
			p.put(o)
			continue
		}
		now := p.now()
		p.stats.mu.Lock()
		p.stats.lat.add(now.Sub(o.Captured))
		p.stats.mu.Unlock()
		if p.stats.out.Add(1) == 1 {
			d := now.Sub(p.epoch)
			p.stats.firstFrame.Store(int64(d))
			p.emit(Event{Kind: EventFirstFrame, Frame: o.Index, PTS: o.PTS, Duration: d})
		}
		stamp(&p.stats.firstOut, &p.stats.lastOut, p.since(now))
		p.put(o)
	}
}

// actorLoop serialises control requests until Close.
func (p *Pipeline[P]) actorLoop() {
	defer p.actor.Done()
	for {
		select {
		case r := <-p.ctrl:
			var rep reply
			switch r.kind {
			case reqSwap:
				rep.err = p.handOver(r.plan)
			case reqBudget:
				p.budget.Store(int64(r.budget))
			case reqStats:
				rep.stats = p.stats.snapshot()
			}
			r.reply <- rep
		case <-p.quit:
			return
		}
	}
}

// handOver queues np for the plan goroutine; a plan queued earlier and
// not taken yet is superseded and closed.
func (p *Pipeline[P]) handOver(np P) error {
	p.swapMu.Lock()
	defer p.swapMu.Unlock()
	if p.planExited {
		return ErrClosed
	}
	select {
	case old := <-p.swapCh:
		_ = old.Close()
	default:
	}
	p.swapCh <- np
	return nil
}

func (p *Pipeline[P]) call(ctx context.Context, r request[P]) (reply, error) {
	if !p.started.Load() {
		return reply{}, fmt.Errorf("executor: pipeline not started")
	}
	r.reply = make(chan reply, 1)
	select {
	case p.ctrl <- r:
	case <-p.quit:
		return reply{}, ErrClosed
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
	rep := <-r.reply // the actor answers every request it takes
	return rep, rep.err
}

// Swap hands np to the pipeline, which switches to it at the next frame
// boundary (Resize'd to the stream when needed) and closes the old plan.
// On nil the pipeline owns np; on an error the caller still does. A
// stream in passthrough after errors tries the new plan.
func (p *Pipeline[P]) Swap(ctx context.Context, np P) error {
	if IsNil(np) {
		return fmt.Errorf("%w: nil plan", ErrConfig)
	}
	_, err := p.call(ctx, request[P]{kind: reqSwap, plan: np})
	return err
}

// SetBudget changes the latency budget (0: none) from the next frame on.
func (p *Pipeline[P]) SetBudget(ctx context.Context, d time.Duration) error {
	_, err := p.call(ctx, request[P]{kind: reqBudget, budget: d})
	return err
}

// Snapshot asks the control actor for the stats.
func (p *Pipeline[P]) Snapshot(ctx context.Context) (Stats, error) {
	rep, err := p.call(ctx, request[P]{kind: reqStats})
	return rep.stats, err
}

// Stats returns the current stats; unlike Snapshot it also works before
// Start and after Close (final figures).
func (p *Pipeline[P]) Stats() Stats { return p.stats.snapshot() }
