package trickletest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestChannels: a segment posted on each created channel is read back
// through the orchestrator's URL, an unknown channel is 404; the data
// channel exists only when asked for.
func TestChannels(t *testing.T) {
	o := New(t)
	base := o.Channels("s1", false)
	if base != o.HS.URL+"/ai/trickle/s1" {
		t.Errorf("base URL %s", base)
	}
	for _, ch := range []string{"s1", "s1-out", "s1-control", "s1-events"} {
		resp, err := http.Post(o.URL(ch)+"/0", "application/octet-stream", strings.NewReader("seg-"+ch))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: POST %d", ch, resp.StatusCode)
		}
		if resp, err = http.Get(o.URL(ch) + "/0"); err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "seg-"+ch {
			t.Errorf("%s: read %q (%d)", ch, b, resp.StatusCode)
		}
	}
	resp, err := http.Get(o.URL("nope") + "/0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown channel: %d", resp.StatusCode)
	}
	o.Channels("s2", true)
	if got := strings.Join(o.Server.Channels(), ","); !strings.Contains(got, "s2-data") || strings.Contains(got, "s1-data") {
		t.Errorf("channels %s: want s2-data only", got)
	}
}
