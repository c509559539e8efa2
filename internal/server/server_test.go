package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle"
	"comfyrt/internal/trickle/trickletest"
)

// env is an orchestrator's trickle server plus a comfyrt server.
type env struct {
	t      *testing.T
	orch   *trickletest.Orchestrator
	srv    *Server
	hs     *httptest.Server
	client *trickle.Client
	checks atomic.Int64
}

const badWorkflow = `{"1":{"class_type":"Nope","inputs":{}}}`

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	testkit.CheckGoroutines(t)
	e := &env{t: t}
	e.orch = trickletest.New(t)
	pass := &Passthrough{Check: func(_ context.Context, p Params) error {
		e.checks.Add(1)
		if bytes.Contains(p.Workflow, []byte("Nope")) {
			return errors.New("invalid workflow: node 1: missing_node_type: Nope")
		}
		return nil
	}}
	if wrap, ok := cfg.Runner.(interface{ wrap(*Passthrough) }); ok {
		wrap.wrap(pass)
	} else {
		cfg.Runner = pass
	}
	if cfg.DefaultWorkflow == nil {
		cfg.DefaultWorkflow = []byte(`{"1":{"class_type":"LoadImage","inputs":{}}}`)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.StatusInterval, 100*time.Millisecond)
	def(&cfg.CheckInterval, 20*time.Millisecond)
	def(&cfg.DataFlush, 30*time.Millisecond)
	cfg.Trickle.RetryDelay = 10 * time.Millisecond
	cfg.Version = "test"
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	e.srv = New(cfg)
	e.hs = httptest.NewServer(e.srv.Handler())
	e.client = trickle.NewClient(trickle.Options{RetryDelay: 10 * time.Millisecond})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		e.hs.Close()
		e.client.CloseIdleConnections()
	})
	return e
}

// channels pre-creates a session's channels as an orchestrator does and
// returns their base URL.
func (e *env) channels(mid string, data bool) string {
	return e.orch.Channels(mid, data)
}

// pipe publishes on the stream's input channel base and reads its output
// from the current segment on; both close when the test ends.
func (e *env) pipe(base string) (*trickle.Publisher, *trickle.Subscriber) {
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{})
	out := trickle.NewSubscriber(e.client, base+"-out", trickle.SeqCurrent)
	e.t.Cleanup(func() {
		out.Close()
		in.Close()
	})
	return in, out
}

func (e *env) do(method, path, body string, hdr ...string) (int, string, http.Header) {
	e.t.Helper()
	resp, b := testkit.Do(e.t, nil, method, e.hs.URL+path, body, hdr...)
	return resp.StatusCode, b, resp.Header
}

func (e *env) health() string {
	_, b, _ := e.do("GET", "/health", "")
	var m map[string]string
	json.Unmarshal([]byte(b), &m)
	return m["status"]
}

