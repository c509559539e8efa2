package executor

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
)

// WriteMetrics writes s in the Prometheus text exposition format (version
// 0.0.4), metric names prefixed comfyrt_.
func WriteMetrics(w io.Writer, s Stats) error {
	b := bufio.NewWriter(w)
	metric := func(name, typ, help string) {
		b.WriteString("# HELP comfyrt_" + name + " " + help + "\n# TYPE comfyrt_" + name + " " + typ + "\n")
	}
	sample := func(name, labels string, v float64) {
		b.WriteString("comfyrt_" + name)
		if labels != "" {
			b.WriteString("{" + labels + "}")
		}
		b.WriteString(" " + strconv.FormatFloat(v, 'g', -1, 64) + "\n")
	}
	metric("frames_in_total", "counter", "Frames read from the source.")
	sample("frames_in_total", "", float64(s.FramesIn))
	metric("frames_out_total", "counter", "Frames written to the sink.")
	sample("frames_out_total", "", float64(s.FramesOut))
	metric("frames_dropped_total", "counter", "Frames dropped, by reason.")
	for r := DropReason(0); r < numDropReasons; r++ {
		sample("frames_dropped_total", `reason="`+r.String()+`"`, float64(s.Dropped[r]))
	}
	metric("errors_total", "counter", "Errors, by origin.")
	sample("errors_total", `origin="node"`, float64(s.NodeErrors))
	sample("errors_total", `origin="source"`, float64(s.SourceErrors))
	sample("errors_total", `origin="sink"`, float64(s.SinkErrors))
	metric("fps_in", "gauge", "Mean input frame rate.")
	sample("fps_in", "", s.FPSIn)
	metric("fps_out", "gauge", "Mean output frame rate.")
	sample("fps_out", "", s.FPSOut)
	metric("latency_seconds", "summary", "Capture to output written.")
	sample("latency_seconds", `quantile="0.5"`, s.Latency.P50.Seconds())
	sample("latency_seconds", `quantile="0.95"`, s.Latency.P95.Seconds())
	sample("latency_seconds", `quantile="0.99"`, s.Latency.P99.Seconds())
	sample("latency_seconds_sum", "", s.Latency.Sum.Seconds())
	sample("latency_seconds_count", "", float64(s.Latency.Count))
	metric("plan_seconds", "gauge", "Expected plan time per frame (EWMA).")
	sample("plan_seconds", "", s.PlanTime.Seconds())
	metric("warmup_seconds", "gauge", "Time the warm-up took.")
	sample("warmup_seconds", "", s.Warmup.Seconds())
	metric("first_frame_seconds", "gauge", "Time from start to the first output frame.")
	sample("first_frame_seconds", "", s.FirstFrame.Seconds())
	metric("passthrough", "gauge", "1 when the stream fell back to passthrough.")
	pt := 0.0
	if s.Passthrough {
		pt = 1
	}
	sample("passthrough", "", pt)
	metric("plan_swaps_total", "counter", "Plans swapped in.")
	sample("plan_swaps_total", "", float64(s.Swaps))
	metric("events_lost_total", "counter", "Events the event channel had no room for.")
	sample("events_lost_total", "", float64(s.EventsLost))
	return b.Flush()
}

// MetricsHandler serves stats() in the Prometheus text format (for
// --metrics-addr); pass Pipeline.Stats.
func MetricsHandler(stats func() Stats) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = WriteMetrics(w, stats())
	})
}
