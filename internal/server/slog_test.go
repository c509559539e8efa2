package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// testLogger logs through t.Log, debug level and up.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tLogWriter struct{ t testing.TB }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// slogBuffer collects JSON log records.
type slogBuffer struct {
	mu   sync.Mutex
	recs []map[string]any
	bad  []string
}

func (b *slogBuffer) Write(p []byte) (int, error) {
	var rec map[string]any
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := json.Unmarshal(p, &rec); err != nil {
		b.bad = append(b.bad, string(p))
	} else {
		b.recs = append(b.recs, rec)
	}
	return len(p), nil
}

// find is the first record with the attributes (key, value pairs).
func (b *slogBuffer) find(kv ...any) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, rec := range b.recs {
		for i := 0; i+1 < len(kv); i += 2 {
			if rec[kv[i].(string)] != kv[i+1] {
				continue next
			}
		}
		return rec
	}
	return nil
}

// A stream's start and stop are logged with the stream id and the id of
// the request (its X-Request-Id header); every request gets a distinct id.
func TestSlogStreamRequestIDs(t *testing.T) {
	var buf slogBuffer
	e := newEnv(t, Config{Capacity: 1, Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	hdr := []string{"X-Stream-Id", "s1"}
	base := e.channels("s1", true)
	start := fmt.Sprintf(`{"params":{"prompts":[{"1":{"class_type":"LoadImage","inputs":{}}}],"width":512,"height":512},"gateway_request_id":"s1","subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"data_url":%q}`,
		base, base+"-out", base+"-control", base+"-events", base+"-data")
	code, body, h := e.do("POST", "/stream/start", start, hdr...)
	if code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	startID := h.Get("X-Request-Id")
	code, body, h = e.do("POST", "/stream/stop", ``, hdr...)
	if code != 200 {
		t.Fatalf("stop: %d %s", code, body)
	}
	stopID := h.Get("X-Request-Id")
	if startID == "" || stopID == "" || startID == stopID {
		t.Fatalf("request ids %q and %q: want two distinct ids", startID, stopID)
	}
	if rec := buf.find("msg", "stream started", "stream", "s1", "request", startID, "level", "INFO"); rec == nil {
		t.Errorf("no INFO \"stream started\" record with stream s1 and request %s: %v", startID, buf.recs)
	}
	if rec := buf.find("msg", "stream stop requested", "stream", "s1", "request", stopID); rec == nil {
		t.Errorf("no \"stream stop requested\" record with stream s1 and request %s: %v", stopID, buf.recs)
	}
	if rec := buf.find("msg", "request", "request", stopID, "stream", "s1", "path", "/stream/stop", "level", "DEBUG"); rec == nil {
		t.Errorf("no DEBUG request record of the stop: %v", buf.recs)
	}
	if len(buf.bad) > 0 {
		t.Errorf("records that are not JSON: %q", buf.bad)
	}
}
