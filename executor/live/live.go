// Package live is the executor-backed StreamRunner of comfyrt
// serve: it decodes a stream's input segments as one continuous MPEG-TS
// stream, runs the compiled workflow on every admitted frame with
// executor.Pipeline, encodes H.264 into MPEG-TS and cuts the output into
// segments that each start with an IDR (LIVEPEER.md §1.9, scenario 18).
//
// # Design
//
// Input: the input segments are consecutive pieces of one TS stream. A
// feeder goroutine copies each segment's bytes into a pipe that an
// av.Chain reads, so decoding runs across segment boundaries; empty,
// truncated and missing segments are skipped (the demuxer resynchronises
// on the next packets), and the input's end (EOF) closes the pipe, which
// ends the stream cleanly. Where the input's program changes (a publisher
// restarted with other TS PIDs, another PMT or another codec) the chain
// opens a fresh demuxer and decoder on the new program. Timestamps are
// made strictly increasing across input discontinuities
// (media.NewMonotonic).
//
// Output: one av sink encodes continuously into a second pipe, with a
// keyframe forced every SegmentDuration of PTS (keySink). A splitter
// goroutine reads the TS packets with executor/media/mpegts (PAT, PMT,
// then the video PID's PES starts with random_access_indicator) and starts
// a new output segment at every keyframe, led by the PAT and PMT. Output PTS are the input's, so
// they stay monotonic across segments and across workflow swaps; the
// input's audio is copied through when there is any.
//
// Workflows: Prepare compiles (graph.Load + compiler.Compile at the
// params' size). The stream starts its executor with an empty plan, which
// passes the frames through, and a loader goroutine prepares each
// workflow off the frame path (rebuilt at the stream's size adopting the
// running plan's unchanged static steps, static steps run, one warm-up
// frame) before handing it to the executor, which swaps it in at a frame
// boundary. While a workflow loads the previous one keeps running, so the
// output never stops (scenario 15); while the first one loads the stream
// shows a flat grey loading frame (ai-runner's show_reloading_frame, the
// default) or passes the input through (show_reloading_frame false).
//
// Failures inside the stream that do not end it (a workflow whose static
// steps or warm-up fail while it loads, the executor falling back to
// passthrough after repeated frame errors) are reported to the session
// through StreamIO.OnError, which makes them error events.
//
// Restarts: when the executor falls back to passthrough, the stream
// restarts its workflow as ai-runner's process guardian restarts its
// pipeline: after RestartDelay it compiles the same workflow afresh (new
// kernels, nothing adopted from the failed plan; static results that are
// plain data may still come from compiler.Config.Static, which only holds
// results of steps that ran without error),
// loads it and swaps it in, and reports the restart (StreamIO.OnRestart:
// the restart event and the status event's restart fields) with the last
// errors as its logs. At most MaxRestarts times per workflow; then the
// stream passes its input through until the next params update, which
// starts the count again.
//
// # Goroutines
//
// A stream runs serve (source, sink, executor), a feeder, a splitter, a
// loader, an events goroutine and restart timers. Its state (the queued
// and initial workflows, the executor, the running workflow and its
// restart counts, the loading flag) belongs to one owner goroutine
// (stream.own); the others send it commands (stream.do) and never share
// the state otherwise, as the server's sessions and the executor's control
// actor do. The owner stops after serve returned, releasing the workflows
// that never ran; a command sent after that reports that the stream ended.
//
// # Imports
//
// executor/live sits beside the executor: it may import executor,
// executor/media (and its av back end), compiler, graph (to load
// workflows), graph/diag and nodes; never internal/server or cmd/...
// The HTTP server imports it for the stream contract (contract.go).
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	assemble "comfyrt/executor/stream"
	"comfyrt/graph"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// Runner runs streams on the executor. Its fields are read only; it is
