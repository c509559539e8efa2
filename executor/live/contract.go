package live

// The stream contract: what internal/server (the HTTP sessions) hands a
// stream runner and what it gets back. Runner implements StreamRunner on
// the executor; the server's passthrough runner and test runners implement
// it too.

import (
	"context"
	"errors"
	"io"
	"time"

	"comfyrt/executor"
)

// ErrOutputClosed: the gateway tore the session down (the output channel
// answered 404 or Lp-Trickle-Closed).
var ErrOutputClosed = errors.New("output channel closed by the orchestrator")

// Params are a stream's parameters after parsing (LIVEPEER.md §2.2): the
// workflow and the frame size.
type Params struct {
	// Workflow is the workflow's JSON (API or UI format).
	Workflow []byte
	// Width and Height of the output (0: the runner's default).
	Width, Height int
	// ShowReloadingFrame asks for placeholder frames while a workflow
	// loads (ai-runner's show_reloading_frame; default true).
	ShowReloadingFrame bool
	// Raw is the params object as received (for events and hashes).
	Raw map[string]any
}

// Prepared is a workflow compiled for a stream, ready to run or to swap
// in. Close releases it when it is never used.
type Prepared interface {
	Close() error
}

// SegmentSource yields the input's segments (MPEG-TS from the gateway)
// in order. NextSegment returns io.EOF when the input ended (end of
// stream, or the channel is gone).
type SegmentSource interface {
	NextSegment(ctx context.Context) (seq int, r io.ReadCloser, err error)
}

// SegmentSink starts output segments. A segment's bytes reach the gateway
// while they are written; Close completes it. An error that wraps
// ErrOutputClosed means the gateway tore the session down: stop.
type SegmentSink interface {
	NewSegment(ctx context.Context) (io.WriteCloser, error)
}

// DataSink receives JSON lines for the BYOC data channel (nil when the
// stream has none). WriteLine does not block on the network.
type DataSink interface {
	WriteLine(v any)
}

// StreamIO is what a runner gets for one stream.
type StreamIO struct {
	ID     string
	Input  SegmentSource
	Output SegmentSink
	Data   DataSink // may be nil
	// Width and Height are the requested output size (0: default).
	Width, Height int
	// OnError, when not nil, reports a failure inside the stream that
	// does not end it: a workflow whose static steps or warm-up fail while
	// it loads, a switch to passthrough after repeated frame errors. The
	// session turns each into an error event and the status event's
	// last_error. Safe from any goroutine; it does not block.
	OnError func(msg string)
	// OnRestart, when not nil, reports that the runner restarted the
	// stream's workflow after it failed: count is the stream's restart
	// count so far, logs the errors that led to it. The session turns it
	// into a restart event and the status event's restart fields. Safe
	// from any goroutine; it does not block.
	OnRestart func(count int, logs []string)
}

// StreamStats are a stream's counters as the runner sees them. Frame
// counters may stay 0 for runners that do not decode (the passthrough);
// frame-rate health checks are then skipped.
type StreamStats struct {
	FramesIn, FramesOut, FramesDropped int64
	// Latency percentiles of frames (input arrival → output), 0 if unknown.
	LatencyP50, LatencyP90, LatencyP99 time.Duration
	// Loading is true while a workflow (re)loads.
	Loading bool
	// Pipeline is the running pipeline's full snapshot (zero when there
	// is none), for the per-stream metrics.
	Pipeline executor.Stats
}

// Stream is one running stream.
type Stream interface {
	// Swap replaces the running workflow at a frame boundary. The stream
	// owns p from then on (also when Swap fails).
	Swap(ctx context.Context, p Prepared) error
	// Stats is a snapshot of the counters; safe from any goroutine.
	Stats() StreamStats
	// Done is closed when the stream ended by itself: input EOS, output
	// torn down, or a fatal error (Err).
	Done() <-chan struct{}
	Err() error
	// Close stops the stream and waits for its goroutines.
	Close() error
}

// StreamRunner runs streams; the executor implements it (Runner) (compile with
// compiler.Compile, decode the input segments, run the plan per frame,
// encode MPEG-TS segments). Prepare and Open must be safe for concurrent
// use: several streams run at once.
type StreamRunner interface {
	// Prepare compiles params for a stream. A workflow that does not
	// compile returns an error (a diag.List for ComfyUI-shaped details);
	// it never affects running streams.
	Prepare(ctx context.Context, p Params) (Prepared, error)
	// Open starts a stream on io with the prepared workflow; the stream
	// owns first from then on. It returns quickly; the stream runs until
	// Close or until it ends by itself.
	Open(ctx context.Context, io StreamIO, first Prepared) (Stream, error)
}
