package executor

import (
	"comfyrt/compiler"
	"errors"
	"fmt"

	"comfyrt/nodes"
)

// Sentinel errors.
var (
	// ErrClosed is returned by control calls (Swap, SetBudget, Snapshot)
	// once the pipeline is closing or closed, and by Start after Close.
	ErrClosed = errors.New("executor: pipeline closed")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("executor: pipeline already started")
	// ErrConfig wraps the misconfigurations New reports.
	ErrConfig = errors.New("executor: bad config")
	// ErrOutput is the error of a frame whose plan output cannot be shown
	// as a picture (not an IMAGE [B,H,W,1|3|4] or MASK [B,H,W]).
	ErrOutput = errors.New("plan output is not a picture")
)

// NodeError is a run-time failure of the plan on one frame: a kernel error
// or a panic recovered at the kernel boundary (nodes.PanicError).
type NodeError struct {
	// NodeID and ClassType name the failing node when the plan said
	// (compiler.StepError); empty otherwise.
	NodeID, ClassType string
	// Frame is the source index of the frame (-1 during warm-up).
	Frame int64
	Err   error
}

func (e *NodeError) Error() string {
	if e.NodeID == "" {
		return fmt.Sprintf("frame %d: %v", e.Frame, e.Err)
	}
	err := e.Err
	if se, ok := err.(*compiler.StepError); ok && se.NodeID == e.NodeID {
		err = se.Err // it would name the node again
	}
	return fmt.Sprintf("frame %d: node %s (%s): %v", e.Frame, e.NodeID, e.ClassType, err)
}

// Unwrap returns the plan's error.
func (e *NodeError) Unwrap() error { return e.Err }

// ExceptionType classifies the error for ComfyUI's execution_error
// exception_type: "Panic" for a recovered panic, "OutputError" for
// ErrOutput, else "RuntimeError".
func (e *NodeError) ExceptionType() string {
	var pe *nodes.PanicError
	switch {
	case errors.As(e.Err, &pe):
		return "Panic"
	case errors.Is(e.Err, ErrOutput):
		return "OutputError"
	}
	return "RuntimeError"
}

// newNodeError wraps a plan error once, naming the node when the error is
// a compiler.StepError.
func newNodeError(frame int64, err error) *NodeError {
	ne := &NodeError{Frame: frame, Err: err}
	var se *compiler.StepError
	if errors.As(err, &se) {
		ne.NodeID, ne.ClassType = se.NodeID, se.Class
	}
	return ne
}
