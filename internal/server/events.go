package server

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"

	"comfyrt/internal/trickle"
)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func msOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// eventQueue publishes events on the events channel, one JSON per
// segment in ai-runner's wrapper {"event": {...}, "queue_event_type"}. A
// bounded queue: when the orchestrator is slow the oldest event is
// dropped. With no events URL, events are dropped.
type eventQueue struct {
	pub     *trickle.Publisher
	mu      sync.Mutex
	q       [][]byte
	wake    chan struct{}
	closed  bool
	done    chan struct{}
	dropped int64
}

const eventQueueLen = 64

func newEventQueue(c *trickle.Client, url, _ string) *eventQueue {
	e := &eventQueue{wake: make(chan struct{}, 1), done: make(chan struct{})}
	if url != "" {
		e.pub = trickle.NewPublisher(c, url, trickle.PublisherOptions{ContentType: "application/json"})
	}
	return e
}

func (e *eventQueue) push(queue string, ev map[string]any) {
	if e == nil || e.pub == nil {
		return
	}
	b, err := json.Marshal(map[string]any{"event": ev, "queue_event_type": queue})
	if err != nil {
		return
	}
	e.mu.Lock()
	if !e.closed {
		if len(e.q) >= eventQueueLen {
			e.q = e.q[1:]
			e.dropped++
		}
		e.q = append(e.q, b)
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run publishes until close, then flushes what is queued and DELETEs the
// channel.
func (e *eventQueue) run() {
	if e.pub == nil {
		<-e.done
		return
	}
	dead := false
	for {
		e.mu.Lock()
		q := e.q
		e.q = nil
		closed := e.closed
		e.mu.Unlock()
		for _, b := range q {
			if dead {
				break
			}
			if err := e.pub.Write(b); err != nil && trickle.IsTerminal(err) {
				dead = true // the orchestrator closed the channel
			}
		}
		if closed {
			e.pub.Close()
			return
		}
		select {
		case <-e.wake:
		case <-e.done:
		}
	}
}

func (e *eventQueue) close() {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.done)
	}
	e.mu.Unlock()
}

// dataQueue batches JSON lines for the BYOC data channel
// (application/jsonl): one segment per flush interval with the lines
// written since the last one.
type dataQueue struct {
	pub   *trickle.Publisher
	flush time.Duration
	mu    sync.Mutex
	buf   bytes.Buffer
	done  chan struct{}
	once  sync.Once
}

func newDataQueue(c *trickle.Client, url string, flush time.Duration) *dataQueue {
	return &dataQueue{pub: trickle.NewPublisher(c, url, trickle.PublisherOptions{ContentType: "application/jsonl"}), flush: flush, done: make(chan struct{})}
}

func (d *dataQueue) WriteLine(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	d.mu.Lock()
	if d.buf.Len() < 4<<20 {
		d.buf.Write(b)
		d.buf.WriteByte('\n')
	}
	d.mu.Unlock()
}

func (d *dataQueue) take() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.buf.Len() == 0 {
		return nil
	}
	b := bytes.Clone(d.buf.Bytes())
	d.buf.Reset()
	return b
}

func (d *dataQueue) run() {
	t := time.NewTicker(d.flush)
	defer t.Stop()
	dead := false
	for {
		select {
		case <-t.C:
		case <-d.done:
			if b := d.take(); b != nil && !dead {
				d.pub.Write(b)
			}
			d.pub.Close()
			return
		}
		if b := d.take(); b != nil && !dead {
			if err := d.pub.Write(b); err != nil && trickle.IsTerminal(err) {
				dead = true
			}
		}
	}
}

func (d *dataQueue) close() { d.once.Do(func() { close(d.done) }) }

// emitStatus publishes ai-runner's status event (LIVEPEER.md §2.3).
// last_params is sent once after each change, then null.
func (s *session) emitStatus(paramsSent *bool) {
	now := time.Now()
	info := s.snapshot()
	var lastParams any
	if !*paramsSent {
		lastParams = s.req.Params.Raw
		*paramsSent = true
	}
	var restartLogs any // the recent log lines, a list as ai-runner's
	if l := s.takeRestartLogs(); l != nil {
		restartLogs = l
	}
	var lastErr any
	if info.LastError != "" {
		lastErr = info.LastError
	}
	li := time.Unix(0, s.lastInput.Load())
	if s.lastInput.Load() == 0 {
		li = time.Time{}
	}
	lo := time.Unix(0, s.lastOutput.Load())
	if s.lastOutput.Load() == 0 {
		lo = time.Time{}
	}
	s.events.push("ai_stream_events", map[string]any{
		"type":                   "status",
		"pipeline":               s.srv.cfg.Pipeline,
		"start_time":             ms(s.start),
		"state":                  info.State,
		"last_state_update_time": ms(info.StateSince),
		"input_status": map[string]any{
			"last_input_time": msOrNil(li),
			"fps":             info.FPSIn,
		},
		"inference_status": map[string]any{
			"last_output_time":        msOrNil(lo),
			"fps":                     info.FPSOut,
			"last_params_update_time": msOrNil(info.LastParamsUpdate),
			"last_params":             lastParams,
			"last_params_hash":        info.ParamsHash,
			"last_error_time":         msOrNil(info.LastErrorTime),
			"last_error":              lastErr,
			"last_restart_time":       msOrNil(info.LastRestart),
			"last_restart_logs":       restartLogs,
			"restart_count":           info.Restarts,
		},
		"last_status_timestamp": ms(now),
		"timestamp":             ms(now),
	})
}
