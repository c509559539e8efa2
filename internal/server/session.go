package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"comfyrt/internal/trickle"
)

// startRequest is a stream start, from either contract.
type startRequest struct {
	ID           string
	Kind         string // "live" or "byoc"
	SubscribeURL string
	PublishURL   string
	ControlURL   string
	EventsURL    string
	DataURL      string
	RequestID    string
	Params       Params
}

// sessionInfo is the part of a session's state others read (status,
// health, metrics), written by the session's actor under mu.
type sessionInfo struct {
	State            string
	StateSince       time.Time
	ParamsHash       string
	LastParamsUpdate time.Time
	LastError        string
	LastErrorTime    time.Time
	Updates, Rejects int64
	// Errors counts every error reported (rejected updates, workflow
	// failures inside the runner, the stop reason).
	Errors        int64
	FPSIn, FPSOut float64
	// Restarts is the runner's restart count, LastRestart its time and
	// RestartLogs the last restart's logs until a status event sent them.
	Restarts    int
	LastRestart time.Time
	RestartLogs []string
}

// update is a compiled params update waiting for the actor.
type update struct {
	params Params
	hash   string
	prep   Prepared
	reply  chan error // nil for control-channel updates
}

type session struct {
	srv   *Server
	req   startRequest
	start time.Time
	// width and height are the stream's output size as opened (0: the
	// default); they never change (ai-runner's rule).
	width, height int

	ctx    context.Context // cancelled to stop
	cancel context.CancelFunc
	done   chan struct{} // closed when fully stopped
	wg     sync.WaitGroup

	updates chan update
	errs    chan string // errors found outside the actor (control reader)
	// preparing is held while a params update compiles (from /stream/params
	// or the control channel): one at a time per stream, so that
	// concurrent updates cannot hold many plans.
	preparing atomic.Bool

	sub     *trickle.Subscriber
	out     *trickle.Publisher
	events  *eventQueue
	data    *dataQueue
	stream  Stream
	curHash string

	lastInput, lastOutput atomic.Int64 // unix nanos
	segsIn, segsOut       atomic.Int64
	bytesIn, bytesOut     atomic.Int64

	mu   sync.Mutex
	info sessionInfo
}

func newSession(srv *Server, req startRequest) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{
		srv: srv, req: req, start: time.Now(), ctx: ctx, cancel: cancel,
		width: req.Params.Width, height: req.Params.Height,
		done: make(chan struct{}), updates: make(chan update), errs: make(chan string, 8),
		info: sessionInfo{State: "LOADING", StateSince: time.Now()},
	}
}

// eventQueue returns the session's events queue for other goroutines (nil
// until the session is open; pushing to nil does nothing).
func (s *session) eventQueue() *eventQueue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

func (s *session) snapshot() sessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// open connects the trickle channels and starts the runner's stream.
func (s *session) open(first Prepared) error {
	c := s.srv.client
	ev := newEventQueue(c, s.req.EventsURL, s.srv.cfg.Pipeline)
	s.mu.Lock()
	s.events = ev
	s.mu.Unlock()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.events.run() }()
	s.trace("runner_receive_stream_request")
	s.sub = trickle.NewSubscriber(c, s.req.SubscribeURL, trickle.SeqCurrent)
	s.out = trickle.NewPublisher(c, s.req.PublishURL, trickle.PublisherOptions{ContentType: "video/mp2t"})
	sio := StreamIO{ID: s.req.ID, Input: &inputSource{s}, Output: &outputSink{s}, Width: s.width, Height: s.height,
		OnError: s.reportError, OnRestart: s.reportRestart}
	if s.req.DataURL != "" {
		s.data = newDataQueue(c, s.req.DataURL, s.srv.cfg.DataFlush)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.data.run() }()
		sio.Data = s.data
	}
	st, err := s.srv.runner.Open(s.ctx, sio, first)
	if err != nil {
		s.closeIO()
		return err
	}
	s.mu.Lock()
	s.stream = st
	s.mu.Unlock()
	s.curHash = paramsHash(s.req.Params.Raw)
	s.mu.Lock()
	s.info.ParamsHash = s.curHash
	s.info.LastParamsUpdate = time.Now()
	s.mu.Unlock()
	if s.req.ControlURL != "" {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.readControl() }()
	}
	return nil
}

