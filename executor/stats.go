package executor

import (
	"encoding/json"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a pipeline's counters.
type Stats struct {
	// FramesIn counts frames read from the source; FramesOut frames
	// written to the sink.
	FramesIn, FramesOut int64
	// Dropped counts drops by reason (index with a DropReason).
	Dropped [numDropReasons]int64
	// FPSIn and FPSOut are the mean rates between the first and the last
	// frame read / written.
	FPSIn, FPSOut float64
	// Latency is capture → output written, over every output frame.
	Latency Latency
	// Warmup is the time RunStatic and the warm-up frames took;
	// FirstFrame the time from Start to the first output written (0
	// before it).
	Warmup, FirstFrame time.Duration
	// PlanTime is the EWMA of the plan's time per frame.
	PlanTime time.Duration
	// NodeErrors, SourceErrors and SinkErrors count errors by origin.
	NodeErrors, SourceErrors, SinkErrors int64
	// Passthrough reports that the stream fell back to passthrough.
	Passthrough bool
	// Swaps counts plans that took over through Swap.
	Swaps int64
	// EventsLost counts events Config.Events had no room for.
	EventsLost int64
}

// Latency summarises a latency distribution (quantiles within 4 %).
type Latency struct {
	P50, P95, P99, Max time.Duration
	Sum                time.Duration
	Count              int64
	// Buckets[i] counts the latencies at most LatencyBounds[i]
	// (cumulative, exact: a Prometheus histogram's buckets).
	Buckets [len(LatencyBounds)]int64
}

// LatencyBounds are the upper bounds of Latency.Buckets: fine around a
// frame interval (33 ms at 30 fps), coarse beyond a second.
var LatencyBounds = [...]time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	20 * time.Millisecond, 33 * time.Millisecond, 50 * time.Millisecond, 75 * time.Millisecond,
	100 * time.Millisecond, 150 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// DroppedTotal is the number of frames dropped for any reason.
func (s Stats) DroppedTotal() int64 {
	var n int64
	for _, d := range s.Dropped {
		n += d
	}
	return n
}

// Errors is the number of errors of any origin.
func (s Stats) Errors() int64 { return s.NodeErrors + s.SourceErrors + s.SinkErrors }

// statsJSON is the --stats-json shape.
type statsJSON struct {
	FramesIn      int64     `json:"frames_in"`
	FramesOut     int64     `json:"frames_out"`
	FramesDropped int64     `json:"frames_dropped"`
	FPSOut        float64   `json:"fps_out"`
	LatencyMS     latencyMS `json:"latency_ms"`
	FirstFrameMS  float64   `json:"first_frame_ms"`
	Errors        int64     `json:"errors"`
}

type latencyMS struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// JSON renders {"frames_in", "frames_out", "frames_dropped", "fps_out",
// "latency_ms": {"p50", "p95", "p99"}, "first_frame_ms", "errors"}, the
// CLI's --stats-json.
func (s Stats) JSON() ([]byte, error) {
	return json.Marshal(statsJSON{
		FramesIn: s.FramesIn, FramesOut: s.FramesOut, FramesDropped: s.DroppedTotal(),
		FPSOut:       math.Round(s.FPSOut*1000) / 1000,
		LatencyMS:    latencyMS{P50: ms(s.Latency.P50), P95: ms(s.Latency.P95), P99: ms(s.Latency.P99)},
		FirstFrameMS: ms(s.FirstFrame), Errors: s.Errors(),
	})
}

// counters are the live statistics, updated without allocation.
type counters struct {
	in, out                       atomic.Int64
	dropped                       [numDropReasons]atomic.Int64
	nodeErrs, sourceErrs, sinkErr atomic.Int64
	passthrough                   atomic.Bool
	swaps, eventsLost             atomic.Int64
	warmup, firstFrame, planEWMA  atomic.Int64 // ns
	// first/last read and written, ns since the pipeline's epoch + 1 (0:
	// none yet).
	firstIn, lastIn, firstOut, lastOut atomic.Int64

	mu  sync.Mutex
	lat histogram
}

func stamp(first, last *atomic.Int64, t int64) {
	first.CompareAndSwap(0, t)
	last.Store(t)
}

func rate(n int64, first, last int64) float64 {
	if n < 2 || last <= first {
		return 0
	}
	return float64(n-1) / (float64(last-first) / 1e9)
}

func (c *counters) snapshot() Stats {
	s := Stats{
		FramesIn: c.in.Load(), FramesOut: c.out.Load(),
		Warmup: time.Duration(c.warmup.Load()), FirstFrame: time.Duration(c.firstFrame.Load()),
		PlanTime:   time.Duration(c.planEWMA.Load()),
		NodeErrors: c.nodeErrs.Load(), SourceErrors: c.sourceErrs.Load(), SinkErrors: c.sinkErr.Load(),
		Passthrough: c.passthrough.Load(), Swaps: c.swaps.Load(), EventsLost: c.eventsLost.Load(),
	}
	for i := range c.dropped {
		s.Dropped[i] = c.dropped[i].Load()
	}
	s.FPSIn = rate(s.FramesIn, c.firstIn.Load(), c.lastIn.Load())
	s.FPSOut = rate(s.FramesOut, c.firstOut.Load(), c.lastOut.Load())
	c.mu.Lock()
	s.Latency = c.lat.summary()
	c.mu.Unlock()
	return s
}

// histogram is a fixed log-bucketed histogram of durations: bucket i > 0
// holds (histMin·histGrowth^(i-1), histMin·histGrowth^i].
type histogram struct {
	n     [histBuckets]int64
	le    [len(LatencyBounds)]int64 // not cumulative: le[i] holds (LatencyBounds[i-1], LatencyBounds[i]]
	count int64
	sum   time.Duration
	max   time.Duration
}

const (
	histBuckets = 450 // up to about 44 s
	histMin     = time.Microsecond
	histGrowth  = 1.04
)

var histLogGrowth = math.Log(histGrowth)

func (h *histogram) add(d time.Duration) {
	i := 0
	if d > histMin {
		i = int(math.Ceil(math.Log(float64(d)/float64(histMin)) / histLogGrowth))
		i = min(max(i, 0), histBuckets-1)
	}
	h.n[i]++
	if j, _ := slices.BinarySearch(LatencyBounds[:], d); j < len(h.le) {
		h.le[j]++
	}
	h.count++
	h.sum += d
	h.max = max(h.max, d)
}

// quantile returns the upper edge of the bucket holding the q-quantile
// (capped at the maximum seen).
func (h *histogram) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	target := int64(math.Ceil(q * float64(h.count)))
	target = max(target, 1)
	var cum int64
	for i, n := range h.n {
		cum += n
		if cum >= target {
			edge := time.Duration(float64(histMin) * math.Pow(histGrowth, float64(i)))
			return min(edge, h.max)
		}
	}
	return h.max
}

func (h *histogram) summary() Latency {
	l := Latency{P50: h.quantile(0.50), P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max, Sum: h.sum, Count: h.count}
	var cum int64
	for i, n := range h.le {
		cum += n
		l.Buckets[i] = cum
	}
	return l
}