func (e *env) waitHealth(want string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.health() != want {
		if time.Now().After(deadline) {
			e.t.Fatalf("health %s, want %s", e.health(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func liveBody(base string, params string) string {
	return fmt.Sprintf(`{"subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"model_id":"comfyui","params":%s,"gateway_request_id":"g1","manifest_id":"m1","stream_id":"s1"}`,
		base, base+"-out", base+"-control", base+"-events", params)
}

// events collects events from the events channel.
type events struct {
	ch  chan map[string]any
	sub *trickle.Subscriber
}

func (e *env) events(base string) *events {
	ev := &events{ch: make(chan map[string]any, 1000), sub: trickle.NewSubscriber(e.client, base+"-events", 0)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			seg, err := ev.sub.Next(context.Background())
			if err != nil {
				return
			}
			b, _ := io.ReadAll(seg)
			seg.Close()
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				select {
				case ev.ch <- m:
				default:
				}
			}
		}
	}()
	e.t.Cleanup(func() { ev.sub.Close(); <-done })
	return ev
}

// wait returns the first event for which match is true.
func (ev *events) wait(t *testing.T, what string, match func(queue string, e map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-ev.ch:
			inner, _ := m["event"].(map[string]any)
			q, _ := m["queue_event_type"].(string)
			if inner != nil && match(q, inner) {
				return inner
			}
		case <-timeout:
			t.Fatalf("no %s event", what)
		}
	}
}

func isType(typ string) func(string, map[string]any) bool {
	return func(_ string, e map[string]any) bool { return e["type"] == typ }
}

func errorContaining(s string) func(string, map[string]any) bool {
	return func(_ string, e map[string]any) bool {
		m, _ := e["message"].(string)
		return e["type"] == "error" && strings.Contains(m, s)
	}
}

// roundTrip publishes one input segment and reads it back from the output.
func roundTrip(t *testing.T, in *trickle.Publisher, out *trickle.Subscriber, payload string) {
	t.Helper()
	if err := in.Write([]byte(payload)); err != nil {
		t.Fatalf("publish input: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		seg, err := out.Next(ctx)
		if err != nil {
			t.Fatalf("read output: %v", err)
		}
		b, _ := io.ReadAll(seg)
		seg.Close()
		if string(b) == payload {
			return
		}
	}
}

// Scenarios 12-14, 16 and the passthrough end to end: start, output,
// events, control updates (keepalive, invalid JSON, > 32 KB, bad
// workflow, over the limit), input EOS → stop → IDLE.
func TestLiveStream(t *testing.T) {
	e := newEnv(t, Config{MaxControlBytes: 128 << 10})
	base := e.channels("m1", false)
	ev := e.events(base)
	if h := e.health(); h != "IDLE" {
		t.Fatalf("health %s before a stream", h)
	}
	code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, `{"prompt":{"1":{"class_type":"LoadImage","inputs":{}}},"width":512,"height":512}`))
	if code != 200 || !strings.Contains(body, `"publish_url"`) {
		t.Fatalf("start: %d %s", code, body)
	}
	e.waitHealth("OK")
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{})
	out := trickle.NewSubscriber(e.client, base+"-out", trickle.SeqCurrent)
	defer out.Close()
	for i := 0; i < 3; i++ {
		roundTrip(t, in, out, fmt.Sprintf("segment-%d", i))
	}
	ev.wait(t, "trace", func(q string, m map[string]any) bool {
		return q == "stream_trace" && m["type"] == "runner_send_first_processed_segment"
	})
	st := ev.wait(t, "status", isType("status"))
	for _, k := range []string{"pipeline", "start_time", "state", "last_state_update_time", "input_status", "inference_status", "last_status_timestamp", "timestamp"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status event lacks %s: %v", k, st)
		}
	}
	inf, _ := st["inference_status"].(map[string]any)
	for _, k := range []string{"last_output_time", "fps", "last_params_update_time", "last_params", "last_params_hash", "last_error_time", "last_error", "last_restart_time", "last_restart_logs", "restart_count"} {
		if _, ok := inf[k]; !ok {
			t.Errorf("inference_status lacks %s", k)
		}
	}
	firstHash := inf["last_params_hash"]

	ctrl := trickle.NewPublisher(e.client, base+"-control", trickle.PublisherOptions{ContentType: "application/json"})
	defer ctrl.Close()
	ctrl.Write([]byte(`{"keep":"alive"}`))
	ctrl.Write([]byte(`{"prompt": not json`))
	ev.wait(t, "invalid JSON error", errorContaining("not a JSON object"))
	ctrl.Write([]byte(`{"prompt":` + badWorkflow + `}`))
	ev.wait(t, "bad workflow error", errorContaining("running workflow stays"))
	// A > 32 KB workflow is read whole and applied.
	big := fmt.Sprintf(`{"prompt":{"1":{"class_type":"LoadImage","inputs":{"pad":%q}}}}`, strings.Repeat("x", 40<<10))
	ctrl.Write([]byte(big))
	ev.wait(t, "status with the new params", func(_ string, m map[string]any) bool {
		inf, _ := m["inference_status"].(map[string]any)
		return m["type"] == "status" && inf["last_params_hash"] != firstHash
	})
	ctrl.Write([]byte(fmt.Sprintf(`{"prompt":{"1":{"class_type":"LoadImage","inputs":{"pad":%q}}}}`, strings.Repeat("y", 130<<10))))
	ev.wait(t, "over-limit error", errorContaining("larger than"))
	roundTrip(t, in, out, "after-updates") // the stream survived
	_, sb, _ := e.do("GET", "/stream/status", "")
	if !strings.Contains(sb, `"params_updates":1`) {
		t.Errorf("status: %s", sb)
	}
	_, mb, _ := e.do("GET", "/metrics", "")
	for _, want := range []string{"comfyrt_streams_active 1", `comfyrt_stream_segments_in_total{stream="s1"}`, `comfyrt_health{status="OK"} 1`} {
		if !strings.Contains(mb, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// Input EOS: the stream stops, the output channel is closed, IDLE.
	in.Close()
	e.waitHealth("IDLE")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		seg, err := out.Next(ctx)
		if err != nil {
			if !trickle.IsTerminal(err) {
				t.Fatalf("output end: %v", err)
			}
			break
		}
		seg.Close()
	}
}