// closeIO closes the channels: the output and events channels are
// DELETEd, which ends the gateway's readers cleanly.
func (s *session) closeIO() {
	s.cancel()
	if s.sub != nil {
		s.sub.Close()
	}
	if s.out != nil {
		s.out.Close()
	}
	if s.data != nil {
		s.data.close()
	}
	s.events.close()
	s.wg.Wait()
}

// stop asks the session to stop (idempotent); wait on done.
func (s *session) stop() { s.cancel() }

// run is the session's actor.
func (s *session) run() {
	defer close(s.done)
	defer s.srv.removeSession(s)
	cfg := &s.srv.cfg
	tick := time.NewTicker(cfg.CheckInterval)
	defer tick.Stop()
	lastStatus := time.Time{}
	lastParamsSent := false
	var prevIn, prevOut int64
	var prevAt = time.Now()
	reason := ""
	s.setState("ONLINE", time.Now())
	s.emitStatus(&lastParamsSent)
	lastStatus = time.Now()
loop:
	for {
		select {
		case u := <-s.updates:
			s.apply(u)
			lastParamsSent = false
		case msg := <-s.errs:
			s.reportError(msg)
		case <-s.stream.Done():
			if err := s.stream.Err(); err != nil {
				reason = err.Error()
			}
			break loop
		case <-s.ctx.Done():
			break loop
		case now := <-tick.C:
			// Frame rates over the last window.
			if dt := now.Sub(prevAt); dt >= cfg.StatusInterval || dt >= 10*time.Second {
				st := s.stream.Stats()
				s.mu.Lock()
				s.info.FPSIn = float64(st.FramesIn-prevIn) / dt.Seconds()
				s.info.FPSOut = float64(st.FramesOut-prevOut) / dt.Seconds()
				s.mu.Unlock()
				prevIn, prevOut, prevAt = st.FramesIn, st.FramesOut, now
			}
			state := s.evaluate(now)
			s.setState(state, now)
			if last := s.lastInputTime(); now.Sub(last) >= cfg.InputTimeout {
				reason = fmt.Sprintf("no input for %v", cfg.InputTimeout)
				break loop
			}
			if state == "ERROR" {
				why := s.errorReason(now)
				if le := s.snapshot().LastError; le != "" {
					why += " (last error: " + le + ")"
				}
				reason = "stream health is ERROR: " + why
				break loop
			}
			if now.Sub(lastStatus) >= cfg.StatusInterval {
				s.emitStatus(&lastParamsSent)
				lastStatus = now
			}
		}
	}
	if reason != "" {
		s.reportError("stream stopped: " + reason)
	}
	s.setState("OFFLINE", time.Now())
	s.emitStatus(&lastParamsSent)
	s.stream.Close()
	s.closeIO()
}

// stats reads the runner's counters (zero before the stream opened).
func (s *session) stats() StreamStats {
	s.mu.Lock()
	st := s.stream
	s.mu.Unlock()
	if st == nil {
		return StreamStats{}
	}
	return st.Stats()
}

func (s *session) lastInputTime() time.Time {
	if n := s.lastInput.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return s.start
}

func (s *session) setState(state string, now time.Time) {
	s.mu.Lock()
	if s.info.State != state {
		s.info.State, s.info.StateSince = state, now
	}
	s.mu.Unlock()
}

// apply swaps a compiled update in (the actor's only swap path).
func (s *session) apply(u update) {
	var err error
	if u.hash == s.curHash {
		u.prep.Close() // same params: nothing to do
	} else if err = s.stream.Swap(s.ctx, u.prep); err == nil {
		s.curHash = u.hash
		s.mu.Lock()
		s.info.ParamsHash = u.hash
		s.info.LastParamsUpdate = time.Now()
		s.info.Updates++
		s.mu.Unlock()
		s.req.Params = u.params
	} else {
		s.reject("params update failed: " + err.Error())
	}
	if u.reply != nil {
		u.reply <- err
	}
}

