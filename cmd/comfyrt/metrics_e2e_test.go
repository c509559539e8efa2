package main

// Prometheus metrics through the built binary: `run --metrics-addr` and
// serve's /metrics are scraped over HTTP while they work, parsed as the
// text exposition format, checked for their families and types, linted
// with client_golang's promlint, and checked by `promtool check metrics`
// when promtool (Debian package prometheus) is on the PATH.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"comfyrt/executor/media/av"
	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsPipeline are the families of one pipeline (run, and per stream in
// serve), with their types.
var metricsPipeline = map[string]dto.MetricType{
	"comfyrt_frames_in_total":      dto.MetricType_COUNTER,
	"comfyrt_frames_out_total":     dto.MetricType_COUNTER,
	"comfyrt_frames_dropped_total": dto.MetricType_COUNTER,
	"comfyrt_errors_total":         dto.MetricType_COUNTER,
	"comfyrt_latency_seconds":      dto.MetricType_HISTOGRAM,
	"comfyrt_plan_seconds":         dto.MetricType_GAUGE,
	"comfyrt_warmup_seconds":       dto.MetricType_GAUGE,
	"comfyrt_first_frame_seconds":  dto.MetricType_GAUGE,
	"comfyrt_passthrough":          dto.MetricType_GAUGE,
	"comfyrt_plan_swaps_total":     dto.MetricType_COUNTER,
	"comfyrt_events_lost_total":    dto.MetricType_COUNTER,
	// The Go and process collectors.
	"go_goroutines":                dto.MetricType_GAUGE,
	"go_memstats_heap_alloc_bytes": dto.MetricType_GAUGE,
}

// metricsServe are serve's own families.
var metricsServe = map[string]dto.MetricType{
	"comfyrt_streams_active":              dto.MetricType_GAUGE,
	"comfyrt_streams_capacity":            dto.MetricType_GAUGE,
	"comfyrt_streams_started_total":       dto.MetricType_COUNTER,
	"comfyrt_streams_stopped_total":       dto.MetricType_COUNTER,
	"comfyrt_streams_rejected_total":      dto.MetricType_COUNTER,
	"comfyrt_streams_replaced_total":      dto.MetricType_COUNTER,
	"comfyrt_prompt_requests_total":       dto.MetricType_COUNTER,
	"comfyrt_health":                      dto.MetricType_GAUGE,
	"comfyrt_stream_segments_in_total":    dto.MetricType_COUNTER,
	"comfyrt_stream_segments_out_total":   dto.MetricType_COUNTER,
	"comfyrt_stream_input_bytes_total":    dto.MetricType_COUNTER,
	"comfyrt_stream_output_bytes_total":   dto.MetricType_COUNTER,
	"comfyrt_stream_params_updates_total": dto.MetricType_COUNTER,
	"comfyrt_stream_errors_total":         dto.MetricType_COUNTER,
	"comfyrt_stream_restarts_total":       dto.MetricType_COUNTER,
}

// metricsGet scrapes url; ok is false while nothing answers.
func metricsGet(t *testing.T, url string) (text string, ok bool) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", url, resp.Status, err, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("GET %s: content type %q", url, ct)
	}
	return string(b), true
}

func metricsParse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("not the text exposition format: %v\n%s", err, text)
	}
	return fams
}

