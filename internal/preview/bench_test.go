package preview

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// BenchmarkGlassToGlass streams b.N frames of testsrc2 (320×240, 30 fps,
// VP8) through WHIP → invert workflow → WHEP on loopback and reports the
// latency from a frame handed to the publisher's encoder to the same frame
// decoded by the viewer (matched by RTP timestamp), p50 and p95, and the
// plan's own time per frame, so that transport (encode, RTP, decode twice)
// is the rest. -benchtime=1800x is a minute.
//
//	go test -run='^$' -bench=GlassToGlass -benchtime=1800x ./internal/preview
func BenchmarkGlassToGlass(b *testing.B) {
	needAV(b)
	srv, err := New(Config{Compiler: testCompiler(b), Workflow: []byte(invertWorkflow), Loopback: true, MaxFPS: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	rc, rpc := startReceiver(b, hs.URL+"/whep", "")
	defer rpc.Close()
	rc.mu.Lock()
	rc.frames = nil
	rc.mu.Unlock()
	pub := startPublisher(b, hs.URL+"/whip", "", "vp8")
	defer pub.pc.Close()
	pub.mu.Lock()
	pub.sent = nil
	pub.mu.Unlock()
	waitConnected(b, rpc, pub.pc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(b.N)*time.Second/30+time.Minute)
	defer cancel()
	b.ResetTimer()
	pub.run(ctx, b, "vp8", int64(b.N))
	time.Sleep(time.Second) // the last frames' way back (and the first's warm-up)
	b.StopTimer()
	var lat []time.Duration
	rc.mu.Lock()
	pub.mu.Lock()
	for pts, got := range rc.at {
		if sent, ok := pub.at[pts]; ok {
			lat = append(lat, got.Sub(sent))
		}
	}
	pub.mu.Unlock()
	rc.mu.Unlock()
	if len(lat) == 0 {
		b.Fatal("no frame came back")
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	st := srv.Stats()
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
	b.ReportMetric(st.PlanMS, "plan-ms")
	b.ReportMetric(q(0.5)-st.PlanMS, "transport-p50-ms")
	b.ReportMetric(float64(len(lat))/float64(b.N), "returned")
}

// waitConnected waits until every peer connection is connected.
func waitConnected(tb testing.TB, pcs ...*webrtc.PeerConnection) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, pc := range pcs {
		for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			if time.Now().After(deadline) {
				tb.Fatalf("peer connection %s after 20 s", pc.ConnectionState())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
