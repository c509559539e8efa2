// Package engine is the narrow inference interface: named tensors in,
// named tensors out, with declared shapes and element types. Sessions
// exchange float32 (Tensor.Data), int64 (Tensor.Int64: token ids, integer
// timesteps) and float16 tensors; float16 ones are float32 on the graph
// side, converted at the session boundary into buffers bound once
// (Float16Bits, Float16Value), so the float32 path stays copy-free.
// Implementations live in subpackages: ONNX Runtime in nodes/engine/ort
// (the only cgo for inference) and a deterministic fake for tests in
// nodes/engine/fake. The interface is plain data (names, shapes,
// float32 and int64 slices), so that an out-of-process engine can implement it later
// without touching the compiler or the executor.
//
// # Life cycle
//
// A Provider opens a model file with Options (devices in preference order,
// threads, the concrete shapes of dynamic inputs, an engine cache folder)
// and returns a Session whose input and output shapes are all concrete.
// Sessions are opened when a plan is built (in a kernel's Prepare), never
// per frame. Session.Run refills the outputs from the inputs and must not
// allocate in steady state; sessions that own their buffers expose them
// through Buffers, so that a kernel writes its preprocessed input straight
// into the engine's memory and reads the result from it without a copy.
//
// # Counting
//
// Counter decorates a Provider: per model file, the sessions opened and
// open and their Runs (serve's comfyrt_model_* metrics).
//
// # Cache keys
//
// Engines that compile a model for a device (TensorRT) keep the result in
// a folder keyed by CacheKey: the model's sha256, the bound input shapes
// and the CacheTarget (device, runtime version, GPU architecture and
// TensorRT version), so that a changed model, shape, runtime, card or
// TensorRT release never reuses a stale engine.
//
// Package engine imports only nodes/value from the project and no cgo.
package engine