// metricsValue is the value of name's series whose labels include
// labels ("k", "v", ...): a counter's or gauge's value, a histogram's
// count; ok is false when there is no such series.
func metricsValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// metricsCheck checks a scrape: every family of want with its type, the
// process collector on Linux, the conventions over every comfyrt_ family
// (no summaries, no frame-rate gauges, byte counters in _bytes_total),
// promlint, and promtool when installed.
func metricsCheck(t *testing.T, text string, want ...map[string]dto.MetricType) map[string]*dto.MetricFamily {
	t.Helper()
	fams := metricsParse(t, text)
	all := map[string]dto.MetricType{}
	if runtime.GOOS == "linux" {
		all["process_cpu_seconds_total"] = dto.MetricType_COUNTER
		all["process_resident_memory_bytes"] = dto.MetricType_GAUGE
	}
	for _, w := range want {
		for k, v := range w {
			all[k] = v
		}
	}
	for name, typ := range all {
		switch f := fams[name]; {
		case f == nil:
			t.Errorf("no family %s", name)
		case f.GetType() != typ:
			t.Errorf("%s is a %v, want a %v", name, f.GetType(), typ)
		}
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, "comfyrt_") {
			continue
		}
		if f.GetType() == dto.MetricType_SUMMARY {
			t.Errorf("%s is a summary: latency families are histograms", name)
		}
		if strings.Contains(name, "fps") {
			t.Errorf("%s: frame counters, not frame-rate gauges", name)
		}
		if strings.Contains(name, "bytes") && f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_bytes_total") {
			t.Errorf("%s: a byte counter is named ..._bytes_total", name)
		}
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	t.Run("promtool", func(t *testing.T) { testkit.Promtool(t, text) })
	if t.Failed() {
		t.Logf("scrape:\n%s", text)
	}
	return fams
}

