package trickle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

type peer struct {
	srv    *Server
	hs     *httptest.Server
	client *Client
	base   string
	gets   atomic.Int64
	posts  atomic.Int64
}

func newPeer(t *testing.T, cfg ServerConfig, opts Options, tls bool) *peer {
	t.Helper()
	testkit.CheckGoroutines(t)
	if cfg.BasePath == "" {
		cfg.BasePath = "/ai/trickle/"
	}
	p := &peer{srv: NewServer(cfg)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			p.gets.Add(1)
		case http.MethodPost:
			p.posts.Add(1)
		}
		p.srv.ServeHTTP(w, r)
	})
	if tls {
		p.hs = httptest.NewTLSServer(h)
	} else {
		p.hs = httptest.NewServer(h)
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 20 * time.Millisecond
	}
	p.client = NewClient(opts)
	p.base = p.hs.URL + cfg.BasePath
	t.Cleanup(func() {
		p.client.CloseIdleConnections()
		p.srv.Close()
		p.hs.Close()
	})
	return p
}

func (p *peer) channel(name string) string {
	p.srv.CreateChannel(name, "video/MP2T")
	return p.base + name
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// readSeg reads a whole segment.
func readSeg(t *testing.T, seg *Segment) string {
	t.Helper()
	defer seg.Close()
	b, err := io.ReadAll(seg)
	if err != nil {
		t.Fatalf("segment %d: %v", seg.Seq, err)
	}
	return string(b)
}

// nextAsync runs sub.Next in a goroutine.
func nextAsync(ctx context.Context, sub *Subscriber) <-chan segOrErr {
	ch := make(chan segOrErr, 1)
	go func() {
		seg, err := sub.Next(ctx)
		ch <- segOrErr{seg, err}
	}()
	return ch
}

type segOrErr struct {
	seg *Segment
	err error
}

func mustBlock(t *testing.T, ch <-chan segOrErr) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("Next returned early: %+v", r)
	case <-time.After(150 * time.Millisecond):
	}
}

func wait(t *testing.T, ch <-chan segOrErr) *Segment {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Next: %v", r.err)
		}
		return r.seg
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return")
	}
	return nil
}

