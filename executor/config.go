package executor

import (
	"time"

	"comfyrt/executor/media"
	"comfyrt/nodes/value"
)

// Plan is what a Pipeline runs: the run-time methods of *compiler.Plan
// (Resize returns the plan's own type, hence the type parameter). A plan
// is used by one goroutine at a time; the pipeline owns the plans it is
// given and closes them.
type Plan[P any] interface {
	// RunStatic runs the steps that do not depend on the frame.
	RunStatic() error
	// RunFrame runs the per-frame steps on frame (IMAGE [1,H,W,3] of
	// FrameSpec; ignored without a frame input).
	RunFrame(frame value.Tensor) error
	// NumOutputs is the number of frame outputs; the pipeline shows the
	// first (Output(0)) and passes the input through when there is none.
	NumOutputs() int
	// Output returns frame output i, valid until the next run.
	Output(i int) value.Value
	// HasFrameInput reports whether the plan reads the frame.
	HasFrameInput() bool
	// FrameSpec is the frame the plan expects (IMAGE [1,H,W,3]).
	FrameSpec() value.Spec
	// Resize returns a plan for w×h frames; the receiver stays usable
	// and is closed by the pipeline afterwards.
	Resize(w, h int) (P, error)
	// Close releases the plan.
	Close() error
}

// ErrorPolicy says what happens to a frame on which the plan failed.
type ErrorPolicy int

const (
	// DropFrame drops the frame (counted as DropError).
	DropFrame ErrorPolicy = iota
	// PassThrough writes the input frame unchanged.
	PassThrough
)

// QueuePolicy is the admission queue's discipline.
type QueuePolicy int

const (
	// LatestWins keeps one queued frame; a newer frame replaces it (the
	// replaced one is a DropQueue). Latency stays bounded by about one
	// plan time plus one frame interval whatever the overload; throughput
	// is the plan's capacity. This is ComfyStream's and ai-runner's
	// 1-slot drop-on-full queue.
	LatestWins QueuePolicy = iota
	// FIFO queues every frame without bound and drops none. Under
	// overload the age of output frames grows linearly and memory with
	// it: it exists as B5's baseline, not for live streams.
	FIFO
	// Block keeps one queued frame and makes the decoder wait for the slot
	// to empty (backpressure): every frame is processed, none dropped for
	// lack of room. It is for files and other sources that are not live,
	// where reading faster than the plan must not cost frames.
	Block
	// Auto decides by measurement: it starts as Block (every frame kept,
	// no frame-rate cap unless MaxFPS is set, no budget) and turns to
	// LatestWins for good once the source is found to deliver at real
	// time: over a second of media, ReadFrame waited for at least half of
	// the media's duration (a file or a fast pipe decodes far quicker than
	// its frames' duration). It then applies LiveMaxFPS and Budget and
	// emits EventLive. A live source whose plan is slower than real time
	// and whose frames pile up in front of the decoder (a pipe's writer
	// waits) is paced like a file.
	Auto
)

// Defaults.
const (
	DefaultMaxFPS               = 24
	DefaultWarmupFrames         = 5
	DefaultMaxConsecutiveErrors = 5
	// budgetProbe: when every frame would miss the budget because the
	// expected plan time alone exceeds it, one frame is run anyway after
	// this long without a start, to measure the plan again.
	budgetProbe = time.Second
	// ewmaWeight is the weight of the newest plan time in the EWMA.
	ewmaWeight = 0.2
	// poolSize bounds the idle frame buffers kept for reuse.
	poolSize = 16
	// outQueue is the capacity of the plan → encode queue.
	outQueue = 2
	// inUse is the most frames a LatestWins stream holds at once: one
	// being read, one queued, the plan's input and output, outQueue
	// waiting and one being written.
	inUse = 5 + outQueue
)