// safe for concurrent use.
type Runner struct {
	// Compiler is the compile configuration (schemas, registry, engines);
	// Width and Height are taken from each stream's params.
	Compiler compiler.Config
	// SegmentDuration is the output segment (and GOP) length (default
	// 2 s, as ai-runner's GOP_SECS).
	SegmentDuration time.Duration
	// MaxFPS caps the processed frame rate (default executor's, 24).
	MaxFPS float64
	// Budget is the executor's latency budget (0: none).
	Budget time.Duration
	// Encoder and Preset of the H.264 encoder (av's defaults: libx264,
	// superfast, zerolatency).
	Encoder, Preset string
	// Threads is each stream's thread count for its decoder, its two
	// swscale conversions and its encoder (0: FFmpeg's choice, about one
	// per CPU each, which many streams multiply).
	Threads int
	// RestartDelay is the wait before a workflow that fell back to
	// passthrough is restarted (default 2 s).
	RestartDelay time.Duration
	// MaxRestarts is the number of restarts of one workflow before the
	// stream gives up until the next update (0: 3, ai-runner's; negative:
	// never restart).
	MaxRestarts int
	// StaticTimeout bounds a workflow's load: its static steps and its
	// warm-up frame (default 60 s). A first workflow that overruns it ends
	// the stream with an error; an update that does is rejected and the
	// running workflow stays.
	StaticTimeout time.Duration
	// LoadDelay delays every workflow load by this much before its static
	// steps (a slow load, as a large model's; 0: none).
	LoadDelay time.Duration
	// Logger receives the streams' structured logs, each with the stream
	// id as the "stream" attribute (nil: quiet, a discard logger).
	Logger *slog.Logger
}

func (r *Runner) staticTimeout() time.Duration {
	if r.StaticTimeout > 0 {
		return r.StaticTimeout
	}
	return 60 * time.Second
}

// abandoned counts the load goroutines still running after their stream
// gave up on them (the static timeout, or the stream closing): a kernel
// cannot be interrupted, so the goroutine runs to its end in the
// background, holding a CPU and its plan, which it then closes.
var abandoned atomic.Int64

// Abandoned is the number of workflow loads (static steps or warm-up)
// that streams gave up on and that still run in the background.
func Abandoned() int64 { return abandoned.Load() }

// ErrStaticTimeout: a workflow's static steps and warm-up did not finish
// within Runner.StaticTimeout.
var ErrStaticTimeout = errors.New("the workflow's static steps and warm-up did not finish in time")

func (r *Runner) restartDelay() time.Duration {
	if r.RestartDelay > 0 {
		return r.RestartDelay
	}
	return 2 * time.Second
}

func (r *Runner) maxRestarts() int {
	switch {
	case r.MaxRestarts < 0:
		return 0
	case r.MaxRestarts == 0:
		return 3
	}
	return r.MaxRestarts
}

var _ StreamRunner = (*Runner)(nil)

// log is the runner's logger (a discard one when Logger is nil).
func (r *Runner) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

// prepared is a compiled workflow waiting to run.
type prepared struct {
	mu     sync.Mutex
	plan   *compiler.Plan
	prompt *graph.Prompt
	cfg    compiler.Config
	// showLoading: show a loading frame while the stream's first workflow
	// loads (show_reloading_frame).
	showLoading bool
	// restart: a fresh compile of the running workflow after it failed
	// (loaded without adopting anything from the running plan).
	restart     int // the stream's restart count it makes, 0 for updates
	restartLogs []string
	gen         uint64 // stream.gen when the restart was scheduled
}

func (p *prepared) Close() error {
	p.mu.Lock()
	pl := p.plan
	p.plan = nil
	p.mu.Unlock()
	if pl != nil {
		return pl.Close()
	}
	return nil
}

// take hands the plan over (nil when already closed).
func (p *prepared) take() *compiler.Plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	pl := p.plan
	p.plan = nil
	return pl
}

// Prepare compiles the params' workflow at their frame size. Errors are
// diag.Lists where the compiler gives them.
func (r *Runner) Prepare(_ context.Context, p Params) (Prepared, error) {
	cfg := r.Compiler
	wf, diags := graph.Load("params.prompt", p.Workflow, graph.Options{Schemas: cfg.Schemas})
	if wf == nil || wf.Prompt == nil || diags.HasErrors() {
		return nil, diags
	}
	cfg.Width, cfg.Height = p.Width, p.Height
	pl, err := compiler.Compile(wf.Prompt, cfg)
	if err != nil {
		return nil, err
	}
	return &prepared{plan: pl, prompt: wf.Prompt, cfg: cfg, showLoading: p.ShowReloadingFrame}, nil
}

// Check loads and compiles the params' workflow at their frame size and
// releases the plan at once (the passthrough runner's check, and serve's
// check of its default workflow). Errors are Prepare's.
func (r *Runner) Check(ctx context.Context, p Params) error {
	pp, err := r.Prepare(ctx, p)
	if err != nil {
		return err
	}
	return pp.Close()
}