func publishN(t *testing.T, pub *Publisher, n int, prefix string) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := pub.Write([]byte(prefix + strconv.Itoa(i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
}

// subscribe reads channel url from seq start; it closes when the test
// ends.
func (p *peer) subscribe(t *testing.T, url string, start int) *Subscriber {
	sub := NewSubscriber(p.client, url, start)
	t.Cleanup(func() { sub.Close() })
	return sub
}

// publish publishes on channel url; it closes when the test ends.
func (p *peer) publish(t *testing.T, url string) *Publisher {
	pub := NewPublisher(p.client, url, PublisherOptions{})
	t.Cleanup(func() { pub.Close() })
	return pub
}

// rawPost POSTs body to {url}/{seq} with the plain HTTP client.
func rawPost(t *testing.T, p *peer, url string, seq int, body string, hdr ...string) *http.Response {
	t.Helper()
	return p.do(t, http.MethodPost, url+"/"+strconv.Itoa(seq), body, hdr...)
}

// do sends a request with the plain HTTP client (hdr: name, value, …)
// and returns its response, the body read and closed.
func (p *peer) do(t *testing.T, method, url, body string, hdr ...string) *http.Response {
	t.Helper()
	resp, _ := testkit.Do(t, p.client.http, method, url, body, hdr...)
	return resp
}

// Scenario 1: subscribing before any publish blocks, then gets seq 0.
func TestSubscribeBeforePublish(t *testing.T) {
	for _, start := range []int{SeqNext, SeqCurrent} {
		t.Run(strconv.Itoa(start), func(t *testing.T) {
			p := newPeer(t, ServerConfig{}, Options{}, false)
			url := p.channel("s")
			ctx := testCtx(t)
			sub := p.subscribe(t, url, start)
			ch := nextAsync(ctx, sub)
			mustBlock(t, ch)
			pub := p.publish(t, url)
			publishN(t, pub, 1, "hello")
			seg := wait(t, ch)
			if got := readSeg(t, seg); seg.Seq != 0 || got != "hello0" {
				t.Fatalf("got seq %d %q", seg.Seq, got)
			}
			if seg.ContentType != "video/MP2T" {
				t.Errorf("Content-Type %q", seg.ContentType)
			}
		})
	}
}

// Scenario 2: late join at -1 waits for the next segment; -2 mid-write gets
// the current one from byte 0.
func TestLateJoin(t *testing.T) {
	p := newPeer(t, ServerConfig{}, Options{}, false)
	url := p.channel("s")
	ctx := testCtx(t)
	pub := p.publish(t, url)
	publishN(t, pub, 8, "x")

	next := NewSubscriber(p.client, url, SeqNext)
	defer next.Close()
	ch := nextAsync(ctx, next)
	mustBlock(t, ch)

	w, err := pub.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("prefix-")); err != nil {
		t.Fatal(err)
	}
	seg := wait(t, ch)
	if seg.Seq != 8 {
		t.Fatalf("-1 joined at %d, want 8", seg.Seq)
	}
	cur := NewSubscriber(p.client, url, SeqCurrent)
	defer cur.Close()
	cseg, err := cur.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("rest")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Segment{seg, cseg} {
		if got := readSeg(t, s); s.Seq != 8 || got != "prefix-rest" {
			t.Errorf("seq %d: %q, want the whole segment 8", s.Seq, got)
		}
	}
}

// Scenario 3: chunks reach the reader while the POST is still open.
func TestChunksStreamLive(t *testing.T) {
	p := newPeer(t, ServerConfig{}, Options{}, false)
	url := p.channel("s")
	ctx := testCtx(t)
	// Seq 0, not SeqNext: the publisher's POST of segment 0 may reach the
	// server before the subscriber's GET, and -1 would then mean segment 1.
	sub := p.subscribe(t, url, 0)
	pub := p.publish(t, url)
	w, _ := pub.Next()
	ch := nextAsync(ctx, sub)
	var seg *Segment
	for i := 0; i < 3; i++ {
		chunk := []byte(fmt.Sprintf("chunk%d", i))
		start := time.Now()
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			seg = wait(t, ch)
		}
		buf := make([]byte, len(chunk))
		if _, err := io.ReadFull(seg, buf); err != nil || !bytes.Equal(buf, chunk) {
			t.Fatalf("chunk %d: %q %v", i, buf, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("chunk %d took %v", i, d)
		}
	}
	w.Close()
	if rest, _ := io.ReadAll(seg); len(rest) != 0 {
		t.Errorf("trailing bytes %q", rest)
	}
	seg.Close()
}

// Scenario 4: a reader more than 5 segments behind gets 470 and jumps to
// the live edge; a reader evicted mid-segment gets a truncated body.
func TestFallBehind(t *testing.T) {
	p := newPeer(t, ServerConfig{}, Options{}, false)
	url := p.channel("s")
	ctx := testCtx(t)
	pub := p.publish(t, url)
	publishN(t, pub, 10, "x")
	sub := p.subscribe(t, url, 0)
	ch := nextAsync(ctx, sub)
	mustBlock(t, ch)
	publishN(t, pub, 1, "live")
	seg := wait(t, ch)
	if got := readSeg(t, seg); seg.Seq != 10 || got != "live0" {
		t.Fatalf("got %d %q, want 10 live0", seg.Seq, got)
	}
	if sub.Jumps() != 1 {
		t.Errorf("jumps = %d", sub.Jumps())
	}

	// Eviction mid-segment: a second writer fills slot 11%5 with 16.
	w, _ := pub.Next() // seq 11
	w.Write([]byte("head"))
	seg, err := sub.Next(ctx)
	if err != nil || seg.Seq != 11 {
		t.Fatalf("seq 11: %v", err)
	}
	buf := make([]byte, 4)
	io.ReadFull(seg, buf)
	rawPost(t, p, url, 16, "evictor")
	rest, err := io.ReadAll(seg)
	seg.Close()
	if err != nil || len(rest) != 0 {
		t.Fatalf("truncated body: rest %q err %v", rest, err)
	}
	w.Abort()
}

// Scenario 5: an empty segment and a dropped one give empty bodies, and
// the reader continues at N+1.
func TestEmptyAndDroppedSegments(t *testing.T) {
	p := newPeer(t, ServerConfig{}, Options{}, false)
	url := p.channel("s")
	ctx := testCtx(t)
	sub := p.subscribe(t, url, 0)
	pub := p.publish(t, url)
	if err := pub.Write(nil); err != nil { // seq 0: empty
		t.Fatal(err)
	}
	w, _ := pub.Next() // seq 1: dropped before data
	ch := nextAsync(ctx, sub)
	if seg := wait(t, ch); seg.Seq != 0 || readSeg(t, seg) != "" {
		t.Fatal("seq 0 not empty")
	}
	ch = nextAsync(ctx, sub)
	mustBlock(t, ch)
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if seg := wait(t, ch); seg.Seq != 1 || readSeg(t, seg) != "" {
		t.Fatal("dropped seq 1 not empty")
	}
	publishN(t, pub, 1, "after")
	seg, err := sub.Next(ctx)
	if err != nil || seg.Seq != 2 || readSeg(t, seg) != "after0" {
		t.Fatalf("seq 2: %v", err)
	}
}

// Scenario 6: a gap (seq 1 never written) does not stall the reader once
// 1 is closed, either by DELETE or by leaving the window.
func TestGap(t *testing.T) {
	for _, how := range []string{"delete", "evict"} {
		t.Run(how, func(t *testing.T) {
			p := newPeer(t, ServerConfig{}, Options{}, false)
			url := p.channel("s")
			ctx := testCtx(t)
			sub := p.subscribe(t, url, 0)
			rawPost(t, p, url, 0, "zero")
			if seg, _ := sub.Next(ctx); readSeg(t, seg) != "zero" {
				t.Fatal("seq 0")
			}
			ch := nextAsync(ctx, sub) // waits on 1 (pre-created)
			time.Sleep(50 * time.Millisecond)
			if r := rawPost(t, p, url, 2, "two"); r.StatusCode != 200 || r.Header.Get(HeaderSeq) != "2" {
				t.Fatalf("gap POST: %d", r.StatusCode)
			}
			mustBlock(t, ch)
			if how == "delete" {
				if r := p.do(t, http.MethodDelete, url+"/1", ""); r.StatusCode != 200 {
					t.Fatalf("DELETE seq: %d", r.StatusCode)
				}
			} else {
				for i := 3; i <= 6; i++ {
					rawPost(t, p, url, i, "n"+strconv.Itoa(i))
				}
			}
			seg := wait(t, ch)
			if seg.Seq != 1 || readSeg(t, seg) != "" {
				t.Fatalf("seq %d not the empty 1", seg.Seq)
			}
			seg, err := sub.Next(ctx)
			if err != nil || seg.Seq != 2 || readSeg(t, seg) != "two" {
				t.Fatalf("after gap: %v", err)
			}
		})
	}
}

// Scenario 7: a publisher restarting at 0 on a live channel, with and
// without Lp-Trickle-Reset: the reader recovers and reads the new run.
func TestPublisherRestart(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprint("reset=", reset), func(t *testing.T) {
			p := newPeer(t, ServerConfig{}, Options{}, false)
			url := p.channel("s")
			ctx := testCtx(t)
			a := NewPublisher(p.client, url, PublisherOptions{KeepChannel: true})
			publishN(t, a, 7, "A")
			a.Close()
			sub := p.subscribe(t, url, SeqNext)
			got := make(chan string, 1)
			go func() {
				for {
					seg, err := sub.Next(ctx)
					if err != nil {
						got <- "error: " + err.Error()
						return
					}
					b, _ := io.ReadAll(seg)
					seg.Close()
					if strings.HasPrefix(string(b), "B") {
						got <- string(b)
						return
					}
				}
			}()
			time.Sleep(50 * time.Millisecond)
			b := NewPublisher(p.client, url, PublisherOptions{Reset: reset})
			defer b.Close()
			for i := 0; ; i++ {
				select {
				case s := <-got:
					if !strings.HasPrefix(s, "B") {
						t.Fatal(s)
					}
					return
				case <-time.After(30 * time.Millisecond):
				}
				if i > 50 {
					t.Fatal("reader never recovered")
				}
				if err := b.Write([]byte("B" + strconv.Itoa(i))); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// Scenario 8: DELETE of the channel while a reader waits ends it with
// Lp-Trickle-Closed (ErrEOS); later requests get 404 once, no retries.
func TestChannelDelete(t *testing.T) {
	p := newPeer(t, ServerConfig{}, Options{}, false)
	url := p.channel("s")
	ctx := testCtx(t)
	sub := p.subscribe(t, url, SeqNext)
	ch := nextAsync(ctx, sub)
	mustBlock(t, ch)
	pub := NewPublisher(p.client, url, PublisherOptions{})
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-ch; !errors.Is(r.err, ErrEOS) {
		t.Fatalf("got %v, want EOS", r.err)
	}
	before := p.gets.Load()
	sub2 := NewSubscriber(p.client, url, SeqNext)
	defer sub2.Close()
	if _, err := sub2.Next(ctx); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("got %v, want not found", err)
	}
	if n := p.gets.Load() - before; n != 1 {
		t.Errorf("%d GETs after the delete, want 1", n)
	}
}

// Scenario 9: the publisher's POSTs get 404 or Lp-Trickle-Closed when the
// session is torn down.
func TestPublisherTornDown(t *testing.T) {
	p := newPeer(t, ServerConfig{}, Options{}, false)
	pub := NewPublisher(p.client, p.base+"missing", PublisherOptions{})
	if err := pub.Write([]byte("x")); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("got %v, want not found", err)
	}
	pub.Close()

	url := p.channel("s")
	pub = NewPublisher(p.client, url, PublisherOptions{})
	defer pub.Close()
	publishN(t, pub, 1, "x") // seq 1 is now preconnected
	time.Sleep(50 * time.Millisecond)
	p.srv.DeleteChannel("s")
	err := pub.Write([]byte("y"))
	if !IsTerminal(err) {
		t.Fatalf("got %v, want EOS or not found", err)
	}
}

// Scenario 10: an idle preconnected POST survives repeated 100 Continue;
// a blocked GET is refreshed, not failed.
func TestLongWaits(t *testing.T) {
	p := newPeer(t, ServerConfig{FirstByteTimeout: 30 * time.Millisecond}, Options{RefreshInterval: 100 * time.Millisecond}, false)
	url := p.channel("s")
	ctx := testCtx(t)
	pub := p.publish(t, url)
	sub := p.subscribe(t, url, SeqNext)
	ch := nextAsync(ctx, sub)
	time.Sleep(50 * time.Millisecond)
	publishN(t, pub, 1, "a") // preconnects seq 1
	readSeg(t, wait(t, ch))
	ch = nextAsync(ctx, sub)
	gets := p.gets.Load()
	time.Sleep(600 * time.Millisecond) // ~20 interim answers, ~6 refreshes
	mustBlock(t, ch)
	publishN(t, pub, 1, "b")
	seg := wait(t, ch)
	if got := readSeg(t, seg); seg.Seq != 1 || got != "b0" {
		t.Fatalf("got %d %q", seg.Seq, got)
	}
	if p.gets.Load()-gets < 3 {
		t.Errorf("blocked GET was not refreshed (%d GETs)", p.gets.Load()-gets)
	}
}

// Scenario 11: self-signed HTTPS with verification off, and a rewritten
// host.
func TestHTTPS(t *testing.T) {
	p := newPeer(t, ServerConfig{}, Options{InsecureSkipVerify: true}, true)
	url := p.channel("s")
	ctx := testCtx(t)
	pub := p.publish(t, url)
	sub := p.subscribe(t, url, SeqNext)
	ch := nextAsync(ctx, sub)
	time.Sleep(30 * time.Millisecond)
	publishN(t, pub, 1, "tls")
	if got := readSeg(t, wait(t, ch)); got != "tls0" {
		t.Fatal(got)
	}

	strict := NewClient(Options{RetryDelay: time.Millisecond, MaxRetries: 1})
	defer strict.CloseIdleConnections()
	s2 := NewSubscriber(strict, url, SeqNext)
	defer s2.Close()
	if _, err := s2.Next(ctx); err == nil || IsTerminal(err) {
		t.Fatalf("certificate accepted without skip-verify: %v", err)
	}

	u, err := RewriteHost("https://orch.example:8935/ai/trickle/abc-out", "127.0.0.1:9")
	if err != nil || u != "https://127.0.0.1:9/ai/trickle/abc-out" {
		t.Fatalf("RewriteHost: %q %v", u, err)
	}
}

// The server's own contract: /next, POST -1 and Lp-Trickle-Seq, DELETE of
// an absent seq, HTTP create only with Autocreate, Content-Type echo, idle
// sweep, 470 for seqs ahead of nextWrite+1.
func TestServerContract(t *testing.T) {
	p := newPeer(t, ServerConfig{IdleTimeout: 150 * time.Millisecond, SweepInterval: 20 * time.Millisecond}, Options{}, false)
	do := func(method, path string, hdr ...string) *http.Response {
		t.Helper()
		return p.do(t, method, p.base+path, "", hdr...)
	}
	if r := do(http.MethodPost, "c", HeaderExpectContent, "application/json"); r.StatusCode != 404 {
		t.Errorf("create without autocreate: %d", r.StatusCode)
	}
	if r := do(http.MethodGet, "nope/0"); r.StatusCode != 404 {
		t.Errorf("unknown channel: %d", r.StatusCode)
	}
	p.srv.CreateChannel("c", "application/json")
	url := p.base + "c"
	for i := 0; i < 8; i++ {
		rawPost(t, p, url, -1, "{}")
	}
	r := rawPost(t, p, url, -1, "{}")
	if r.Header.Get(HeaderSeq) != "8" {
		t.Errorf("POST -1 seq %q, want 8", r.Header.Get(HeaderSeq))
	}
	r = do(http.MethodGet, "c/next")
	if r.Header.Get(HeaderLatest) != "9" {
		t.Errorf("/next latest %q", r.Header.Get(HeaderLatest))
	}
	if r = do(http.MethodGet, "c/11"); r.StatusCode != StatusEntryNotFound || r.Header.Get(HeaderLatest) != "9" {
		t.Errorf("ahead: %d", r.StatusCode)
	}
	if r = do(http.MethodGet, "c/2"); r.StatusCode != StatusEntryNotFound {
		t.Errorf("evicted: %d", r.StatusCode)
	}
	if r = do(http.MethodGet, "c/6"); r.StatusCode != 200 || r.Header.Get(HeaderLatest) != "9" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("behind: %d %v", r.StatusCode, r.Header)
	}
	if r = do(http.MethodDelete, "c/1"); r.StatusCode != 400 {
		t.Errorf("DELETE absent seq: %d", r.StatusCode)
	}
	time.Sleep(400 * time.Millisecond)
	if r = do(http.MethodGet, "c/-1"); r.StatusCode != 404 {
		t.Errorf("idle channel not swept: %d", r.StatusCode)
	}

	auto := newPeer(t, ServerConfig{Autocreate: true}, Options{}, false)
	if r := auto.do(t, http.MethodPost, auto.base+"a", "", HeaderExpectContent, "application/jsonl"); r.StatusCode != 200 {
		t.Fatalf("autocreate: %d", r.StatusCode)
	}
	rawPost(t, auto, auto.base+"a", 0, "{}\n")
	sub := NewSubscriber(auto.client, auto.base+"a", SeqCurrent)
	defer sub.Close()
	seg, err := sub.Next(testCtx(t))
	if err != nil || seg.ContentType != "application/jsonl" {
		t.Fatalf("autocreated mime: %v", err)
	}
	readSeg(t, seg)
}
