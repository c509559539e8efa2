// Package trickletest runs an orchestrator's trickle server for tests: the
// channels of a live stream under /ai/trickle/, created as go-livepeer's
// orchestrator creates them before it starts a stream on a runner. It is
// test-only (internal/archtest): the tests of executor/live,
// internal/server and cmd/comfyrt share it.
package trickletest

import (
	"net/http/httptest"
	"testing"

	"comfyrt/internal/trickle"
)

// BasePath is the orchestrator's trickle path.
const BasePath = "/ai/trickle/"

// Orchestrator is a trickle server on a local HTTP listener. It is closed
// when the test ends, after the cleanups registered later (a server under
// test that publishes to it stops first).
type Orchestrator struct {
	*trickle.Server
	HS *httptest.Server
}

// New starts an orchestrator's trickle server.
func New(t testing.TB) *Orchestrator {
	o := &Orchestrator{Server: trickle.NewServer(trickle.ServerConfig{BasePath: BasePath})}
	o.HS = httptest.NewServer(o.Server)
	t.Cleanup(func() {
		o.HS.Close()
		o.Server.Close()
	})
	return o
}

// Channels creates the channels of the stream mid — mid (input), mid-out,
// mid-control, mid-events, and mid-data when data is set — and returns
// their base URL (the input's).
func (o *Orchestrator) Channels(mid string, data bool) string {
	o.CreateChannel(mid, "video/MP2T")
	o.CreateChannel(mid+"-out", "video/MP2T")
	o.CreateChannel(mid+"-control", "application/json")
	o.CreateChannel(mid+"-events", "application/json")
	if data {
		o.CreateChannel(mid+"-data", "application/jsonl")
	}
	return o.URL(mid)
}

// URL is the URL of channel name.
func (o *Orchestrator) URL(name string) string { return o.HS.URL + BasePath + name }