// Scenario 12 error cases, auth, limits, and a bad workflow that does not
// take the server down.
func TestLiveStartErrors(t *testing.T) {
	e := newEnv(t, Config{Token: "secret", MaxBodyBytes: 4096})
	base := e.channels("m1", false)
	auth := []string{"Authorization", "Bearer secret"}
	tests := []struct {
		name string
		body string
		hdr  []string
		code int
		want string
	}{
		{"no token", liveBody(base, "{}"), nil, 401, "Invalid bearer token"},
		{"wrong token", liveBody(base, "{}"), []string{"Authorization", "Bearer nope"}, 401, "Invalid bearer token"},
		{"missing publish_url", fmt.Sprintf(`{"subscribe_url":%q}`, base), auth, 422, `"publish_url"`},
		{"wrong model", strings.Replace(liveBody(base, "{}"), `"comfyui"`, `"streamdiffusion"`, 1), auth, 400, `"detail":{"msg"`},
		{"bad workflow", liveBody(base, `{"prompt":`+badWorkflow+`}`), auth, 400, "missing_node_type"},
		{"extra param", liveBody(base, `{"bogus":1}`), auth, 400, "bogus"},
		{"bad size", liveBody(base, `{"width":100}`), auth, 400, "width"},
		{"too large", liveBody(base, fmt.Sprintf(`{"prompt":%q}`, strings.Repeat("x", 5000))), auth, 413, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := e.do("POST", "/live-video-to-video", tc.body, tc.hdr...)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %s, want %d with %q", code, body, tc.code, tc.want)
			}
			if code == 401 && hdr.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	if e.health() != "IDLE" {
		t.Fatal("a failed start left a stream")
	}
	// The next stream on the same process works.
	if code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, "{}"), auth...); code != 200 {
		t.Fatalf("start after errors: %d %s", code, body)
	}
	in, out := e.pipe(base)
	roundTrip(t, in, out, "works")

	// A second start replaces the running stream (capacity 1).
	base2 := e.channels("m2", false)
	if code, body, _ := e.do("POST", "/live-video-to-video", strings.Replace(liveBody(base2, "{}"), `"s1"`, `"s2"`, 1), auth...); code != 200 {
		t.Fatalf("second start: %d %s", code, body)
	}
	in2, out2 := e.pipe(base2)
	roundTrip(t, in2, out2, "second")
	_, sb, _ := e.do("GET", "/stream/status", "", auth...)
	if strings.Count(sb, `"stream_id"`) != 1 || !strings.Contains(sb, `"s2"`) {
		t.Fatalf("after replace: %s", sb)
	}
}

// Scenario 17: no input → the stream stops by itself; health back to IDLE.
func TestInputStall(t *testing.T) {
	e := newEnv(t, Config{InputTimeout: 300 * time.Millisecond})
	base := e.channels("m1", false)
	ev := e.events(base)
	if code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, "{}")); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	ev.wait(t, "stall error", errorContaining("no input for"))
	e.waitHealth("IDLE")
}

// Scenario 9: the orchestrator deletes the output channel → stop, IDLE.
func TestOutputTornDown(t *testing.T) {
	e := newEnv(t, Config{})
	base := e.channels("m1", false)
	if code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, "{}")); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	in, out := e.pipe(base)
	roundTrip(t, in, out, "one")
	e.orch.DeleteChannel("m1-out")
	in.Write([]byte("two"))
	e.waitHealth("IDLE")
}

