package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"comfyrt/internal/trickle"
)

// sinkRunner is the test Passthrough whose streams read their input and
// never write output (a decoder stalled on its input).
type sinkRunner struct{ *Passthrough }

func (r *sinkRunner) wrap(p *Passthrough) { r.Passthrough = p }

func (r *sinkRunner) Open(_ context.Context, sio StreamIO, first Prepared) (Stream, error) {
	first.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s := &sinkStream{cancel: cancel, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.done)
		for {
			_, rc, err := sio.Input.NextSegment(ctx)
			if err != nil {
				if errors.Is(err, io.EOF) || ctx.Err() != nil {
					return
				}
				continue
			}
			_, _ = io.Copy(io.Discard, rc)
			rc.Close()
		}
	}()
	return s, nil
}

type sinkStream struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
}

func (s *sinkStream) Swap(context.Context, Prepared) error { return nil }
func (s *sinkStream) Stats() StreamStats                   { return StreamStats{} }
func (s *sinkStream) Done() <-chan struct{}                { return s.done }
func (s *sinkStream) Err() error                           { return nil }
func (s *sinkStream) Close() error                         { s.cancel(); s.wg.Wait(); return nil }

// A stream whose output stalls while its input arrives goes ERROR and
// stops; the error event and the last status event say why (not an empty
// reason).
func TestLiveinErrorHasReason(t *testing.T) {
	e := newEnv(t, Config{Runner: &sinkRunner{}, Thresholds: Thresholds{Startup: 50 * time.Millisecond, LoadGrace: 300 * time.Millisecond}})
	base := e.channels("m1", false)
	ev := e.events(base)
	if code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, "{}")); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{})
	defer in.Close()
	stop := make(chan struct{})
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
				if in.Write([]byte("segment")) != nil {
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-feedDone }()
	// The error event carries the reason. The status event sent with it
	// at the stop carries it too when it reaches us: the events channel is
	// deleted right after its last write, and a subscriber one segment
	// behind then gets 404 for it (the trickle contract), so its arrival
	// is not guaranteed here; what arrives must not lack the reason.
	var msg string
	statusOK, statusBad := 0, 0
	ev.wait(t, "ERROR stop", func(q string, m map[string]any) bool {
		if inf, _ := m["inference_status"].(map[string]any); m["type"] == "status" && inf != nil {
			if le, _ := inf["last_error"].(string); strings.Contains(le, "no output") {
				statusOK++
			}
		}
		if errorContaining("stream health is ERROR")(q, m) {
			msg, _ = m["message"].(string)
			return true
		}
		return false
	})
	_, why, _ := strings.Cut(msg, "stream health is ERROR:")
	if !strings.Contains(why, "no output") {
		t.Errorf("error without its reason: %q", msg)
	}
	deadline := time.After(2 * time.Second)
drain:
	for {
		select {
		case m := <-ev.ch:
			inner, _ := m["event"].(map[string]any)
			if inf, _ := inner["inference_status"].(map[string]any); inner["type"] == "status" && inf != nil {
				if le, _ := inf["last_error"].(string); strings.Contains(le, "no output") {
					statusOK++
				} else if inner["state"] == "OFFLINE" || inf["last_error"] != nil {
					statusBad++
				}
			}
		case <-deadline:
			break drain
		}
	}
	if statusBad > 0 {
		t.Errorf("%d status events after the stop lack the reason", statusBad)
	}
	t.Logf("status events with the reason: %d", statusOK)
}

// /health in ERROR carries the reason.
func TestLiveinHealthErrorReason(t *testing.T) {
	e := newEnv(t, Config{Fatal: func() error { return errors.New("the GPU is gone") }})
	_, body, _ := e.do("GET", "/health", "")
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if m["status"] != "ERROR" || m["error"] != "the GPU is gone" {
		t.Errorf("/health: %s", body)
	}
}
