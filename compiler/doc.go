// Package compiler turns a workflow into an immutable per-frame plan.
//
// Check validates a graph.Prompt against the node schemas (graph/validate:
// ComfyUI's own rules and error types), types every node reachable from an
// output (schema, resolved links, literal widget values typed int64,
// float64, string or bool), applies the ComfyStream I/O contract and checks
// that every class has a kernel in the registry. It returns a *Typed graph
// and every diagnostic at once, in the style of go/types.
//
// Compile builds a *Plan from the typed graph: it prunes what reaches no
// output, removes pass-through nodes (nodes.Traits PassThrough: their
// consumers read the node's input directly; String lists them under
// "compiled to nothing"), splits static steps (no transitive dependency on
// the frame input or on a time-varying class: loaders, constants, static
// images) from per-frame steps (Explain says which: "depends on the
// frame", "time-varying"), orders
// them topologically (ties by node id), binds kernels once (factory, then
// Prepare with the input specs) and assigns per-frame tensor buffers,
// reusing them where lifetimes do not overlap. Its error is a diag.List: a
// kernel that rejects its inputs gives prepare_failed, one whose file is
// missing or unusable (a nodes.FileError) gives that error's own code
// (missing_file, invalid_file). For a confined (network) workflow the
// details never name the server's input or models folder.
//
// # The ComfyStream I/O contract
//
// PrimaryInputLoadImage, LoadTensor, or a LoadImage that is the only one in
// a workflow without a primary input is the frame input; SaveTensor,
// PreviewImage and SaveImage are frame outputs. At most one primary input,
// at most two inputs without a primary one, at most three frame outputs, at
// least one frame output or audio output: otherwise an io_contract error
// names the nodes (ComfyStream's messages: "too many primary inputs in
// prompt", …). Every frame-input node of a plan is bound to the same
// frame. Other LoadImage nodes are static images. A workflow without a
// frame input (generators) is all static. Only nodes that reach an output
// count.
//
// Audio (audio.go): LoadAudioTensor is the audio input and SaveAudioTensor
// the audio output (at most one each). The steps downstream of the audio
// input run per audio chunk (RunAudio, AUDIO [1,1,N] at the rate the
// input node declares: AudioSpec), never in RunFrame, on buffers of their
// own; a step reading both the audio and the frame is refused.
//
// # Memory budget
//
// With Config.MaxBytes set, the build counts, step by step, the scratch a
// kernel declares (nodes.Scratcher, asked before its Prepare) and the
// buffers of its tensor outputs (from the specs Prepare returns, without
// crediting buffer reuse). The step that takes the count over the budget
// ends the build with a plan_too_large diagnostic naming the node, the
// output's shape and bytes (or the scratch) and the totals — before any
// later kernel prepares with that output, before any buffer is allocated
// and before any static step runs. Measure sizes a plan the same way and
// allocates no buffer; Plan.MemoryBytes is the count of a built plan.
//
// # Running a plan
//
// A Plan's structure never changes. RunStatic runs the static steps (once;
// RunFrame calls it first when needed), RunFrame binds a frame and runs the
// per-frame steps without allocating, Outputs reads the frame outputs.
// Update and Resize return a new Plan that adopts the static steps (kernel
// and results) of the old one whose inputs did not change, so that they
// do not run again; Rebuild does the same for any new prompt. They also
// take over the kernels of unchanged stateful per-frame steps (nodes.Traits
// Stateful), so that a controller's phase or a filter's previous frame
// survives a swap that does not touch the node; the old plan may run
// frames on them until the swap (one goroutine runs both plans). A Plan is
// not safe for concurrent use, but an old plan keeps working while a new
// one is built from it.
//
// # Time and text
//
// RunFrameAt (or SetFrameTime before RunFrame) gives the frame's time
// (nodes.FrameTime: timestamp since the stream's first frame, index) to the
// kernels that read it (nodes.Clocked); without it RunFrame counts frames
// and assumes 30 per second. A warm-up time (FrameTime.Warmup) skips the
// stateful steps. TextOutputs reads the text outputs (nodes.TextOutput,
// ComfyStream's SaveTextTensor) after a run.
//
// Package compiler must not import executor, streampack, or any cgo
// package (nodes/engine/ort): engines come in through nodes/engine.
package compiler
