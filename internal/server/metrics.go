package server

import (
	"net/http"
	"sort"

	"comfyrt/internal/metrics"
)

// healthStatuses are the /health statuses, in comfyrt_health's order.
var healthStatuses = []string{"LOADING", "IDLE", "OK", "ERROR"}

// metricsHandler serves /metrics: the families of internal/metrics (the
// server's counters, per stream the pipeline's and the session's, labelled
// stream), the model families when Config.Models is set, and the Go and
// process collectors, read at every scrape.
func (s *Server) metricsHandler() http.Handler {
	srv := metrics.NewServer(healthStatuses, s.metricsSnapshot)
	if s.cfg.Models != nil {
		return metrics.Handler(metrics.NewRegistry(srv, metrics.NewModels(s.cfg.Models)))
	}
	return metrics.Handler(metrics.NewRegistry(srv))
}

// metricsSnapshot reads the counters for one scrape.
func (s *Server) metricsSnapshot() metrics.ServerStats {
	st := metrics.ServerStats{
		Active: s.active.Load(), Capacity: int64(s.cfg.Capacity),
		Started: s.started.Load(), Stopped: s.stopped.Load(), Rejected: s.rejected.Load(), Replaced: s.replaced.Load(),
		Prompts: s.prompts.Load(), Health: s.Health(),
		AbandonedStreams: s.abandonedStreams.Load(), StuckStreams: s.stuckStreams.Load(), AbandonedGoroutines: s.abandonedWork(),
	}
	l := s.list()
	sort.Slice(l, func(i, j int) bool { return l[i].req.ID < l[j].req.ID })
	for _, ss := range l {
		info := ss.snapshot()
		st.Streams = append(st.Streams, metrics.StreamStats{
			ID: ss.req.ID, Pipeline: ss.stats().Pipeline,
			SegmentsIn: ss.segsIn.Load(), SegmentsOut: ss.segsOut.Load(), BytesIn: ss.bytesIn.Load(), BytesOut: ss.bytesOut.Load(),
			Updates: info.Updates, Errors: info.Errors, Restarts: int64(info.Restarts),
		})
	}
	return st
}
