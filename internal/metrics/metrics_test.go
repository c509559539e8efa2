package metrics_test

import (
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"comfyrt/executor"
	"comfyrt/internal/metrics"
	"comfyrt/internal/testkit"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// stats returns a pipeline snapshot with every counter set; latency
// observations 4 ms, 30 ms and 2 s.
func stats() executor.Stats {
	s := executor.Stats{FramesIn: 30, FramesOut: 27, NodeErrors: 1, SourceErrors: 2, SinkErrors: 3,
		Warmup: 250 * time.Millisecond, FirstFrame: 500 * time.Millisecond, PlanTime: 20 * time.Millisecond,
		Passthrough: true, Swaps: 4, EventsLost: 5}
	s.Dropped[executor.DropQueue] = 2
	s.Dropped[executor.DropBudget] = 1
	s.Latency.Count = 3
	s.Latency.Sum = 4*time.Millisecond + 30*time.Millisecond + 2*time.Second
	for i, b := range executor.LatencyBounds {
		for _, d := range []time.Duration{4 * time.Millisecond, 30 * time.Millisecond, 2 * time.Second} {
			if d <= b {
				s.Latency.Buckets[i]++
			}
		}
	}
	return s
}

// histogram is the exposition of comfyrt_latency_seconds for one series
// (lbl: "" or `stream="x",`) with cumulative bucket counts, sum and count;
// header adds the HELP and TYPE lines.
func histogram(header bool, lbl string, counts [17]int, sum string, count int) string {
	var b strings.Builder
	if header {
		b.WriteString("# HELP comfyrt_latency_seconds Frame latency: capture to output written.\n# TYPE comfyrt_latency_seconds histogram\n")
	}
	les := []string{"0.001", "0.0025", "0.005", "0.01", "0.02", "0.033", "0.05", "0.075", "0.1", "0.15", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	for i, le := range les {
		fmt.Fprintf(&b, "comfyrt_latency_seconds_bucket{%sle=%q} %d\n", lbl, le, counts[i])
	}
	braces := ""
	if lbl != "" {
		braces = "{" + strings.TrimSuffix(lbl, ",") + "}"
	}
	fmt.Fprintf(&b, "comfyrt_latency_seconds_sum%s %s\ncomfyrt_latency_seconds_count%s %d\n", braces, sum, braces, count)
	return b.String()
}

// statsBuckets are stats()'s cumulative bucket counts (4 ms, 30 ms, 2 s).
var statsBuckets = [17]int{0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3}

// The pipeline families of comfyrt run: counters, the latency histogram
// with its exact buckets, _sum and _count, and gauges.
func TestPipelineFamilies(t *testing.T) {
	c := metrics.NewPipeline(stats)
	want := `# HELP comfyrt_frames_in_total Frames read from the source.
# TYPE comfyrt_frames_in_total counter
comfyrt_frames_in_total 30
# HELP comfyrt_frames_dropped_total Frames dropped, by reason.
# TYPE comfyrt_frames_dropped_total counter
comfyrt_frames_dropped_total{reason="budget"} 1
comfyrt_frames_dropped_total{reason="error"} 0
comfyrt_frames_dropped_total{reason="pts"} 0
comfyrt_frames_dropped_total{reason="queue"} 2
comfyrt_frames_dropped_total{reason="rate"} 0
# HELP comfyrt_errors_total Pipeline errors, by origin (node, source, sink).
# TYPE comfyrt_errors_total counter
comfyrt_errors_total{origin="node"} 1
comfyrt_errors_total{origin="sink"} 3
comfyrt_errors_total{origin="source"} 2
# HELP comfyrt_passthrough 1 when the stream fell back to passthrough.
# TYPE comfyrt_passthrough gauge
comfyrt_passthrough 1
# HELP comfyrt_warmup_seconds Time the warm-up took.
# TYPE comfyrt_warmup_seconds gauge
comfyrt_warmup_seconds 0.25
` + histogram(true, "", statsBuckets, "2.034", 3)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "comfyrt_frames_in_total", "comfyrt_frames_dropped_total",
		"comfyrt_errors_total", "comfyrt_passthrough", "comfyrt_warmup_seconds", "comfyrt_latency_seconds"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c); n != 1+1+5+3+1+1+1+1+1+1+1 {
		t.Errorf("%d series, want 17", n)
	}
}

func serverStats() metrics.ServerStats {
	return metrics.ServerStats{Active: 2, Capacity: 3, Started: 5, Stopped: 3, Rejected: 1, Prompts: 7, Health: "OK",
		Streams: []metrics.StreamStats{
			{ID: "a", Pipeline: stats(), SegmentsIn: 10, BytesIn: 1000, BytesOut: 900, Errors: 2, Restarts: 1},
			{ID: "b", SegmentsOut: 3},
		}}
}

// serve's families: the server's counters, one health series per status,
// and per stream the session's counters and the pipeline families,
// labelled stream.
func TestServerFamilies(t *testing.T) {
	c := metrics.NewServer([]string{"LOADING", "IDLE", "OK", "ERROR"}, serverStats)
	want := `# HELP comfyrt_health Health status (1 for the current one).
# TYPE comfyrt_health gauge
comfyrt_health{status="ERROR"} 0
comfyrt_health{status="IDLE"} 0
comfyrt_health{status="LOADING"} 0
comfyrt_health{status="OK"} 1
# HELP comfyrt_streams_active Streams running now.
# TYPE comfyrt_streams_active gauge
comfyrt_streams_active 2
# HELP comfyrt_streams_rejected_total Starts refused (capacity, shutdown).
# TYPE comfyrt_streams_rejected_total counter
comfyrt_streams_rejected_total 1
# HELP comfyrt_stream_input_bytes_total Input bytes received.
# TYPE comfyrt_stream_input_bytes_total counter
comfyrt_stream_input_bytes_total{stream="a"} 1000
comfyrt_stream_input_bytes_total{stream="b"} 0
# HELP comfyrt_stream_restarts_total Restarts of the workflow after it fell back to passthrough.
# TYPE comfyrt_stream_restarts_total counter
comfyrt_stream_restarts_total{stream="a"} 1
comfyrt_stream_restarts_total{stream="b"} 0
# HELP comfyrt_frames_out_total Frames written to the sink.
# TYPE comfyrt_frames_out_total counter
comfyrt_frames_out_total{stream="a"} 27
comfyrt_frames_out_total{stream="b"} 0
# HELP comfyrt_errors_total Pipeline errors, by origin (node, source, sink).
# TYPE comfyrt_errors_total counter
comfyrt_errors_total{origin="node",stream="a"} 1
comfyrt_errors_total{origin="node",stream="b"} 0
comfyrt_errors_total{origin="sink",stream="a"} 3
comfyrt_errors_total{origin="sink",stream="b"} 0
comfyrt_errors_total{origin="source",stream="a"} 2
comfyrt_errors_total{origin="source",stream="b"} 0
` + histogram(true, `stream="a",`, statsBuckets, "2.034", 3) + histogram(false, `stream="b",`, [17]int{}, "0", 0)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "comfyrt_health", "comfyrt_streams_active", "comfyrt_streams_rejected_total",
		"comfyrt_stream_input_bytes_total", "comfyrt_stream_restarts_total", "comfyrt_frames_out_total", "comfyrt_errors_total",
		"comfyrt_latency_seconds"); err != nil {
		t.Error(err)
	}
}