// Scenario 13 (health states) and 19 (BYOC).
func TestBYOC(t *testing.T) {
	var fatal atomic.Pointer[error]
	e := newEnv(t, Config{Loading: true, Capacity: 2, Token: "tok", Fatal: func() error {
		if err := fatal.Load(); err != nil {
			return *err
		}
		return nil
	}})
	auth := []string{"Authorization", "Bearer tok", "X-Stream-Id", "b1"}
	if e.health() != "LOADING" {
		t.Fatal("not LOADING")
	}
	if code, _, _ := e.do("POST", "/stream/params", `{}`, auth...); code != 400 {
		t.Errorf("params without a stream: %d", code)
	}
	if code, _, _ := e.do("POST", "/stream/stop", ``, auth...); code != 400 {
		t.Errorf("stop without a stream: %d", code)
	}
	base := e.channels("b1", true)
	start := fmt.Sprintf(`{"params":{"prompts":[{"1":{"class_type":"LoadImage","inputs":{}}}],"width":512,"height":512,"warmup":1},"gateway_request_id":"b1","subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"data_url":%q}`,
		base, base+"-out", base+"-control", base+"-events", base+"-data")
	if code, _, _ := e.do("POST", "/stream/start", start, auth...); code != 503 {
		t.Errorf("start while loading: %d", code)
	}
	if code, _, _ := e.do("POST", "/stream/start", start, "X-Stream-Id", "b1"); code != 401 {
		t.Errorf("start without a token: %d", code)
	}
	e.srv.SetReady()
	if e.health() != "IDLE" {
		t.Fatal("not IDLE when ready")
	}
	code, body, _ := e.do("POST", "/stream/start", start, auth...)
	if code != 200 || !strings.Contains(body, `"status":"success"`) {
		t.Fatalf("start: %d %s", code, body)
	}
	e.waitHealth("OK")
	data := trickle.NewSubscriber(e.client, base+"-data", trickle.SeqCurrent)
	defer data.Close()
	in, out := e.pipe(base)
	roundTrip(t, in, out, "byoc")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	seg, err := data.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := io.ReadAll(seg)
	seg.Close()
	var m map[string]any
	if err := json.Unmarshal(bytes.Split(line, []byte("\n"))[0], &m); err != nil || m["type"] != "segment" {
		t.Fatalf("data line %q: %v", line, err)
	}
	if code, body, _ := e.do("POST", "/stream/params", `{"prompt":`+badWorkflow+`}`, auth...); code != 400 || !strings.Contains(body, "missing_node_type") {
		t.Errorf("bad params: %d %s", code, body)
	}
	if code, body, _ := e.do("POST", "/stream/params", `{"prompt":{"2":{"class_type":"LoadImage","inputs":{}}}}`, auth...); code != 200 {
		t.Errorf("params: %d %s", code, body)
	}
	// The resolution cannot change within a stream: 400, the workflow stays.
	if code, body, _ := e.do("POST", "/stream/params", `{"prompt":{"3":{"class_type":"LoadImage","inputs":{}}},"width":384}`, auth...); code != 400 || !strings.Contains(body, "Cannot change output resolution mid-stream") {
		t.Errorf("params with another width: %d %s", code, body)
	}
	if code, body, _ := e.do("POST", "/stream/params", `{"prompt":{"3":{"class_type":"LoadImage","inputs":{}}},"width":512,"height":512}`, auth...); code != 200 {
		t.Errorf("params at the stream's size: %d %s", code, body)
	}
	roundTrip(t, in, out, "after params")
	// Capacity 2: a third stream is refused.
	b2, b3 := e.channels("b2", false), e.channels("b3", false)
	mk := func(b, id string) string {
		return fmt.Sprintf(`{"params":{},"gateway_request_id":%q,"subscribe_url":%q,"publish_url":%q}`, id, b, b+"-out")
	}
	if code, body, _ := e.do("POST", "/stream/start", mk(b2, "b2"), "Authorization", "Bearer tok"); code != 200 {
		t.Fatalf("second: %d %s", code, body)
	}
	if code, body, _ := e.do("POST", "/stream/start", mk(b3, "b3"), "Authorization", "Bearer tok"); code != 503 || !strings.Contains(body, "capacity") {
		t.Fatalf("over capacity: %d %s", code, body)
	}
	if code, _, _ := e.do("POST", "/stream/stop", ``, auth...); code != 200 {
		t.Errorf("stop: %d", code)
	}
	if code, _, _ := e.do("POST", "/stream/stop", ``, "Authorization", "Bearer tok", "X-Stream-Id", "b2"); code != 200 {
		t.Errorf("stop b2: %d", code)
	}
	e.waitHealth("IDLE")
	boom := errors.New("boom")
	fatal.Store(&boom)
	if e.health() != "ERROR" {
		t.Fatal("not ERROR")
	}
}