// Open starts the stream; it returns at once.
func (r *Runner) Open(_ context.Context, sio StreamIO, first Prepared) (Stream, error) {
	fp, ok := first.(*prepared)
	if !ok {
		first.Close()
		return nil, fmt.Errorf("live: workflow not prepared by this runner (%T)", first)
	}
	w, h := sio.Width, sio.Height
	if w <= 0 || h <= 0 {
		w, h = compiler.DefaultWidth, compiler.DefaultHeight
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{r: r, io: sio, w: w, h: h, ctx: ctx, cancel: cancel, showLoading: fp.showLoading,
		done: make(chan struct{}), notify: make(chan struct{}, 1),
		cmds: make(chan func(*state)), quit: make(chan struct{}), ownerDone: make(chan struct{})}
	s.audio = firstAudioTap(fp.plan)
	s.segDur = r.SegmentDuration
	if s.segDur <= 0 {
		s.segDur = 2 * time.Second
	}
	s.notify <- struct{}{}
	go s.own(&state{queued: fp, loading: true})
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// stream is one running stream.
type stream struct {
	r      *Runner
	io     StreamIO
	w, h   int
	segDur time.Duration
	// showLoading: loading frames instead of the passthrough until the
	// first workflow runs.
	showLoading bool
	// audio runs the workflows' audio path on the input's audio, when the
	// first workflow has one (audio.go).
	audio *executor.AudioTap

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
	err    error // set before done closes

	notify chan struct{} // a workflow is queued
	// loadErr is set when the first workflow did not load (the static
	// timeout): the stream ends with it.
	loadErr atomic.Pointer[error]

	// The owner goroutine (own) holds the stream's state; every other
	// goroutine (the caller of Swap and Stats, serve, the loader, the
	// events goroutine, restart timers) reads and changes it through do.
	cmds      chan func(*state)
	quit      chan struct{} // closed by run when serve returned: the owner stops
	ownerDone chan struct{} // closed when the owner stopped
	// finalPipe is the executor when the owner stopped (Stats after the
	// end); written by the owner before ownerDone closes.
	finalPipe *executor.Pipeline[*livePlan]
}

// state is a stream's state, owned by its owner goroutine (stream.own).
type state struct {
	loading bool                          // a workflow (re)loads
	queued  *prepared                     // the next workflow to load
	initial *compiler.Plan                // loaded before the executor started
	pipe    *executor.Pipeline[*livePlan] // nil until the source opened
	ended   bool                          // no more swaps
	// The running workflow's source (for restarts), the restarts it had
	// and the stream's restart count.
	curPrompt *graph.Prompt
	curCfg    compiler.Config
	tries     int
	restarts  int
	gaveUp    bool
	// gen counts params updates (Swap): a restart scheduled before one is
	// dropped. swapping counts plans handed to the executor whose
	// EventSwapped has not come yet: a passthrough meanwhile was the plan
	// being replaced, which is not restarted.
	gen      uint64
	swapping int
}

// release closes the workflows that will not run any more.
func (st *state) release() {
	if st.queued != nil {
		st.queued.Close()
		st.queued = nil
	}
	if st.initial != nil {
		st.initial.Close()
		st.initial = nil
	}
}

// own is the stream's owner goroutine: it runs the commands sent by do,
// one at a time, until run closes quit (serve returned); then it releases
// the workflows still queued and stops.
func (s *stream) own(st *state) {
	defer close(s.ownerDone)
	for {
		select {
		case f := <-s.cmds:
			f(st)
		case <-s.quit:
			st.ended = true
			st.loading = false
			st.release()
			s.finalPipe = st.pipe
			return
		}
	}
}

// do runs f on the owner goroutine and waits for it. It reports false
// (f not run) when the owner has stopped: the stream ended.
func (s *stream) do(f func(*state)) bool {
	ack := make(chan struct{})
	select {
	case s.cmds <- func(st *state) { f(st); close(ack) }:
		<-ack
		return true
	case <-s.ownerDone:
		return false
	}
}

func (s *stream) Swap(_ context.Context, p Prepared) error {
	pp, ok := p.(*prepared)
	if !ok {
		p.Close()
		return fmt.Errorf("live: workflow not prepared by this runner (%T)", p)
	}
	ended := true
	s.do(func(st *state) {
		if st.ended {
			return
		}
		ended = false
		if st.queued != nil {
			st.queued.Close() // superseded before it loaded
		}
		st.queued = pp
		st.gen++
		st.loading = true
	})
	if ended {
		pp.Close()
		return errors.New("live: the stream ended")
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (s *stream) Stats() StreamStats {
	var p *executor.Pipeline[*livePlan]
	var loading bool
	if !s.do(func(st *state) { p, loading = st.pipe, st.loading }) {
		p = s.finalPipe // the owner stopped: ownerDone is closed
	}
	st := StreamStats{Loading: loading}
	if p != nil {
		es := p.Stats()
		st.FramesIn, st.FramesOut, st.FramesDropped = es.FramesIn, es.FramesOut, es.DroppedTotal()
		// The executor keeps P50/P95/P99; P95 stands for P90.
		st.LatencyP50, st.LatencyP90, st.LatencyP99 = es.Latency.P50, es.Latency.P95, es.Latency.P99
		st.Pipeline = es
	}
	return st
}

func (s *stream) Done() <-chan struct{} { return s.done }

func (s *stream) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

func (s *stream) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *stream) run() {
	defer s.wg.Done()
	defer close(s.done)
	defer func() {
		close(s.quit)
		<-s.ownerDone
	}()
	err := s.serve()
	if lerr := s.loadErr.Load(); lerr != nil {
		err = *lerr // the first workflow never loaded: that is why it ended
	}
	if err != nil && s.ctx.Err() == nil {
		s.err = err
		s.r.log().Error("stream failed", "stream", s.io.ID, "err", err)
	}
}

// serve runs the stream until the input ends, an error, or Close.
func (s *stream) serve() (err error) {
	ctx, stop := context.WithCancel(s.ctx)
	defer stop()

	// The loader prepares workflows from the start, while the source opens.
	loaderDone := make(chan struct{})
	go func() { defer close(loaderDone); s.loader(ctx, stop) }()
	defer func() {
		stop()
		<-loaderDone
		s.do(func(st *state) {
			st.ended = true
			st.release()
			st.loading = false
		})
	}()

	// The segments go through a Chain, which opens a fresh demuxer and
	// decoder where the input's program changes (a publisher restarted
	// with other TS PIDs or another codec).
	inR, inW := io.Pipe()
	defer inR.Close()
	var fed atomic.Int64
	feedDone := make(chan error, 1)
	go func() { feedDone <- s.feed(ctx, inW, &fed) }()
	defer func() {
		stop()
		if ferr := <-feedDone; err == nil && ferr != nil {
			err = fmt.Errorf("input: %w", ferr)
		}
	}()

	src, err := s.openInput(inR, stop, feedDone, &fed)
	if src == nil {
		return err
	}
	out, err := s.startOutput(stop)
	if err != nil {
		src.Close()
		return err
	}
	defer func() {
		if oerr := out.close(); err == nil {
			err = oerr
		}
	}()

	events := make(chan executor.Event, 64)
	evDone := make(chan struct{})
	go func() { defer close(evDone); s.logEvents(events) }()
	pipe, err := s.startExecutor(ctx, src, out.w, events)
	if err != nil {
		close(events)
		<-evDone
		return err
	}

	select {
	case <-pipe.Done():
	case <-ctx.Done():
	}
	s.do(func(st *state) { st.ended = true })
	stop()
	<-loaderDone // no swap after this
	cerr := pipe.Close()
	close(events)
	<-evDone
	oerr := out.close() // the splitter reads to the end and completes the last segment
	if perr := pipe.Err(); perr != nil && !errors.Is(perr, context.Canceled) {
		return perr
	}
	if cerr != nil && s.ctx.Err() == nil && oerr == nil {
		s.r.log().Warn("stream close", "stream", s.io.ID, "err", cerr)
	}
	return nil
}

// openInput opens the decoder on the fed segments. When it cannot, it
// stops the feed: the error is then the feed's if it failed, none if the
// input ended (or the stream stopped) before any media (src nil, err nil),
// else the decoder's.
func (s *stream) openInput(r io.Reader, stop context.CancelFunc, feedDone chan error, fed *atomic.Int64) (*av.Chain, error) {
	src, err := av.OpenChain(r, av.SourceOptions{
		Format: "mpegts", Width: s.w, Height: s.h, Audio: true, Threads: s.r.Threads,
		Options: map[string]string{"analyzeduration": "1000000"},
	})
	if err == nil {
		return src, nil
	}
	stop()
	ferr := <-feedDone
	feedDone <- nil // for serve's own wait
	switch {
	case ferr != nil:
		return nil, fmt.Errorf("input: %w", ferr)
	case fed.Load() == 0 || s.ctx.Err() != nil:
		return nil, nil
	}
	return nil, err
}

// output is the encoder's pipe (w) into the splitter, which cuts it into
// output segments.
type output struct {
	w    *os.File
	done chan struct{} // closed when the splitter ended
	err  error         // the splitter's (the output is gone), once done
	once sync.Once
}

// startOutput starts the splitter on a fresh pipe. If the output goes,
// it stops the stream (stop) and drains the pipe so that the encoder
// does not block.
func (s *stream) startOutput(stop context.CancelFunc) (*output, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o := &output{w: w, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		defer r.Close()
		if err := s.split(r); err != nil {
			o.err = err
			stop()
			_, _ = io.Copy(io.Discard, r) // keep the encoder unblocked
		}
	}()
	return o, nil
}

// close closes the pipe, waits for the splitter to read to its end
// (completing the last segment) and returns its error.
func (o *output) close() error {
	o.once.Do(func() {
		o.w.Close()
		<-o.done
	})
	return o.err
}

// sinkOptions are the options of the H.264 MPEG-TS encoder for a stream
// of info (the input's audio is added by assemble.New).
func (s *stream) sinkOptions(info media.StreamInfo) av.SinkOptions {
	fps := info.FrameRate.Float()
	if fps <= 0 || fps > 120 {
		fps = 30
	}
	maxFPS := s.r.MaxFPS
	if maxFPS == 0 {
		maxFPS = executor.DefaultMaxFPS
	}
	if maxFPS > 0 {
		fps = min(fps, maxFPS)
	}
	sinkOpts := av.SinkOptions{
		Format: "mpegts", Encoder: s.r.Encoder, Preset: s.r.Preset, Threads: s.r.Threads,
		RebaseAudio: true, // the frames go through media.NewMonotonic
		// Keyframes are forced at segment boundaries; the GOP is a backstop.
		GOP:     max(1, int(3*s.segDur.Seconds()*fps)),
		Options: map[string]string{"flush_packets": "1"},
	}
	if s.r.Encoder == "" || s.r.Encoder == "libx264" {
		sinkOpts.EncoderOptions = map[string]string{"x264-params": "scenecut=0"}
	}
	return sinkOpts
}

// keySink wraps the encoder so that it forces a keyframe every segment.
func (s *stream) keySink(sink media.Sink) media.Sink {
	force := func() {}
	if f, ok := sink.(interface{ ForceKeyFrame() }); ok {
		force = f.ForceKeyFrame
	}
	return &keySink{Sink: sink, force: force, interval: s.segDur}
}

// startExecutor assembles the stream (assemble.New) from src to an encoder
// writing into out, with the workflow loaded so far (or none: passthrough
// or a loading frame), and starts it. It runs on the owner goroutine, so
// that the loader either hands its plan over as the first one (initial)
// or swaps it into the running executor. On an error src is closed (out
// is the caller's).
func (s *stream) startExecutor(ctx context.Context, src *av.Chain, out *os.File, events chan<- executor.Event) (*executor.Pipeline[*livePlan], error) {
	var pipe *executor.Pipeline[*livePlan]
	err := errors.New("live: the stream stopped")
	ran := s.do(func(st *state) {
		first := &livePlan{p: st.initial}
		if first.p == nil && s.showLoading {
			first = loadingPlan(s.w, s.h)
		}
		st.initial = nil // assemble.New owns it now, and closes it on an error
		spec := assemble.Spec[*livePlan]{
			Source: media.NewMonotonic(src), Plan: first,
			Out: fmt.Sprintf("pipe:%d", out.Fd()), SinkOptions: s.sinkOptions(src.Info()),
			AudioFrom: src.AudioSource(),
			AudioDropped: func(err error) {
				s.r.log().Warn("audio not passed through", "stream", s.io.ID, "err", err)
			},
			WrapSink: s.keySink,
			Config: executor.Config[*livePlan]{
				MaxFPS: s.r.MaxFPS, Budget: s.r.Budget,
				WarmupFrames: -1, // the loader warmed the plans up
				OnError:      executor.PassThrough, Queue: executor.LatestWins, Events: events,
				OnText: s.textOut(),
			},
		}
		s.withAudio(&spec.SinkOptions, &spec.Config, src.Info(), src.AudioSource())
		pipe, err = assemble.New(spec)
		if err != nil {
			return
		}
		if err = pipe.Start(ctx); err != nil {
			return
		}
		st.pipe = pipe
		if first.p != nil && st.queued == nil {
			st.loading = false
		}
	})
	if err != nil {
		switch {
		case pipe != nil:
			pipe.Close()
		case !ran:
			src.Close()
		}
		return nil, err
	}
	return pipe, nil
}

// feed copies the input segments into w until the input ends or ctx is
// done, then closes w (the decoder then sees the end of the stream).
// Empty, truncated and failed segments are skipped.
func (s *stream) feed(ctx context.Context, w io.WriteCloser, fed *atomic.Int64) error {
	defer w.Close()
	unhook := context.AfterFunc(ctx, func() { w.Close() })
	defer unhook()
	fails := 0
	buf := make([]byte, 32<<10)
	for {
		_, rc, err := s.io.Input.NextSegment(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			if fails++; fails > 5 {
				return err
			}
			s.r.log().Warn("input error, retrying", "stream", s.io.ID, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		fails = 0
		closeSeg := context.AfterFunc(ctx, func() { rc.Close() })
		for {
			n, rerr := rc.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					closeSeg()
					rc.Close()
					return nil // the decoder is gone: the stream is ending
				}
				fed.Add(int64(n))
			}
			if rerr != nil {
				break // end of segment, or a truncated one: go on with the next
			}
		}
		closeSeg()
		rc.Close()
	}
}

// split cuts the encoder's TS into output segments. It returns an error
// only when the output is gone (the stream must stop).
func (s *stream) split(r io.Reader) error {
	var cur io.WriteCloser
	var segsOut int64
	fatal := func(err error) error {
		if errors.Is(err, ErrOutputClosed) {
			return err
		}
		s.r.log().Warn("output segment", "stream", s.io.ID, "err", err)
		return nil
	}
	sp := newSplitter(
		func() error {
			w, err := s.io.Output.NewSegment(s.ctx)
			if err != nil {
				if s.ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("%w: %v", ErrOutputClosed, err)
			}
			cur = w
			return nil
		},
		func(b []byte) error {
			if cur == nil {
				return nil
			}
			if _, err := cur.Write(b); err != nil {
				cur.Close()
				cur = nil // the rest of this segment is lost
				return fatal(err)
			}
			return nil
		},
		func() error {
			if cur == nil {
				return nil
			}
			err := cur.Close()
			cur = nil
			if s.io.Data != nil {
				s.io.Data.WriteLine(map[string]any{"type": "segment", "seq": segsOut})
			}
			segsOut++
			if err != nil {
				return fatal(err)
			}
			return nil
		})
	err := copySplit(sp, r)
	if cur != nil {
		cur.Close()
	}
	return err
}

// loader prepares queued workflows and hands them to the executor.
// fail stops the stream (serve's context) when its first workflow could
// not be loaded.
func (s *stream) loader(ctx context.Context, fail context.CancelFunc) {
	var cur *compiler.Plan // the plan handed over last
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.notify:
		}
		p, alive := s.dequeue()
		if !alive {
			return
		}
		if p == nil {
			continue
		}
		pl, stop := s.loadQueued(ctx, p, cur, fail)
		if stop {
			return
		}
		if pl != nil {
			cur = pl
		}
	}
}

// dequeue takes the queued workflow, if any; a restart that an update
// overtook since it was scheduled is dropped. alive is false once the
// stream has ended.
func (s *stream) dequeue() (p *prepared, alive bool) {
	var stale bool
	if !s.do(func(st *state) {
		p, st.queued = st.queued, nil
		stale = p != nil && p.restart > 0 && p.gen != st.gen
	}) {
		return nil, false
	}
	if stale {
		p.Close()
		s.idle()
		return nil, true
	}
	return p, true
}

// loadQueued loads p (adopting from cur unless it is a restart) and
// hands the plan over: to the executor's start, or as a swap. It returns
// the plan handed over (nil when none was) and whether the loader stops.
func (s *stream) loadQueued(ctx context.Context, p *prepared, cur *compiler.Plan, fail context.CancelFunc) (*compiler.Plan, bool) {
	from := cur
	if p.restart > 0 {
		from = nil // afresh: nothing adopted from the failed plan
	}
	pl, err := s.load(ctx, p, from)
	if errors.Is(err, ErrStaticTimeout) && cur == nil {
		// Nothing ever ran: the start fails (the session reports the
		// stream's error and frees its place).
		s.loadErr.Store(&err)
		fail()
		return nil, true
	}
	if err != nil && ctx.Err() == nil {
		if p.restart > 0 {
			s.report("restart failed, the stream passes its input through: " + err.Error())
		} else {
			s.report("params update rejected, the running workflow stays: " + err.Error())
		}
	}
	if pl == nil {
		s.idle()
		return nil, false
	}
	var pipe *executor.Pipeline[*livePlan]
	ended, initial := true, false
	s.do(func(st *state) {
		st.curPrompt, st.curCfg = p.prompt, p.cfg
		if p.restart == 0 {
			st.tries, st.gaveUp = 0, false // an update starts the count again
		}
		if st.ended {
			return
		}
		ended = false
		if st.pipe == nil {
			// The executor has not started: it starts with this plan.
			if st.initial != nil {
				st.initial.Close()
			}
			st.initial, initial = pl, true
			return
		}
		pipe = st.pipe
		st.swapping++
	})
	switch {
	case ended:
		pl.Close()
		return nil, true
	case initial:
		return pl, false // loading stays true until the executor runs it
	}
	if err := pipe.Swap(ctx, &livePlan{p: pl}); err != nil {
		pl.Close()
		s.do(func(st *state) { st.swapping-- })
		return nil, true
	}
	s.idle()
	if p.restart > 0 && s.io.OnRestart != nil {
		s.io.OnRestart(p.restart, p.restartLogs)
	}
	return pl, false
}

// scheduleRestart restarts the running workflow after RestartDelay (see
// the package documentation), unless an update is queued by then, the
// stream ended or the workflow used its restarts. logs are the errors
// that led to it. Called from the events goroutine.
func (s *stream) scheduleRestart(logs []string) {
	var prompt *graph.Prompt
	var cfg compiler.Config
	var gen uint64
	gaveUp, restart := 0, false
	s.do(func(st *state) {
		if st.ended || st.curPrompt == nil || st.queued != nil || st.swapping > 0 {
			return
		}
		if st.tries >= s.r.maxRestarts() {
			if !st.gaveUp {
				gaveUp = st.tries
			}
			st.gaveUp = true
			return
		}
		st.tries++
		prompt, cfg, gen = st.curPrompt, st.curCfg, st.gen
		restart = true
	})
	if gaveUp > 0 {
		s.report(fmt.Sprintf("the workflow failed again after %d restarts; the stream passes its input through until the next update", gaveUp))
	}
	if !restart {
		return
	}
	// A private model session: the failed plan's (shared) one may be what
	// went wrong.
	cfg.Engine.Exclusive = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(s.r.restartDelay()):
		case <-s.ctx.Done():
			return
		}
		current := func(st *state) bool { return !st.ended && st.queued == nil && st.gen == gen }
		ok := false
		if !s.do(func(st *state) { ok = current(st) }) || !ok {
			return
		}
		pl, err := compiler.Compile(prompt, cfg)
		if err != nil {
			s.report(fmt.Sprintf("restart: the workflow no longer compiles: %v", err))
			return
		}
		n := 0
		s.do(func(st *state) {
			if !current(st) {
				return
			}
			st.restarts++
			n = st.restarts
			st.queued = &prepared{plan: pl, prompt: prompt, cfg: cfg, restart: n, restartLogs: logs, gen: gen}
			st.loading = true
		})
		if n == 0 {
			pl.Close()
			return
		}
		s.r.log().Info("restarting the workflow", "stream", s.io.ID, "restart", n)
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}()
}

