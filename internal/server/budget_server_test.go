package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func byocBody(id, base, params string) string {
	return fmt.Sprintf(`{"gateway_request_id":%q,"subscribe_url":%q,"publish_url":%q,"params":%s}`, id, base, base+"-out", params)
}

// TestBudgetCapacityBeforePrepare: a start the capacity refuses never
// reaches the runner's Prepare (which compiles and allocates), on either
// contract; a start replacing the only ai-runner stream still does.
func TestBudgetCapacityBeforePrepare(t *testing.T) {
	e := newEnv(t, Config{Capacity: 1})
	base := e.channels("g1", false)
	if code, body, _ := e.do("POST", "/stream/start", byocBody("g1", base, "{}")); code != 200 {
		t.Fatalf("first start: %d %s", code, body)
	}
	n := e.checks.Load()
	if code, body, _ := e.do("POST", "/stream/start", byocBody("g2", base, "{}")); code != http.StatusServiceUnavailable {
		t.Fatalf("start on a full runner: %d %s, want 503", code, body)
	}
	if got := e.checks.Load(); got != n {
		t.Errorf("the refused start was compiled (%d checks, %d before)", got, n)
	}
	e.do("POST", "/stream/stop", "", "X-Stream-Id", "g1")
	e.waitHealth("IDLE")
}

// TestBudgetCapacityCountsCompilingStarts: with capacity 1, a start that
// arrives while another is still compiling is refused without compiling.
func TestBudgetCapacityCountsCompilingStarts(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	slow := &slowRunner{entered: entered, release: release}
	e := newEnv(t, Config{Capacity: 1, Runner: slow})
	base := e.channels("g1", false)
	var wg sync.WaitGroup
	wg.Add(1)
	var firstCode int
	go func() {
		defer wg.Done()
		firstCode, _, _ = e.do("POST", "/stream/start", byocBody("g1", base, "{}"))
	}()
	<-entered
	second := make(chan string, 1)
	go func() {
		code, body, _ := e.do("POST", "/stream/start", byocBody("g2", base, "{}"))
		second <- fmt.Sprint(code, " ", body)
	}()
	select {
	case got := <-second:
		if !strings.HasPrefix(got, "503 ") {
			t.Errorf("second start while the first compiles: %s, want 503", got)
		}
	case <-entered:
		t.Error("a second start was compiled while the first was compiling on a runner of capacity 1")
		close(release)
		<-second
		wg.Wait()
		e.do("POST", "/stream/stop", "", "X-Stream-Id", "g2")
		return
	}
	close(release)
	wg.Wait()
	if firstCode != 200 {
		t.Errorf("first start: %d", firstCode)
	}
	e.do("POST", "/stream/stop", "", "X-Stream-Id", "g1")
	e.waitHealth("IDLE")
}

// slowRunner is the test Passthrough whose Prepare waits for release.
type slowRunner struct {
	*Passthrough
	entered chan struct{}
	release chan struct{}
}

func (r *slowRunner) wrap(p *Passthrough) { r.Passthrough = p }

func (r *slowRunner) Prepare(ctx context.Context, p Params) (Prepared, error) {
	r.entered <- struct{}{}
	<-r.release
	return r.Passthrough.Prepare(ctx, p)
}

// TestBudgetPromptConcurrencyBounded: /prompt validations beyond
// MaxPromptChecks are refused at once (429) while the others run.
func TestBudgetPromptConcurrencyBounded(t *testing.T) {
	release := make(chan struct{})
	running := make(chan struct{}, 8)
	e := newEnv(t, Config{MaxPromptChecks: 2, Validate: func([]byte) ([]byte, int) {
		running <- struct{}{}
		<-release
		return []byte(`{"prompt_id":"x","number":1,"node_errors":{}}`), 200
	}})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i], _, _ = e.do("POST", "/prompt", `{"prompt":{}}`) }()
	}
	<-running
	<-running
	type answer struct {
		code int
		body string
		hdr  http.Header
	}
	third := make(chan answer, 1)
	go func() {
		code, body, hdr := e.do("POST", "/prompt", `{"prompt":{}}`)
		third <- answer{code, body, hdr}
	}()
	select {
	case a := <-third:
		if a.code != http.StatusTooManyRequests || a.hdr.Get("Retry-After") == "" {
			t.Errorf("third concurrent /prompt: %d %s (Retry-After %q), want 429", a.code, a.body, a.hdr.Get("Retry-After"))
		}
	case <-running:
		t.Error("a third /prompt was validated while two were running")
		close(release)
		<-third
		wg.Wait()
		return
	}
	close(release)
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Errorf("the admitted validations answered %v", codes)
	}
	if code, _, _ := e.do("POST", "/prompt", `{"prompt":{}}`); code != 200 {
		t.Errorf("/prompt after the others finished: %d", code)
	}
}