func TestInfoEndpoints(t *testing.T) {
	e := newEnv(t, Config{})
	for _, p := range []string{"/version", "/hardware/info", "/hardware/stats"} {
		code, body, _ := e.do("GET", p, "")
		var m map[string]any
		if code != 200 || json.Unmarshal([]byte(body), &m) != nil || m["pipeline"] != "comfyui" {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	_, body, _ := e.do("GET", "/hardware/info", "")
	if !strings.Contains(body, `"gpu_info"`) || !strings.Contains(body, `"memory_info"`) {
		t.Errorf("hardware info: %s", body)
	}
}

func TestStreamState(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := func(d float64) time.Time { return t0.Add(time.Duration(d * float64(time.Second))) }
	var th Thresholds
	th.defaults()
	tests := []struct {
		name string
		in   stateInput
		want string
	}{
		{"just started", stateInput{Now: s(1), Start: s(0)}, "ONLINE"},
		{"loading no input", stateInput{Now: s(5), Start: s(0)}, "DEGRADED_INPUT"},
		{"loading with input", stateInput{Now: s(5), Start: s(0), LastInput: s(4.5)}, "DEGRADED_INFERENCE"},
		{"load timeout", stateInput{Now: s(40), Start: s(0), LastInput: s(39.5)}, "ERROR"},
		{"healthy", stateInput{Now: s(10), Start: s(0), LastInput: s(9.9), LastOutput: s(9.9)}, "ONLINE"},
		{"stalled output", stateInput{Now: s(20), Start: s(0), LastInput: s(19.9), LastOutput: s(10)}, "ERROR"},
		{"recent error", stateInput{Now: s(20), Start: s(0), LastInput: s(19.9), LastOutput: s(19.9), LastError: s(10)}, "DEGRADED_INFERENCE"},
		{"input gap", stateInput{Now: s(20), Start: s(0), LastInput: s(17), LastOutput: s(17)}, "DEGRADED_INPUT"},
		{"low input fps", stateInput{Now: s(20), Start: s(0), LastInput: s(19.9), LastOutput: s(19.9), HaveFrames: true, FPSIn: 10, FPSOut: 10}, "DEGRADED_INPUT"},
		{"low output fps", stateInput{Now: s(20), Start: s(0), LastInput: s(19.9), LastOutput: s(19.9), HaveFrames: true, FPSIn: 24, FPSOut: 5}, "DEGRADED_INFERENCE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := streamState(tc.in, th); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	testkit.CheckGoroutines(t)
	var calls atomic.Int64
	var status atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/capability/register" || r.Header.Get("Authorization") != "orch-secret" {
			w.WriteHeader(400)
			return
		}
		var c map[string]any
		if json.NewDecoder(r.Body).Decode(&c) != nil || c["name"] != "comfyrt" {
			w.WriteHeader(400)
			return
		}
		if n == 1 && status.Load() == 0 {
			w.WriteHeader(500) // transient
			return
		}
		w.Write([]byte("ok"))
	}))
	defer hs.Close()
	ctx := context.Background()
	c := Capability{OrchURL: hs.URL, OrchSecret: "orch-secret", Name: "comfyrt", Capacity: 1, RetryDelay: 10 * time.Millisecond, Attempts: 5}
	if err := Register(ctx, c); err != nil || calls.Load() != 2 {
		t.Fatalf("register: %v after %d calls", err, calls.Load())
	}
	calls.Store(0)
	status.Store(1)
	c.OrchSecret = "wrong"
	if err := Register(ctx, c); !errors.Is(err, ErrRegistrationRefused) || calls.Load() != 1 {
		t.Fatalf("400 retried or not final: %v after %d calls", err, calls.Load())
	}
}

