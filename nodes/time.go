package nodes

import "time"

// FrameTime is the time of the frame a plan runs: the frame's timestamp,
// never the wall clock, so that a run on a file gives the same results
// every time.
type FrameTime struct {
	// PTS is the frame's presentation time since the start of the stream
	// (the first frame's timestamp is 0).
	PTS time.Duration
	// Index is the frame's position in the stream, from 0.
	Index int64
	// Warmup marks a warm-up run on a dummy frame: the steps of Stateful
	// classes do not run (their outputs keep their last values, zero at
	// first), so that warming a plan up leaves their state as it was and a
	// plan may warm up while the plan it adopted them from still runs.
	Warmup bool
}

// Traits are the properties of a node class that the compiler needs before
// it makes the class's kernels (Registry.SetTraits).
type Traits struct {
	// TimeVarying: the node's outputs change from frame to frame although
	// no input does (ComfyUI's IS_CHANGED returning NaN or the time):
	// controllers, monitors, per-frame text outputs. The node and every
	// node downstream of it are per-frame steps even when none of their
	// inputs depends on the frame.
	TimeVarying bool
	// Stateful: the kernel keeps state from one frame to the next (a
	// previous frame, a phase, a counter) in its instance. When a plan is
	// rebuilt from a running one (a parameter swap) and the node is
	// unchanged — same class, same literal inputs, links from the same
	// node outputs, same input specs — the new plan takes over the kernel
	// and its state; a changed node gets a fresh kernel. Warm-up runs skip
	// such steps (FrameTime.Warmup).
	Stateful bool
	// PassThrough: the node's only output is its first input unchanged (a
	// loader wrapper whose work, such as torch.compile, comfyrt does not
	// need). The compiler removes the node: its consumers read its input's
	// producer, and the plan has no step for it.
	PassThrough bool
}

// Clocked is implemented by kernels that read the frame's time. The plan
// calls SetFrameTime before each Run of a per-frame step.
type Clocked interface {
	Kernel
	SetFrameTime(t FrameTime)
}

// TextOutput is implemented by kernels whose output is text for the
// stream's data channel (ComfyStream's SaveTextTensor): after each Run,
// Text returns the frame's text, and false when the frame has none.
type TextOutput interface {
	Kernel
	Text() (string, bool)
}