// idle clears the loading flag unless another workflow is queued.
func (s *stream) idle() {
	s.do(func(st *state) {
		if st.queued == nil && st.pipe != nil {
			st.loading = false
		}
	})
}

// load makes p's plan ready to run at the stream's size: rebuilt from the
// running plan when there is one (unchanged static steps and their
// results are adopted), static steps run and one warm-up frame. A plan
// whose static steps or warm-up fail is still returned: the executor
// retries on frames and falls back to passthrough (errors are logged).
//
// The static steps and the warm-up run on their own goroutine, bounded by
// the Runner's StaticTimeout and by ctx: when either ends first, load
// returns (nil, ErrStaticTimeout or ctx's error) without waiting. Go
// cannot stop a running kernel, so that goroutine is abandoned: it keeps
// running in the background (counted by Abandoned) and closes the plan
// when it finishes (unless the plan adopted kernels of the running one).
func (s *stream) load(ctx context.Context, p *prepared, cur *compiler.Plan) (*compiler.Plan, error) {
	pl := p.take()
	if pl == nil {
		return nil, nil
	}
	t0 := time.Now()
	cfg := p.cfg
	cfg.Width, cfg.Height = s.w, s.h
	sizeOK := !pl.HasFrameInput() || frameSize(pl.FrameSpec()) == [2]int{s.w, s.h}
	adopts := false // pl may hold kernels adopted from the running plan
	if cur != nil || !sizeOK {
		if np, err := compiler.Rebuild(p.prompt, cfg, cur); err == nil {
			pl.Close()
			pl = np
			adopts = cur != nil
		} else {
			s.r.log().Error("rebuild", "stream", s.io.ID, "err", err)
		}
	}
	if d := s.r.LoadDelay; d > 0 {
		select {
		case <-time.After(d):
		case <-s.ctx.Done():
		}
	}
	var mu sync.Mutex
	gaveUp := false // guarded by mu: the waiter left, the goroutine owns pl
	done := make(chan struct{})
	go func() {
		s.warm(pl)
		mu.Lock()
		defer mu.Unlock()
		close(done)
		if gaveUp {
			abandoned.Add(-1)
			// A plan rebuilt from the running one owns the static kernels
			// it adopted, whose results the running plan still reads:
			// closing it could close them under that plan, so it is left
			// to the garbage collector (its kernels stay open).
			if !adopts {
				pl.Close()
			}
		}
	}()
	timer := time.NewTimer(s.r.staticTimeout())
	defer timer.Stop()
	var err error
	select {
	case <-done:
		s.r.log().Info("workflow loaded", "stream", s.io.ID, "duration", time.Since(t0).Round(time.Millisecond))
		return pl, nil
	case <-timer.C:
		err = fmt.Errorf("%w: still running after %v (--static-timeout)", ErrStaticTimeout, s.r.staticTimeout())
	case <-ctx.Done():
		err = ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case <-done: // it finished meanwhile
		if ctx.Err() == nil {
			return pl, nil
		}
		if !adopts {
			pl.Close()
		}
		return nil, err
	default:
	}
	gaveUp = true
	abandoned.Add(1)
	s.r.log().Warn("workflow load abandoned; its kernel keeps running in the background until it ends", "stream", s.io.ID, "err", err)
	return nil, err
}

