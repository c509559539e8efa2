// Package nodes holds the kernel interface and an instance registry of node
// implementations (no init() globals). Schemas live in nodes/schema,
// runtime values in nodes/value, pure-Go kernels in nodes/builtin.
//
// # Kernels
//
// A Factory makes one Kernel per workflow node from a Config (node id,
// class, literal widget values, input folder). A kernel has two phases:
//
//   - Prepare, once when the plan is built and again whenever an input spec
//     changes (a new stream size, a live parameter update): it checks its
//     input specs, reads its scalar parameters from Spec.Const, returns its
//     output specs and allocates every scratch buffer it will need.
//   - Run, once per frame (or once, for static steps): it reads the input
//     values and writes into output buffers that the caller allocated from
//     the output specs (value.New). Run must not allocate in steady state.
//
// Inputs are positional: in[i] is the i-th declared input of the node's
// class in ComfyUI's input_order — required inputs, then optional ones;
// hidden inputs are not passed. Widget inputs have a slot like linked ones:
// the compiler passes a literal as a constant Spec (value.ConstSpec) and the
// same Value to Run, and an absent optional input as the zero Spec/Value
// (Kind None). Scalar parameters a kernel needs to size its outputs must be
// known when the plan is built (Spec.Const); a kernel says so with an error
// from Prepare otherwise.
//
// The caller guarantees that in and out never share tensor storage and that
// out keeps the shapes Prepare returned. A kernel must write every element
// of its outputs on every Run (buffers may be reused between steps) and
// must not keep in or out after Run returns.
//
// # Errors and panics
//
// Prepare errors are compile errors of the node; Run errors are per-frame
// node errors. A panic inside a kernel is recovered at the kernel boundary
// by the compiler and executor, through SafePrepare and SafeRun, which turn
// it into a *PanicError naming the kernel; kernels need not recover
// themselves.
//
// # Optional interfaces
//
// FrameInput marks kernels that can stand for the stream's frame input,
// FrameOutput those whose input is a frame output, Closer kernels that hold
// resources, Scratcher kernels whose Prepare allocates scratch that grows
// with their inputs: they declare its bytes before Prepare, so that the
// compiler keeps the plan within its memory budget. Whether a step is static (runs once) or per frame is a graph
// property the compiler decides: a step is static when none of its inputs
// depends on the frame input and no class upstream of it is time-varying.
// Clocked kernels read the frame's time (SetFrameTime before each Run);
// TextOutput kernels give a frame's text for the stream's data output.
//
// # Class traits and time
//
// Some properties belong to a class and the compiler needs them before any
// kernel exists, so they are recorded in the Registry (SetTraits, Traits):
//
//   - TimeVarying: the outputs change every frame although no input does
//     (ComfyUI's IS_CHANGED returning NaN or the time: controllers,
//     monitors, per-frame text). The node and everything downstream of it
//     are per-frame.
//   - Stateful: the kernel keeps state between frames in its instance. A
//     plan rebuilt from a running one (a parameter swap) takes over the
//     kernel, state included, when the node is unchanged (class, literal
//     inputs, the node outputs it is linked to, input specs); a changed
//     node gets a fresh kernel. Warm-up runs skip such steps.
//   - PassThrough: the output is the first input unchanged (torch.compile
//     wrappers); the compiler removes the node.
//
// Time is the frame's, never the wall clock: FrameTime holds the frame's
// timestamp since the stream's first frame and its index, so a run on a
// file gives the same results every time.
//
// Package nodes may import nodes/schema, nodes/value, graph/diag and the
// nodes/engine interfaces; never graph, compiler or executor.
package nodes
