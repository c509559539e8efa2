package server

import (
	"sync"
	"testing"

	"comfyrt/internal/trickle"
)

// TestR1_ControlUpdateTakesPreparingGate: a params update arriving on the
// control channel while an HTTP /stream/params update of the same stream
// compiles is rejected (one compile at a time per stream), as a second
// HTTP update is (429).
func TestR1_ControlUpdateTakesPreparingGate(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	// Set before the server starts; restored after its shutdown (cleanups
	// run last-registered first).
	testPrepareHook = func(string) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(entered)
			<-release
		}
	}
	t.Cleanup(func() { testPrepareHook = func(string) {} })
	e := newEnv(t, Config{})
	base := e.channels("m1", false)
	ev := e.events(base)
	if code, body, _ := e.do("POST", "/live-video-to-video", liveBody(base, `{"prompt":{"1":{"class_type":"LoadImage","inputs":{}}}}`)); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	ev.wait(t, "status", isType("status"))
	httpDone := make(chan int, 1)
	go func() {
		code, _, _ := e.do("POST", "/stream/params", `{"prompt":{"2":{"class_type":"LoadImage","inputs":{}}}}`, "X-Stream-Id", "s1")
		httpDone <- code
	}()
	var rel sync.Once
	defer rel.Do(func() { close(release) }) // also when the test fails
	<-entered                               // the HTTP update holds the gate
	ctrl := trickle.NewPublisher(e.client, base+"-control", trickle.PublisherOptions{ContentType: "application/json"})
	defer ctrl.Close()
	ctrl.Write([]byte(`{"prompt":{"3":{"class_type":"LoadImage","inputs":{}}}}`))
	ev.wait(t, "gate rejection", errorContaining("another params update of this stream is being compiled"))
	rel.Do(func() { close(release) })
	if code := <-httpDone; code != 200 {
		t.Errorf("the HTTP update: %d", code)
	}
}