// submit hands a compiled update to the actor and waits for the swap.
func (s *session) submit(ctx context.Context, p Params, prep Prepared) error {
	u := update{params: p, hash: paramsHash(p.Raw), prep: prep, reply: make(chan error, 1)}
	select {
	case s.updates <- u:
		return <-u.reply
	case <-s.done:
		prep.Close()
		return errors.New("the stream stopped")
	case <-ctx.Done():
		prep.Close()
		return ctx.Err()
	}
}

// reportError records an error (the status event's last_error) and
// publishes an error event. Safe from any goroutine (the runner reports
// through it, StreamIO.OnError); it does not block.
func (s *session) reportError(msg string) {
	s.mu.Lock()
	s.info.LastError, s.info.LastErrorTime = msg, time.Now()
	s.info.Errors++
	s.mu.Unlock()
	s.srv.log().Error("stream error", "stream", s.req.ID, "err", msg)
	s.eventQueue().push("ai_stream_events", map[string]any{
		"type": "error", "pipeline": s.srv.cfg.Pipeline, "message": msg, "time": ms(time.Now()),
	})
}

// reportRestart records a restart of the stream's workflow by the runner
// and publishes ai-runner's restart event. Safe from any goroutine.
func (s *session) reportRestart(count int, logs []string) {
	now := time.Now()
	s.mu.Lock()
	s.info.Restarts, s.info.LastRestart, s.info.RestartLogs = count, now, logs
	s.mu.Unlock()
	s.srv.log().Info("workflow restarted", "stream", s.req.ID, "restart", count)
	s.eventQueue().push("ai_stream_events", map[string]any{
		"type": "restart", "pipeline": s.srv.cfg.Pipeline, "restart_count": count,
		"restart_time": ms(now), "restart_logs": logs,
	})
}

// takeRestartLogs returns the last restart's logs once (then nil), as
// ai-runner's status event sends last_restart_logs.
func (s *session) takeRestartLogs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.info.RestartLogs
	s.info.RestartLogs = nil
	return l
}

// reject reports a rejected params update (counted in params_rejected).
// Safe from any goroutine.
func (s *session) reject(msg string) {
	s.mu.Lock()
	s.info.Rejects++
	s.mu.Unlock()
	s.reportError(msg)
}

// defaultSize is ai-runner's default width and height (and the
// compiler's): the size of a stream opened without one.
const defaultSize = 512

// fitSize applies ai-runner's rule to a params update (COMFYUI.md d):
// the output resolution cannot change within a stream ("Cannot change
// output resolution mid-stream"). A width or height the update leaves out
// is the stream's; one it names must be the stream's.
func (s *session) fitSize(p *Params) error {
	eff := func(n int) int {
		if n == 0 {
			return defaultSize
		}
		return n
	}
	w, h := p.Width, p.Height
	if (w != 0 && eff(w) != eff(s.width)) || (h != 0 && eff(h) != eff(s.height)) {
		//lint:ignore ST1005 ai-runner's exact message, which gateways match on
		return fmt.Errorf("Cannot change output resolution mid-stream (the stream is %dx%d, the update asks for %dx%d)",
			eff(s.width), eff(s.height), eff(cmpOr(w, s.width)), eff(cmpOr(h, s.height)))
	}
	p.Width, p.Height = s.width, s.height
	return nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// errorOutside reports an error found off the actor (control reader).
func (s *session) errorOutside(msg string) {
	select {
	case s.errs <- msg:
	case <-s.ctx.Done():
	}
}

func (s *session) trace(typ string) {
	s.events.push("stream_trace", map[string]any{"type": typ, "timestamp": ms(time.Now())})
}

// readControl reads the control channel: one JSON object per segment,
// read whole (up to MaxControlBytes); keepalives are ignored, invalid
// JSON and invalid params are reported and skipped, valid params are
// compiled here (off the actor) and handed to the actor to swap.
func (s *session) readControl() {
	sub := trickle.NewSubscriber(s.srv.client, s.req.ControlURL, trickle.SeqCurrent)
	defer sub.Close()
	limit := s.srv.cfg.MaxControlBytes
	for {
		seg, err := sub.Next(s.ctx)
		if err != nil {
			if s.ctx.Err() == nil && !trickle.IsTerminal(err) {
				s.errorOutside("control channel: " + err.Error())
			}
			return
		}
		data, err := io.ReadAll(io.LimitReader(seg, limit+1))
		seg.Close()
		if err != nil {
			continue // a truncated or failed segment: the next one comes
		}
		if int64(len(data)) > limit {
			s.reject(fmt.Sprintf("control message rejected: larger than %d bytes", limit))
			continue
		}
		data = bytes.TrimSpace(data)
		if len(data) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			s.reject("control message is not a JSON object: " + jsonErr(err))
			continue
		}
		if _, ok := m["keep"]; ok && len(m) == 1 {
			continue // {"keep":"alive"}
		}
		p, err := parseParams(data, s.srv.cfg.DefaultWorkflow, s.req.Kind == "live")
		if err != nil {
			s.reject("params update rejected: " + err.Error())
			continue
		}
		if paramsHash(p.Raw) == s.hashNow() {
			continue // resent params (e.g. after a control publisher restart)
		}
		if err := s.fitSize(&p); err != nil {
			s.reject("params update rejected, the running workflow stays: " + err.Error())
			continue
		}
		// The same one-at-a-time gate as /stream/params: while an HTTP
		// update compiles, a control update is rejected (the sender
		// resends; the latest params win).
		if !s.preparing.CompareAndSwap(false, true) {
			s.reject("params update rejected, the running workflow stays: another params update of this stream is being compiled")
			continue
		}
		testPrepareHook(s.req.ID)
		prep, err := s.srv.runner.Prepare(s.ctx, p)
		s.preparing.Store(false)
		if err != nil {
			s.reject("params update rejected, the running workflow stays: " + errText(err))
			continue
		}
		u := update{params: p, hash: paramsHash(p.Raw), prep: prep}
		select {
		case s.updates <- u:
		case <-s.ctx.Done():
			prep.Close()
			return
		}
	}
}

