// Package metrics defines comfyrt's Prometheus metric families once, for
// both comfyrt run --metrics-addr (one pipeline) and serve's /metrics (the
// server's counters and one set of pipeline families per stream, labelled
// stream). It is the only user of client_golang in production code.
//
// Conventions (as the Prometheus naming guide asks): names start with
// comfyrt_, counters end in _total, byte counters in _bytes_total, times
// are in seconds, latency is a histogram (rate its _sum and _count, or
// histogram_quantile its _bucket), and there are frame counters rather
// than frame-rate gauges (rate(comfyrt_frames_out_total[1m]) is the
// output frame rate). Every registry also has the Go and process
// collectors (go_*, process_*).
//
// The values are read at scrape time from snapshots (executor.Stats and
// ServerStats), so the hot path keeps its own lock-free counters and this
// package adds nothing per frame.
//
// Imports: executor (its Stats) and client_golang only; never the server,
// live streams or commands, which sit above it.
package metrics

import (
	"net/http"

	"comfyrt/executor"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry holding the Go and process collectors and
// cs (NewPipeline, NewServer).
func NewRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(cs...)
	return reg
}

// Handler serves reg in the Prometheus exposition formats (text by
// default).
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError})
}

// pipelineFamilies are the families of one executor pipeline; labels are
// the variable labels before each family's own (serve: stream).
type pipelineFamilies struct {
	framesIn, framesOut, dropped, errors, latency            *prometheus.Desc
	plan, warmup, firstFrame, passthrough, swaps, eventsLost *prometheus.Desc
}

func newPipelineFamilies(labels ...string) pipelineFamilies {
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc("comfyrt_"+name, help, append(append([]string(nil), labels...), extra...), nil)
	}
	return pipelineFamilies{
		framesIn:    d("frames_in_total", "Frames read from the source."),
		framesOut:   d("frames_out_total", "Frames written to the sink."),
		dropped:     d("frames_dropped_total", "Frames dropped, by reason.", "reason"),
		errors:      d("errors_total", "Pipeline errors, by origin (node, source, sink).", "origin"),
		latency:     d("latency_seconds", "Frame latency: capture to output written."),
		plan:        d("plan_seconds", "Expected plan time per frame (EWMA)."),
		warmup:      d("warmup_seconds", "Time the warm-up took."),
		firstFrame:  d("first_frame_seconds", "Time from start to the first output frame (0 before it)."),
		passthrough: d("passthrough", "1 when the stream fell back to passthrough."),
		swaps:       d("plan_swaps_total", "Plans swapped in."),
		eventsLost:  d("events_lost_total", "Events the event channel had no room for."),
	}
}

func (f *pipelineFamilies) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.framesIn, f.framesOut, f.dropped, f.errors, f.latency,
		f.plan, f.warmup, f.firstFrame, f.passthrough, f.swaps, f.eventsLost} {
		ch <- d
	}
}