func TestParseParams(t *testing.T) {
	def := []byte(`{"d":{}}`)
	tests := []struct {
		name, in string
		strict   bool
		want     string // workflow, or "error"
	}{
		{"object", `{"prompt":{"1":{}}}`, true, `{"1":{}}`},
		{"string", `{"prompt":"{\"1\":{}}"}`, true, `{"1":{}}`},
		{"default", `{}`, true, `{"d":{}}`},
		{"prompts list", `{"prompts":[{"1":{}}]}`, false, `{"1":{}}`},
		{"two prompts", `{"prompts":[{},{}]}`, false, "error"},
		{"extra strict", `{"x":1}`, true, "error"},
		{"extra lenient", `{"x":1}`, false, `{"d":{}}`},
		{"bad width", `{"width":500}`, true, "error"},
		{"not json", `{`, true, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseParams([]byte(tc.in), def, tc.strict)
			got := string(p.Workflow)
			if err != nil {
				got = "error"
			}
			if got != tc.want {
				t.Errorf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

// errRunner is the test Passthrough whose streams report a failure inside
// the runner (StreamIO.OnError) right after they open, as the live runner
// does for a workflow whose static steps fail while it loads.
type errRunner struct {
	*Passthrough
	msg string
}

func (r *errRunner) wrap(p *Passthrough) { r.Passthrough = p }

func (r *errRunner) Open(ctx context.Context, sio StreamIO, first Prepared) (Stream, error) {
	st, err := r.Passthrough.Open(ctx, sio, first)
	if err == nil && sio.OnError != nil {
		sio.OnError(r.msg)
	}
	return st, err
}

// A failure the runner reports becomes an error event and the status
// event's last_error; the stream goes on.
func TestRunnerError(t *testing.T) {
	const msg = "workflow static steps: LoadImage: missing.png: no such file"
	e := newEnv(t, Config{Runner: &errRunner{msg: msg}})
	base := e.channels("m1", false)
	ev := e.events(base)
	if code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, "{}")); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	got := ev.wait(t, "runner error", errorContaining(msg))
	if got["pipeline"] == nil || got["time"] == nil {
		t.Errorf("error event layout: %v", got)
	}
	ev.wait(t, "status with the runner's error", func(_ string, m map[string]any) bool {
		inf, _ := m["inference_status"].(map[string]any)
		le, _ := inf["last_error"].(string)
		return m["type"] == "status" && strings.Contains(le, msg) && inf["last_error_time"] != nil
	})
	_, mb, _ := e.do("GET", "/metrics", "")
	if !strings.Contains(mb, `comfyrt_stream_errors_total{stream="s1"} 1`) {
		t.Errorf("metrics do not count the error:\n%s", mb)
	}
	_, sb, _ := e.do("GET", "/stream/status", "")
	if !strings.Contains(sb, `"params_rejected":0`) || !strings.Contains(sb, "missing.png") {
		t.Errorf("status: %s", sb)
	}
	in, out := e.pipe(base)
	roundTrip(t, in, out, "still streaming")
}

// ai-runner's rule: the resolution cannot change within a stream. An
// update with another size is rejected with its message and the running
// workflow stays; one at the same size, or with none, is applied.
func TestResolutionFixed(t *testing.T) {
	e := newEnv(t, Config{})
	base := e.channels("m1", false)
	ev := e.events(base)
	if code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, `{"prompt":{"1":{"class_type":"LoadImage","inputs":{}}},"width":512,"height":512}`)); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	st := ev.wait(t, "status", isType("status"))
	inf, _ := st["inference_status"].(map[string]any)
	first := inf["last_params_hash"]
	ctrl := trickle.NewPublisher(e.client, base+"-control", trickle.PublisherOptions{ContentType: "application/json"})
	defer ctrl.Close()
	ctrl.Write([]byte(`{"prompt":{"2":{"class_type":"LoadImage","inputs":{}}},"width":384,"height":384}`))
	ev.wait(t, "resolution error", errorContaining("Cannot change output resolution mid-stream"))
	ctrl.Write([]byte(`{"prompt":{"2":{"class_type":"LoadImage","inputs":{}}},"height":640}`))
	ev.wait(t, "resolution error (height)", errorContaining("asks for 512x640"))
	_, sb, _ := e.do("GET", "/stream/status", "")
	if !strings.Contains(sb, `"params_updates":0`) || !strings.Contains(sb, `"params_rejected":2`) || !strings.Contains(sb, fmt.Sprint(first)) {
		t.Fatalf("after rejected size changes: %s", sb)
	}
	// Without a size, or at the stream's size: applied.
	ctrl.Write([]byte(`{"prompt":{"3":{"class_type":"LoadImage","inputs":{}}}}`))
	waitUpdates := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, sb, _ := e.do("GET", "/stream/status", "")
			if strings.Contains(sb, fmt.Sprintf(`"params_updates":%d`, n)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("want %d updates: %s", n, sb)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitUpdates(1)
	ctrl.Write([]byte(`{"prompt":{"4":{"class_type":"LoadImage","inputs":{}}},"width":512,"height":512}`))
	waitUpdates(2)

	// A stream opened without a size has the default one (512).
	base2 := e.channels("m2", false)
	ev2 := e.events(base2)
	if code, body, _ := e.do("POST", "/live-video-to-video", strings.Replace(liveBody(base2, "{}"), `"s1"`, `"s2"`, 1)); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	ctrl2 := trickle.NewPublisher(e.client, base2+"-control", trickle.PublisherOptions{ContentType: "application/json"})
	defer ctrl2.Close()
	ctrl2.Write([]byte(`{"width":768}`))
	ev2.wait(t, "resolution error", errorContaining("the stream is 512x512, the update asks for 768x512"))
}
