package server

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// handleMetrics writes Prometheus text format by hand.
func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	b := bufio.NewWriter(w)
	defer b.Flush()
	gauge := func(name, help string, v any) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", name, help, name, name, v)
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge("comfyrt_streams_active", "Streams running now.", s.active.Load())
	gauge("comfyrt_streams_capacity", "Streams this runner accepts at once.", s.cfg.Capacity)
	counter("comfyrt_streams_started_total", "Streams started.", s.started.Load())
	counter("comfyrt_streams_stopped_total", "Streams that ended.", s.stopped.Load())
	counter("comfyrt_streams_rejected_total", "Starts refused (capacity, shutdown).", s.rejected.Load())
	counter("comfyrt_streams_replaced_total", "Streams stopped by a newer start.", s.replaced.Load())
	counter("comfyrt_prompt_requests_total", "POST /prompt validations.", s.prompts.Load())
	counter("comfyrt_streams_abandoned_total", "Streams that did not stop in time and were abandoned.", s.abandonedStreams.Load())
	gauge("comfyrt_streams_abandoned_running", "Abandoned streams still running in the background.", s.stuckStreams.Load())
	gauge("comfyrt_abandoned_goroutines", "Workflow loads given up on (static timeout, stream stopped) still running in the background.", s.abandonedWork())
	for _, st := range []string{"LOADING", "IDLE", "OK", "ERROR"} {
		v := 0
		if s.Health() == st {
			v = 1
		}
		if st == "LOADING" {
			fmt.Fprintf(b, "# HELP comfyrt_health Health status (1 for the current one).\n# TYPE comfyrt_health gauge\n")
		}
		fmt.Fprintf(b, "comfyrt_health{status=%q} %d\n", st, v)
	}
	l := s.list()
	sort.Slice(l, func(i, j int) bool { return l[i].req.ID < l[j].req.ID })
	type series struct {
		name, help, typ string
		val             func(*session, sessionInfo, StreamStats) string
	}
	all := []series{
		{"comfyrt_stream_fps_in", "Input frames per second.", "gauge", func(_ *session, i sessionInfo, _ StreamStats) string { return ftoa(i.FPSIn) }},
		{"comfyrt_stream_fps_out", "Output frames per second.", "gauge", func(_ *session, i sessionInfo, _ StreamStats) string { return ftoa(i.FPSOut) }},
		{"comfyrt_stream_frames_dropped_total", "Frames dropped.", "counter", func(_ *session, _ sessionInfo, st StreamStats) string { return strconv.FormatInt(st.FramesDropped, 10) }},
		{"comfyrt_stream_segments_in_total", "Input segments received.", "counter", func(ss *session, _ sessionInfo, _ StreamStats) string { return strconv.FormatInt(ss.segsIn.Load(), 10) }},
		{"comfyrt_stream_segments_out_total", "Output segments published.", "counter", func(ss *session, _ sessionInfo, _ StreamStats) string {
			return strconv.FormatInt(ss.segsOut.Load(), 10)
		}},
		{"comfyrt_stream_bytes_in_total", "Input bytes received.", "counter", func(ss *session, _ sessionInfo, _ StreamStats) string {
			return strconv.FormatInt(ss.bytesIn.Load(), 10)
		}},
		{"comfyrt_stream_bytes_out_total", "Output bytes published.", "counter", func(ss *session, _ sessionInfo, _ StreamStats) string {
			return strconv.FormatInt(ss.bytesOut.Load(), 10)
		}},
		{"comfyrt_stream_params_updates_total", "Params updates applied.", "counter", func(_ *session, i sessionInfo, _ StreamStats) string { return strconv.FormatInt(i.Updates, 10) }},
		{"comfyrt_stream_errors_total", "Errors reported (rejected updates and workflow failures included).", "counter", func(_ *session, i sessionInfo, _ StreamStats) string { return strconv.FormatInt(i.Errors, 10) }},
		{"comfyrt_stream_restarts_total", "Restarts of the workflow after it fell back to passthrough.", "counter", func(_ *session, i sessionInfo, _ StreamStats) string { return strconv.Itoa(i.Restarts) }},
	}
	infos := make([]sessionInfo, len(l))
	stats := make([]StreamStats, len(l))
	for i, ss := range l {
		infos[i], stats[i] = ss.snapshot(), ss.stats()
	}
	for _, se := range all {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", se.name, se.help, se.name, se.typ)
		for i, ss := range l {
			fmt.Fprintf(b, "%s{stream=%q} %s\n", se.name, ss.req.ID, se.val(ss, infos[i], stats[i]))
		}
	}
	fmt.Fprintf(b, "# HELP comfyrt_stream_latency_seconds Frame latency (input to output).\n# TYPE comfyrt_stream_latency_seconds summary\n")
	for i, ss := range l {
		for _, q := range []struct {
			q string
			v float64
		}{{"0.5", stats[i].LatencyP50.Seconds()}, {"0.9", stats[i].LatencyP90.Seconds()}, {"0.99", stats[i].LatencyP99.Seconds()}} {
			fmt.Fprintf(b, "comfyrt_stream_latency_seconds{stream=%q,quantile=%q} %s\n", ss.req.ID, q.q, ftoa(q.v))
		}
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