// TestBudgetBodyDeadline: a control request whose body stops half way is
// answered 408 and its connection closed; a body that arrives in time is
// served, and its handler's context is not cancelled by the deadline.
func TestBudgetBodyDeadline(t *testing.T) {
	e := newEnv(t, Config{BodyTimeout: 200 * time.Millisecond, Validate: func([]byte) ([]byte, int) {
		time.Sleep(400 * time.Millisecond) // longer than the body deadline
		return []byte(`{}`), 200
	}})
	for _, path := range []string{"/stream/start", "/stream/params", "/prompt", "/live-video-to-video"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.hs.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":", path)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: no answer to an unfinished body: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%s: %s, want 408", path, resp.Status)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%s: connection still open after the answer (%v)", path, err)
		}
		conn.Close()
	}
	if code, body, _ := e.do("POST", "/prompt", `{"prompt":{}}`); code != 200 {
		t.Errorf("/prompt handled past the body deadline: %d %s", code, body)
	}
}

// paramsSlowRunner is the test Passthrough whose Prepare waits for release
// when the params hold "slow".
type paramsSlowRunner struct {
	*Passthrough
	entered chan struct{}
	release chan struct{}
}

func (r *paramsSlowRunner) wrap(p *Passthrough) { r.Passthrough = p }

func (r *paramsSlowRunner) Prepare(ctx context.Context, p Params) (Prepared, error) {
	if _, ok := p.Raw["slow"]; ok {
		r.entered <- struct{}{}
		<-r.release
	}
	return r.Passthrough.Prepare(ctx, p)
}

// TestBudgetParamsOneCompileAtATime: a /stream/params update that arrives
// while another of the same stream compiles is refused (429) without
// compiling, so concurrent requests cannot hold many plans at once.
func TestBudgetParamsOneCompileAtATime(t *testing.T) {
	r := &paramsSlowRunner{entered: make(chan struct{}, 4), release: make(chan struct{})}
	e := newEnv(t, Config{Runner: r})
	base := e.channels("g1", false)
	if code, body, _ := e.do("POST", "/stream/start", byocBody("g1", base, "{}")); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	first := make(chan int, 1)
	go func() {
		code, _, _ := e.do("POST", "/stream/params", `{"slow":1}`, "X-Stream-Id", "g1")
		first <- code
	}()
	<-r.entered
	second := make(chan string, 1)
	go func() {
		code, body, _ := e.do("POST", "/stream/params", `{"slow":2}`, "X-Stream-Id", "g1")
		second <- fmt.Sprint(code, " ", body)
	}()
	select {
	case got := <-second:
		if !strings.HasPrefix(got, "429 ") {
			t.Errorf("second update while the first compiles: %s, want 429", got)
		}
		close(r.release)
	case <-r.entered:
		t.Error("a second update of the stream compiled while the first was compiling")
		close(r.release)
		<-second
	}
	if code := <-first; code != 200 {
		t.Errorf("first update: %d", code)
	}
	if code, body, _ := e.do("POST", "/stream/params", `{"width":512}`, "X-Stream-Id", "g1"); code != 200 {
		t.Errorf("an update after the first finished: %d %s", code, body)
	}
	e.do("POST", "/stream/stop", "", "X-Stream-Id", "g1")
	e.waitHealth("IDLE")
}
