package nodes

import (
	"fmt"
	"runtime"

	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// Kernel is the implementation of one workflow node. See the package
// documentation for the contract of the two phases.
type Kernel interface {
	// Prepare checks the input specs (one per declared input, in
	// input_order), reads scalar parameters from their Const, allocates
	// scratch buffers and returns the output specs, one per output of the
	// class. It is called when the plan is built and again whenever an
	// input spec changes; each call replaces what an earlier one set up.
	Prepare(in []value.Spec) (out []value.Spec, err error)
	// Run computes the outputs from the inputs. in matches the specs last
	// given to Prepare; out holds buffers allocated from the specs Prepare
	// returned. Run writes every element of its tensor outputs, sets its
	// scalar outputs, and does not allocate in steady state.
	Run(in []value.Value, out []value.Value) error
}

// Config is what a Factory gets to make the kernel of one node.
type Config struct {
	// NodeID is the workflow's node id ("7").
	NodeID string
	// Class is the node's class_type ("ImageBlur").
	Class string
	// Widgets holds the node's literal input values by input name, typed
	// int64, float64, string or bool (linked inputs are absent). The same
	// values reach Prepare as constant specs; factories may use them to
	// fail early.
	Widgets map[string]any
	// InputDir is the folder that file-reading nodes (LoadImage) resolve
	// their file names against.
	InputDir string
	// Confined means the workflow is untrusted (it arrived over the
	// network): the files it names must lie inside InputDir and ModelDir —
	// absolute paths are refused, and so is every file when the folder is
	// not configured. Names that climb out of a folder ("../x") are refused
	// in any case.
	Confined bool
	// Engines opens the models of model-backed nodes (TextDetection,
	// DepthAnythingTensorrt, ONNXImageModel); nil means no inference
	// engine, and those nodes fail in Prepare saying so.
	Engines engine.Provider
	// ModelDir is the models folder (ComfyUI's models/) that model file
	// names resolve against.
	ModelDir string
	// Engine holds the session options of model-backed nodes: devices in
	// preference order, threads, spinning, the engine cache folder. The
	// kernels add the input shapes.
	Engine engine.Options
	// MaxImagePixels is the largest picture (width × height) that
	// file-reading nodes decode; a file whose header claims more is
	// refused before anything is decoded. 0 means the kernels' default.
	MaxImagePixels int64
	// FrameMask, when it has data, is the MASK [1,H,W] of the frame's
	// picture (1 − alpha), for a run on a picture with an alpha channel: a
	// LoadImage bound as the frame input outputs it, as ComfyUI's LoadImage
	// does for that file, in place of the 64×64 zero mask of a picture
	// without alpha. Video frames have none.
	FrameMask value.Tensor
}

// String names the node for messages: "ImageBlur #7".
func (c Config) String() string {
	if c.NodeID == "" {
		return c.Class
	}
	return c.Class + " #" + c.NodeID
}

// Factory makes the kernel of one node. It should do no heavy work; file
// reading and allocation belong in Prepare.
type Factory func(cfg Config) (Kernel, error)

// FrameInput is implemented by kernels that can stand for the stream's
// frame input (LoadTensor, PrimaryInputLoadImage, a lone LoadImage). When
// the compiler binds a node as the frame input, it calls Prepare and Run
// with exactly one input, the frame (IMAGE [1,H,W,3]), in place of the
// declared inputs; the outputs stay those of the class, the first being the
// frame.
type FrameInput interface {
	Kernel
	// FrameInput is a marker; it does nothing.
	FrameInput()
}

// FrameOutput is implemented by kernels whose first input is a frame output
// of the stream (SaveTensor, PreviewImage, SaveImage). They have no outputs
// and their Run does nothing: the executor reads the input buffer.
type FrameOutput interface {
	Kernel
	// FrameOutput is a marker; it does nothing.
	FrameOutput()
}

// Scratcher is implemented by kernels whose Prepare allocates scratch
// memory (resampling rows, resized copies, lookup tables) whose size
// follows from the input specs. Scratch returns, without allocating, the
// bytes Prepare(in) would allocate, at least approximately from above; an
// error means Prepare would reject in. The compiler calls it before Prepare
// so that a plan over its memory budget is refused before the kernel
// allocates (plan_too_large). Kernels whose scratch is small and fixed
// need not implement it; the buffers of their outputs are counted from
// the specs Prepare returns.
type Scratcher interface {
	Kernel
	Scratch(in []value.Spec) (int64, error)
}

// Closer is implemented by kernels that hold resources (engine sessions,
// files). The owner of the plan calls Close once, when the plan is
// discarded.
type Closer interface {
	Close() error
}

// PanicError is a panic recovered at the kernel boundary.
type PanicError struct {
	// Kernel names the kernel: its String() when it has one, else its Go
	// type.
	Kernel string
	// Phase is "Prepare", "Run" or "Scratch".
	Phase string
	// Value is what was passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, at most maxStack bytes.
	Stack []byte
}

const maxStack = 8 << 10

// Error returns "kernel ImageBlur #7 panicked in Run: <value>".
func (e *PanicError) Error() string {
	return fmt.Sprintf("kernel %s panicked in %s: %v", e.Kernel, e.Phase, e.Value)
}

// Unwrap returns the panic value when it is an error (a runtime error, for
// instance), so that errors.As finds it.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// SafeRun calls k.Run and turns a panic into a *PanicError. It is the
// kernel boundary of the executor; it adds no allocation when k does not
// panic.
func SafeRun(k Kernel, in, out []value.Value) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(k, "Run", r)
		}
	}()
	return k.Run(in, out)
}

// SafePrepare calls k.Prepare and turns a panic into a *PanicError. It is
// the kernel boundary of the compiler.
func SafePrepare(k Kernel, in []value.Spec) (out []value.Spec, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, newPanicError(k, "Prepare", r)
		}
	}()
	return k.Prepare(in)
}

// SafeScratch asks k for its scratch bytes when it is a Scratcher (0
// otherwise), turning a panic into a *PanicError (phase "Scratch").
func SafeScratch(k Kernel, in []value.Spec) (n int64, err error) {
	sc, ok := k.(Scratcher)
	if !ok {
		return 0, nil
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, newPanicError(k, "Scratch", r)
		}
	}()
	return sc.Scratch(in)
}

func newPanicError(k Kernel, phase string, r any) *PanicError {
	name := fmt.Sprintf("%T", k)
	if s, ok := k.(fmt.Stringer); ok {
		name = safeString(s, name)
	}
	buf := make([]byte, maxStack)
	buf = buf[:runtime.Stack(buf, false)]
	return &PanicError{Kernel: name, Phase: phase, Value: r, Stack: buf}
}

// safeString calls s.String, falling back to def if that panics too.
func safeString(s fmt.Stringer, def string) (name string) {
	defer func() {
		if recover() != nil {
			name = def
		}
	}()
	return s.String()
}