// collect sends s with the label values lv (one per label of
// newPipelineFamilies).
func (f *pipelineFamilies) collect(ch chan<- prometheus.Metric, s executor.Stats, lv ...string) {
	counter := func(d *prometheus.Desc, v int64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append(lv[:len(lv):len(lv)], extra...)...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	counter(f.framesIn, s.FramesIn)
	counter(f.framesOut, s.FramesOut)
	for r, n := range s.Dropped {
		counter(f.dropped, n, executor.DropReason(r).String())
	}
	counter(f.errors, s.NodeErrors, "node")
	counter(f.errors, s.SourceErrors, "source")
	counter(f.errors, s.SinkErrors, "sink")
	buckets := make(map[float64]uint64, len(executor.LatencyBounds))
	for i, b := range executor.LatencyBounds {
		buckets[b.Seconds()] = uint64(s.Latency.Buckets[i])
	}
	ch <- prometheus.MustNewConstHistogram(f.latency, uint64(s.Latency.Count), s.Latency.Sum.Seconds(), buckets, lv...)
	gauge(f.plan, s.PlanTime.Seconds())
	gauge(f.warmup, s.Warmup.Seconds())
	gauge(f.firstFrame, s.FirstFrame.Seconds())
	pt := 0.0
	if s.Passthrough {
		pt = 1
	}
	gauge(f.passthrough, pt)
	counter(f.swaps, s.Swaps)
	counter(f.eventsLost, s.EventsLost)
}

// pipeline collects one pipeline's stats without labels (comfyrt run).
type pipeline struct {
	f     pipelineFamilies
	stats func() executor.Stats
}

// NewPipeline returns a collector of the pipeline families for stats
// (Pipeline.Stats), read at every scrape.
func NewPipeline(stats func() executor.Stats) prometheus.Collector {
	return &pipeline{f: newPipelineFamilies(), stats: stats}
}

func (p *pipeline) Describe(ch chan<- *prometheus.Desc) { p.f.describe(ch) }
func (p *pipeline) Collect(ch chan<- prometheus.Metric) { p.f.collect(ch, p.stats()) }

// ServerStats is a snapshot of serve's counters.
type ServerStats struct {
	// Active is the number of streams running now; Capacity how many run
	// at once.
	Active, Capacity int64
	// Started, Stopped, Rejected (capacity, shutdown) and Replaced (by a
	// newer start) count streams; Prompts POST /prompt validations.
	Started, Stopped, Rejected, Replaced, Prompts int64
	// AbandonedStreams counts streams that did not stop in time and were
	// dropped from the list; StuckStreams those still running in the
	// background; AbandonedGoroutines workflow loads given up on (static
	// timeout, stream stopped) still running.
	AbandonedStreams, StuckStreams, AbandonedGoroutines int64
	// Health is the current /health status, one of the statuses given
	// to NewServer.
	Health string
	// Streams are the running streams, one series each (label stream).
	Streams []StreamStats
}

// StreamStats are one serve stream's counters.
type StreamStats struct {
	// ID is the stream label's value (unique among Streams).
	ID string
	// Pipeline is the stream's executor snapshot (zero while it loads or
	// passes through without a workflow).
	Pipeline executor.Stats
	// Segments and bytes received and published.
	SegmentsIn, SegmentsOut, BytesIn, BytesOut int64
	// Updates counts params updates applied; Errors every error reported
	// (rejected updates and workflow failures included); Restarts the
	// restarts of the workflow after it fell back to passthrough.
	Updates, Errors, Restarts int64
}

type server struct {
	statuses []string
	snapshot func() ServerStats
	pipe     pipelineFamilies

	active, capacity, started, stopped, rejected, replaced, prompts, health *prometheus.Desc
	abandoned, stuck, abandonedWork                                         *prometheus.Desc
	segsIn, segsOut, bytesIn, bytesOut, updates, errors, restarts           *prometheus.Desc
}

// NewServer returns a collector of serve's families for snapshot, read at
// every scrape: the server's counters, comfyrt_health with one series per
// status in statuses (1 for the current one), and per stream the pipeline
// families of NewPipeline plus the stream's own, labelled stream.
func NewServer(statuses []string, snapshot func() ServerStats) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("comfyrt_"+name, help, labels, nil)
	}
	return &server{
		statuses: statuses, snapshot: snapshot, pipe: newPipelineFamilies("stream"),
		active:        d("streams_active", "Streams running now."),
		capacity:      d("streams_capacity", "Streams this runner accepts at once."),
		started:       d("streams_started_total", "Streams started."),
		stopped:       d("streams_stopped_total", "Streams that ended."),
		rejected:      d("streams_rejected_total", "Starts refused (capacity, shutdown)."),
		replaced:      d("streams_replaced_total", "Streams stopped by a newer start."),
		prompts:       d("prompt_requests_total", "POST /prompt validations."),
		health:        d("health", "Health status (1 for the current one).", "status"),
		abandoned:     d("streams_abandoned_total", "Streams that did not stop in time and were abandoned."),
		stuck:         d("streams_abandoned_running", "Abandoned streams still running in the background."),
		abandonedWork: d("abandoned_goroutines", "Workflow loads given up on (static timeout, stream stopped) still running in the background."),
		segsIn:        d("stream_segments_in_total", "Input segments received.", "stream"),
		segsOut:       d("stream_segments_out_total", "Output segments published.", "stream"),
		bytesIn:       d("stream_input_bytes_total", "Input bytes received.", "stream"),
		bytesOut:      d("stream_output_bytes_total", "Output bytes published.", "stream"),
		updates:       d("stream_params_updates_total", "Params updates applied.", "stream"),
		errors:        d("stream_errors_total", "Errors reported (rejected updates and workflow failures included).", "stream"),
		restarts:      d("stream_restarts_total", "Restarts of the workflow after it fell back to passthrough.", "stream"),
	}
}

func (s *server) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.active, s.capacity, s.started, s.stopped, s.rejected, s.replaced, s.prompts, s.health,
		s.abandoned, s.stuck, s.abandonedWork, s.segsIn, s.segsOut, s.bytesIn, s.bytesOut, s.updates, s.errors, s.restarts} {
		ch <- d
	}
	s.pipe.describe(ch)
}

func (s *server) Collect(ch chan<- prometheus.Metric) {
	st := s.snapshot()
	metric := func(d *prometheus.Desc, t prometheus.ValueType, v int64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, float64(v), lv...)
	}
	metric(s.active, prometheus.GaugeValue, st.Active)
	metric(s.capacity, prometheus.GaugeValue, st.Capacity)
	metric(s.started, prometheus.CounterValue, st.Started)
	metric(s.stopped, prometheus.CounterValue, st.Stopped)
	metric(s.rejected, prometheus.CounterValue, st.Rejected)
	metric(s.replaced, prometheus.CounterValue, st.Replaced)
	metric(s.prompts, prometheus.CounterValue, st.Prompts)
	metric(s.abandoned, prometheus.CounterValue, st.AbandonedStreams)
	metric(s.stuck, prometheus.GaugeValue, st.StuckStreams)
	metric(s.abandonedWork, prometheus.GaugeValue, st.AbandonedGoroutines)
	for _, h := range s.statuses {
		var v int64
		if h == st.Health {
			v = 1
		}
		metric(s.health, prometheus.GaugeValue, v, h)
	}
	for _, ss := range st.Streams {
		metric(s.segsIn, prometheus.CounterValue, ss.SegmentsIn, ss.ID)
		metric(s.segsOut, prometheus.CounterValue, ss.SegmentsOut, ss.ID)
		metric(s.bytesIn, prometheus.CounterValue, ss.BytesIn, ss.ID)
		metric(s.bytesOut, prometheus.CounterValue, ss.BytesOut, ss.ID)
		metric(s.updates, prometheus.CounterValue, ss.Updates, ss.ID)
		metric(s.errors, prometheus.CounterValue, ss.Errors, ss.ID)
		metric(s.restarts, prometheus.CounterValue, ss.Restarts, ss.ID)
		s.pipe.collect(ch, ss.Pipeline, ss.ID)
	}
}