// warm runs pl's static steps and one warm-up frame, reporting failures.
func (s *stream) warm(pl *compiler.Plan) {
	if err := pl.RunStatic(); err != nil {
		s.report(fmt.Sprintf("workflow static steps failed while it loaded (its frames fall back to passthrough): %v", err))
		return
	}
	var frame value.Tensor
	if pl.HasFrameInput() {
		sp := pl.FrameSpec()
		frame = value.NewTensor(sp.Shape...)
	}
	if err := pl.RunFrameAt(frame, nodes.FrameTime{Warmup: true}); err != nil {
		s.report(fmt.Sprintf("workflow warm-up failed: %v", err))
	}
}

// report reports a failure inside the stream to the session (an error
// event, which the session logs), without ending the stream; without a
// session hook it is logged here.
func (s *stream) report(msg string) {
	if s.io.OnError != nil {
		s.io.OnError(msg)
		return
	}
	s.r.log().Error("stream error", "stream", s.io.ID, "err", msg)
}

func frameSize(sp value.Spec) [2]int {
	if len(sp.Shape) != 4 {
		return [2]int{}
	}
	return [2]int{sp.Shape[2], sp.Shape[1]}
}

// restartLogLines is the number of recent errors a restart reports.
const restartLogLines = 10

// logEvents logs the executor's notable events and restarts the workflow
// when the executor falls back to passthrough.
func (s *stream) logEvents(ch <-chan executor.Event) {
	var nodeErrs int
	var recent []string // the last errors, for a restart's logs
	note := func(msg string) {
		if len(recent) == restartLogLines {
			recent = append(recent[:0], recent[1:]...)
		}
		recent = append(recent, time.Now().UTC().Format(time.RFC3339Nano)+" "+msg)
	}
	for ev := range ch {
		switch ev.Kind {
		case executor.EventNodeError:
			note(ev.Err.Error()) // a NodeError: it names the frame and node
			if nodeErrs++; nodeErrs <= 3 || nodeErrs%100 == 0 {
				s.r.log().Warn("node error", "stream", s.io.ID, "err", ev.Err, "count", nodeErrs)
			}
		case executor.EventPassthrough:
			msg := fmt.Sprintf("the workflow fails on every frame, the stream passes its input through: %v", ev.Err)
			note(msg)
			s.report(msg)
			s.scheduleRestart(append([]string(nil), recent...))
			recent = recent[:0]
		case executor.EventSourceError, executor.EventSinkError:
			s.r.log().Warn(ev.Kind.String(), "stream", s.io.ID, "err", ev.Err)
		case executor.EventSwapped:
			nodeErrs = 0
			s.do(func(st *state) {
				if st.swapping > 0 {
					st.swapping--
				}
			})
		}
	}
}

// Available reports whether this build can decode and encode (it has
// FFmpeg, i.e. was built with cgo); without it every stream would fail.
func Available() bool { return av.Available }
