package preview

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWHIPWHEPInvert sends testsrc2 with WHIP (VP8, then H.264), receives
// the WHEP track, decodes it and checks, frame by frame (matched by RTP
// timestamp: output PTS are the input's), that the invert workflow was
// applied.
func TestWHIPWHEPInvert(t *testing.T) {
	for _, codec := range []string{"vp8", "h264"} {
		t.Run(codec, func(t *testing.T) { testInvert(t, codec) })
	}
}

func testInvert(t *testing.T, codec string) {
	needAV(t)
	const token = "s3cret"
	srv, err := New(Config{Compiler: testCompiler(t), Workflow: []byte(invertWorkflow), Token: token, Loopback: true, MaxFPS: -1, Budget: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	rc, rpc := startReceiver(t, hs.URL+"/whep", token)
	defer rpc.Close()
	pub := startPublisher(t, hs.URL+"/whip", token, codec)
	defer pub.pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); pub.run(ctx, t, codec, 0) }()
	defer func() { cancel(); <-done }()

	matched := 0
	var inv, same float64
	for matched < 10 && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
		matched, inv, same = compare(rc, pub)
	}
	st := srv.Stats()
	t.Logf("%s: %d frames matched; mean |out − (255 − in)| %.2f, |out − in| %.2f; stats %+v", codec, matched, inv, same, st)
	if matched < 10 {
		t.Fatalf("only %d output frames matched a sent frame by timestamp", matched)
	}
	if inv > 12 || inv*4 > same {
		t.Errorf("the output is not the inverted input: mean |out − (255 − in)| = %.2f, |out − in| = %.2f", inv, same)
	}
	if !st.Connected || st.FramesOut == 0 || st.Viewers != 1 {
		t.Errorf("stats: %+v", st)
	}
}

// compare matches received frames with sent ones by PTS.
func compare(rc *receiver, pub *publisher) (n int, inv, same float64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	pub.mu.Lock()
	defer pub.mu.Unlock()
	for pts, f := range rc.frames {
		in, ok := pub.sent[pts]
		if !ok || len(in) != len(f.RGB) {
			continue
		}
		n++
		inv += meanAbs(f.RGB, in, true)
		same += meanAbs(f.RGB, in, false)
	}
	if n > 0 {
		inv, same = inv/float64(n), same/float64(n)
	}
	return n, inv, same
}

func TestTokenRequired(t *testing.T) {
	srv, err := New(Config{Compiler: testCompiler(t), Workflow: []byte(invertWorkflow), Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, c := range []struct{ method, path, auth string }{
		{"POST", "/whip", ""}, {"POST", "/whep", "Bearer nope"}, {"GET", "/api/stats", ""}, {"POST", "/api/workflow", "tok"},
		{"DELETE", "/whip/x", ""}, {"DELETE", "/whep/x", "Bearer"},
	} {
		req, _ := http.NewRequest(c.method, hs.URL+c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s with %q: %s, want 401", c.method, c.path, c.auth, resp.Status)
		}
	}
	// No trickle ICE: PATCH on a session is 405; unknown sessions are 404.
	for _, c := range []struct {
		method, path string
		want         int
	}{{"PATCH", "/whip/x", http.StatusMethodNotAllowed}, {"DELETE", "/whip/x", http.StatusNotFound}, {"DELETE", "/whep/x", http.StatusNotFound}} {
		req, _ := http.NewRequest(c.method, hs.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %s, want %d", c.method, c.path, resp.Status, c.want)
		}
	}
	resp, err := http.Get(hs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET / %s: the page is open", resp.Status)
	}
}

// TestWHIPReplace starts a second WHIP session while a viewer watches:
// it replaces the first, and the viewer goes on receiving, on the same
// connection, with timestamps that continue after the first session's.
func TestWHIPReplace(t *testing.T) {
	needAV(t)
	srv, err := New(Config{Compiler: testCompiler(t), Workflow: []byte(invertWorkflow), Loopback: true, MaxFPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	rc, rpc := startReceiver(t, hs.URL+"/whep", "")
	defer rpc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	latest := func() (n int, last int64) {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for ts := range rc.at {
			last = max(last, ts)
		}
		return len(rc.at), last
	}
	for i := range 2 {
		pub := startPublisher(t, hs.URL+"/whip", "", "vp8")
		defer pub.pc.Close()
		n0, last0 := latest()
		pub.run(ctx, t, "vp8", 20)
		time.Sleep(300 * time.Millisecond)
		n, last := latest()
		t.Logf("session %d: %d frames received (%d before), last timestamp %d", i+1, n, n0, last)
		if n < n0+10 || last <= last0 {
			t.Fatalf("session %d: %d frames received (%d before), last timestamp %d (%d before)", i+1, n, n0, last, last0)
		}
	}
	if st := srv.Stats(); !st.Connected || st.Viewers != 1 {
		t.Errorf("stats: %+v", st)
	}
}