// metricsWait scrapes url until ready accepts the families (60 s at most).
func metricsWait(t *testing.T, url string, exited <-chan error, stderr func() string, ready func(map[string]*dto.MetricFamily) bool) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for {
		select {
		case err := <-exited:
			t.Fatalf("the process exited (%v) before its metrics were ready\nlast scrape:\n%s\nstderr:\n%s", err, last, stderr())
		default:
		}
		if text, ok := metricsGet(t, url); ok {
			last = text
			if ready(metricsParse(t, text)) {
				return text
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics not ready within 60 s\nlast scrape:\n%s\nstderr:\n%s", last, stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBinary_MetricsRun: `comfyrt run --metrics-addr` on a clip read from
// a pipe (held open, so the run cannot end before the scrape) serves the
// pipeline families, counting the frames it has written, with the Go and
// process collectors; the run exits 0 once its input ends.
func TestBinary_MetricsRun(t *testing.T) {
	liveinNeed(t)
	dir := t.TempDir()
	clip, err := os.ReadFile(liveinClip(t, dir, "clip.ts", 60, "libx264"))
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	wf := filepath.Join(testkit.Root(), "workflows", "identity-api.json")
	cmd := exec.Command(testkit.Binary(t), "run", "--workflow", wf, "-i", "-", "-o", "out.ts", "--metrics-addr", addr)
	cmd.Dir = dir
	var errb syncBuffer
	cmd.Stderr = &errb
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	go func() { stdin.Write(clip) }() // the pipe stays open: the run waits for more

	text := metricsWait(t, "http://"+addr+"/metrics", exited, errb.String, func(f map[string]*dto.MetricFamily) bool {
		v, _ := metricsValue(f, "comfyrt_frames_out_total")
		return v > 0
	})
	fams := metricsCheck(t, text, metricsPipeline)
	if n, _ := metricsValue(fams, "comfyrt_latency_seconds"); n < 1 {
		t.Errorf("frames out but no latency observed:\n%s", text)
	}
	for _, l := range []string{"queue", "rate", "budget", "error", "pts"} {
		if _, ok := metricsValue(fams, "comfyrt_frames_dropped_total", "reason", l); !ok {
			t.Errorf("no comfyrt_frames_dropped_total{reason=%q}", l)
		}
	}
	for _, o := range []string{"node", "source", "sink"} {
		if _, ok := metricsValue(fams, "comfyrt_errors_total", "origin", o); !ok {
			t.Errorf("no comfyrt_errors_total{origin=%q}", o)
		}
	}
	stdin.Close()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, errb.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("run did not end within 60 s of its input's end\n%s", errb.String())
	}
}

// TestBinary_MetricsServe: serve's /metrics (open without the bearer
// token, as before) has serve's families and, per running stream, the
// pipeline families labelled stream; with FFmpeg the stream's frames and
// input bytes are counted.
func TestBinary_MetricsServe(t *testing.T) {
	const token = "s3cret"
	base, stop := startServe(t, "--token", token)
	if code, _ := metricsHTTPGet(t, base+"/stream/status"); code != http.StatusUnauthorized {
		t.Fatalf("/stream/status without the token: %d, want 401", code)
	}
	const id = "m1"
	ch := budgetOrch(t, id)
	identity, err := os.ReadFile(filepath.Join(testkit.Root(), "workflows", "identity-api.json"))
	if err != nil {
		t.Fatal(err)
	}
	start := fmt.Sprintf(`{"gateway_request_id":%q,"subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"params":{"prompt":%s}}`,
		id, ch, ch+"-out", ch+"-control", ch+"-events", identity)
	if code, body := budgetPost(t, base+"/stream/start", start, "Authorization", "Bearer "+token); code != http.StatusOK {
		t.Fatalf("/stream/start: %d %s", code, body)
	}
	var seg []byte
	if av.Available {
		testkit.NeedTools(t, "ffmpeg")
		if seg, err = os.ReadFile(liveinClip(t, t.TempDir(), "seg.ts", 30, "libx264")); err != nil {
			t.Fatal(err)
		}
	} else {
		seg = bytes.Repeat([]byte{0x47}, 188*10) // passthrough copies bytes
	}
	in := trickle.NewPublisher(trickle.NewClient(trickle.Options{}), ch, trickle.PublisherOptions{ContentType: "video/mp2t"})
	defer in.Close()
	if err := in.Write(seg); err != nil {
		t.Fatal(err)
	}
	text := metricsWait(t, base+"/metrics", nil, func() string { return "" }, func(f map[string]*dto.MetricFamily) bool {
		segs, _ := metricsValue(f, "comfyrt_stream_segments_in_total", "stream", id)
		frames, _ := metricsValue(f, "comfyrt_frames_out_total", "stream", id)
		return segs >= 1 && (frames > 0 || !av.Available)
	})
	fams := metricsCheck(t, text, metricsPipeline, metricsServe)
	for _, c := range []struct {
		name   string
		labels []string
		want   func(float64) bool
		what   string
	}{
		{"comfyrt_streams_active", nil, func(v float64) bool { return v == 1 }, "1"},
		{"comfyrt_streams_started_total", nil, func(v float64) bool { return v == 1 }, "1"},
		{"comfyrt_health", []string{"status", "OK"}, func(v float64) bool { return v == 1 }, "1"},
		{"comfyrt_health", []string{"status", "IDLE"}, func(v float64) bool { return v == 0 }, "0"},
		{"comfyrt_stream_input_bytes_total", []string{"stream", id}, func(v float64) bool { return v > 0 && v <= float64(len(seg)) }, fmt.Sprintf("in (0, %d]", len(seg))},
		{"comfyrt_frames_dropped_total", []string{"stream", id, "reason", "queue"}, func(float64) bool { return true }, "a series"},
		{"comfyrt_latency_seconds", []string{"stream", id}, func(v float64) bool { return v > 0 || !av.Available }, "observations"},
	} {
		if v, ok := metricsValue(fams, c.name, c.labels...); !ok || !c.want(v) {
			t.Errorf("%s%v = %v (present %v), want %s", c.name, c.labels, v, ok, c.what)
		}
	}
	if code, body := budgetPost(t, base+"/stream/stop", "", "X-Stream-Id", id, "Authorization", "Bearer "+token); code != http.StatusOK {
		t.Errorf("/stream/stop: %d %s", code, body)
	}
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
}

func metricsHTTPGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, b := testkit.Do(t, nil, http.MethodGet, url, "")
	return resp.StatusCode, b
}