// testPrepareHook runs while a params update holds the preparing gate,
// before it compiles (tests: hold the gate).
var testPrepareHook = func(string) {}

func (s *session) hashNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.ParamsHash
}

// inputSource adapts the input subscriber for the runner.
type inputSource struct{ s *session }

func (in *inputSource) NextSegment(ctx context.Context) (int, io.ReadCloser, error) {
	s := in.s
	seg, err := s.sub.Next(ctx)
	if err != nil {
		if trickle.IsTerminal(err) || errors.Is(err, trickle.ErrClosed) {
			return 0, nil, io.EOF
		}
		return 0, nil, err
	}
	if s.segsIn.Add(1) == 1 {
		s.trace("runner_receive_first_ingest_segment")
	}
	s.lastInput.Store(time.Now().UnixNano())
	return seg.Seq, &countReader{rc: seg, n: &s.bytesIn, last: &s.lastInput}, nil
}

type countReader struct {
	rc   io.ReadCloser
	n    *atomic.Int64
	last *atomic.Int64
}

func (r *countReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if n > 0 {
		r.n.Add(int64(n))
		r.last.Store(time.Now().UnixNano())
	}
	return n, err
}

func (r *countReader) Close() error { return r.rc.Close() }

// outputSink adapts the output publisher for the runner.
type outputSink struct{ s *session }

func (o *outputSink) NewSegment(context.Context) (io.WriteCloser, error) {
	w, err := o.s.out.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOutputClosed, err)
	}
	return &segWriter{w: w, s: o.s}, nil
}

type segWriter struct {
	w *trickle.SegmentWriter
	s *session
	n int64
}

func (w *segWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if n > 0 {
		if w.n == 0 && w.s.segsOut.Load() == 0 {
			w.s.trace("runner_send_first_processed_segment")
		}
		w.n += int64(n)
		w.s.bytesOut.Add(int64(n))
		w.s.lastOutput.Store(time.Now().UnixNano())
	}
	if err != nil && trickle.IsTerminal(err) {
		err = fmt.Errorf("%w: %v", ErrOutputClosed, err)
	}
	return n, err
}

func (w *segWriter) Close() error {
	err := w.w.Close()
	w.s.segsOut.Add(1)
	w.s.lastOutput.Store(time.Now().UnixNano())
	if err != nil && trickle.IsTerminal(err) {
		err = fmt.Errorf("%w: %v", ErrOutputClosed, err)
	}
	return err
}