// Config configures a Pipeline. Source, Sink and Plan are required; the
// pipeline owns all three from New on and closes them in Close.
type Config[P Plan[P]] struct {
	Source media.Source
	Sink   media.Sink
	Plan   P
	// MaxFPS caps the input rate by PTS spacing (frames closer than
	// 1/MaxFPS to the last admitted one are dropped as DropRate). 0 means
	// DefaultMaxFPS; negative means no cap.
	MaxFPS float64
	// Budget is the latency budget (capture → output): a frame whose age
	// plus the expected plan time exceeds it is dropped before it starts
	// (DropBudget). 0 means none.
	Budget time.Duration
	// WarmupFrames is the number of dummy frames run at the stream's size
	// after RunStatic and before the first real frame. 0 means
	// DefaultWarmupFrames; negative means none.
	WarmupFrames int
	// OnError is the fate of a frame the plan failed on.
	OnError ErrorPolicy
	// MaxConsecutiveErrors is the number of consecutive failed frames
	// after which the stream switches to passthrough (EventPassthrough,
	// Stats.Passthrough) until the next Swap. 0 means
	// DefaultMaxConsecutiveErrors; negative means never.
	MaxConsecutiveErrors int
	// Queue is the admission discipline (LatestWins unless benchmarking).
	Queue QueuePolicy
	// LiveMaxFPS is the frame-rate cap an Auto queue applies once the
	// source is found live, when MaxFPS is negative (none before); 0
	// means DefaultMaxFPS, negative none.
	LiveMaxFPS float64
	// Events, when not nil, receives drops, errors and state changes.
	// Per-frame events (drops, errors) never block: one that does not fit
	// is counted in Stats.EventsLost; state changes (passthrough, swapped,
	// warmed up, first frame) wait up to a second for room first.
	Events chan<- Event
	// AudioTap, when not nil, is pointed at every plan the pipeline
	// switches to (before the previous one is closed), so that an output
	// re-encoding the stream's audio runs the plan's audio path (see
	// AudioTap).
	AudioTap *AudioTap
	// Now is the clock (time.Now when nil); frames' Captured must come
	// from the same clock.
	Now func() time.Time
	// OnText, when not nil, receives the text outputs of the plan
	// (ComfyStream's SaveTextTensor) after each frame it ran, on the plan
	// goroutine: it must not block.
	OnText func(Text)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventDrop: a frame was dropped (Reason says why).
	EventDrop EventKind = iota
	// EventNodeError: the plan failed on a frame (Err is a *NodeError).
	EventNodeError
	// EventSourceError: the source reported an error (Err); Fatal ones
	// end the run.
	EventSourceError
	// EventSinkError: the sink failed (Err); the run ends.
	EventSinkError
	// EventPassthrough: the stream switched to passthrough after
	// MaxConsecutiveErrors consecutive errors, or because the static steps
	// failed (Err is the last error).
	EventPassthrough
	// EventWarmedUp: warm-up finished (Duration).
	EventWarmedUp
	// EventFirstFrame: the first output frame was written (Duration since
	// Start).
	EventFirstFrame
	// EventSwapped: a new plan took over at a frame boundary.
	EventSwapped
	// EventLive: an Auto queue found its source live (it delivers at
	// real time) and turned to LatestWins.
	EventLive
)

var eventNames = [...]string{"drop", "node_error", "source_error", "sink_error", "passthrough", "warmed_up", "first_frame", "swapped", "live"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "unknown"
}

// DropReason says why a frame was dropped.
type DropReason int

const (
	// DropQueue: a newer frame replaced it in the admission slot.
	DropQueue DropReason = iota
	// DropRate: it came sooner than 1/MaxFPS after the last admitted one.
	DropRate
	// DropBudget: its age plus the expected plan time exceeded Budget.
	DropBudget
	// DropError: the plan failed on it and OnError is DropFrame.
	DropError
	// DropPTS: its PTS was not above every PTS admitted before it.
	DropPTS
	numDropReasons
)

var dropNames = [numDropReasons]string{"queue", "rate", "budget", "error", "pts"}

func (r DropReason) String() string {
	if r >= 0 && r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// Event is one thing that happened to the stream.
type Event struct {
	Kind   EventKind
	Reason DropReason // EventDrop
	// Frame is the source index of the frame concerned (-1 for none).
	Frame int64
	// PTS of the frame concerned (media.NoPTS for none).
	PTS      int64
	Err      error
	Duration time.Duration
	Time     time.Time
}