// The families pass client_golang's linter (promlint: names, units,
// _total on counters, help) and a pedantic registry (what Collect sends
// matches what Describe declared), Go and process collectors included.
func TestLintAndPedantic(t *testing.T) {
	pipe := metrics.NewPipeline(stats)
	srv := metrics.NewServer([]string{"IDLE", "OK"}, serverStats)
	for name, c := range map[string]prometheus.Collector{"pipeline": pipe, "server": srv} {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s: %s", name, p.Metric, p.Text)
		}
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := reg.Gather(); err != nil {
			t.Errorf("%s: pedantic gather: %v", name, err)
		}
	}
	problems, err := testutil.GatherAndLint(metrics.NewRegistry(pipe))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("registry: %s: %s", p.Metric, p.Text)
	}
}

// Handler serves the text format with the Go and process collectors
// beside comfyrt's families; promtool accepts it when installed.
func TestHandler(t *testing.T) {
	// Two registries in one process (serve tests start many servers).
	metrics.NewRegistry(metrics.NewPipeline(stats))
	h := metrics.Handler(metrics.NewRegistry(metrics.NewPipeline(stats)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	want := map[string]string{"comfyrt_latency_seconds": "HISTOGRAM", "comfyrt_frames_out_total": "COUNTER", "go_goroutines": "GAUGE"}
	if runtime.GOOS == "linux" {
		want["process_cpu_seconds_total"] = "COUNTER"
		want["process_resident_memory_bytes"] = "GAUGE"
	}
	for name, typ := range want {
		if f := fams[name]; f == nil || f.GetType().String() != typ {
			t.Errorf("%s: %v, want a %s", name, f, typ)
		}
	}
	t.Run("promtool", func(t *testing.T) { testkit.Promtool(t, body) })
}
