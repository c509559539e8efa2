package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// stuckRunner is the test Passthrough whose streams' Close blocks until
// release is closed, as a stream whose kernel never returns.
type stuckRunner struct {
	*Passthrough
	release chan struct{}
}

func (r *stuckRunner) wrap(p *Passthrough) { r.Passthrough = p }

func (r *stuckRunner) Open(ctx context.Context, sio StreamIO, first Prepared) (Stream, error) {
	st, err := r.Passthrough.Open(ctx, sio, first)
	if err != nil {
		return nil, err
	}
	return &stuckStream{Stream: st, release: r.release}, nil
}

type stuckStream struct {
	Stream
	release chan struct{}
}

func (s *stuckStream) Close() error {
	<-s.release
	return s.Stream.Close()
}

// TestR1_StopAbandonsStuckStream: /stream/stop of a stream whose close is
// stuck answers after StopTimeout, frees its place (the next start on a
// capacity-1 runner is admitted), and health and metrics report the
// abandoned stream; Shutdown returns when its context ends instead of
// waiting for it.
func TestR1_StopAbandonsStuckStream(t *testing.T) {
	r := &stuckRunner{release: make(chan struct{})}
	e := newEnv(t, Config{Runner: r, StopTimeout: 200 * time.Millisecond, BodyTimeout: time.Minute})
	var rel sync.Once
	t.Cleanup(func() { rel.Do(func() { close(r.release) }) }) // before the env's shutdown
	base := e.channels("m1", false)
	start := func(id string) (int, string) {
		code, body, _ := e.do("POST", "/stream/start", `{"gateway_request_id":"`+id+`","subscribe_url":"`+base+`","publish_url":"`+base+`-out","params":{}}`)
		return code, body
	}
	if code, body := start("b1"); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	code, body, _ := e.do("POST", "/stream/stop", "", "X-Stream-Id", "b1")
	if code != 200 || !strings.Contains(body, "abandoned") {
		t.Errorf("stop of a stuck stream: %d %s", code, body)
	}
	if code, body := start("b2"); code != 200 {
		t.Errorf("start after the stuck stream was stopped: %d %s; want its place freed", code, body)
	}
	_, hb, _ := e.do("GET", "/health", "")
	var h map[string]any
	json.Unmarshal([]byte(hb), &h)
	if h["abandoned_streams"] != float64(1) || h["degraded"] == nil {
		t.Errorf("/health does not report the abandoned stream: %s", hb)
	}
	_, mb, _ := e.do("GET", "/metrics", "")
	if !strings.Contains(mb, "comfyrt_streams_abandoned_total 1") {
		t.Errorf("metrics do not count the abandoned stream:\n%s", mb)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "b") {
			t.Errorf("Shutdown with stuck streams: %v; want the context's error naming them", err)
		}
	case <-time.After(time.Minute): // a bound far past ctx: Shutdown ignored it
		t.Fatal("Shutdown did not return after its context ended")
	}
	rel.Do(func() { close(r.release) })
}
