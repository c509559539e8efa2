// Package ort runs models with ONNX Runtime through
// github.com/yalue/onnxruntime_go (v1.30.1, C API 25) over the ONNX Runtime
// 1.30.0 shared library from the npm package onnxruntime-node. It is the
// only cgo for inference; without cgo (CGO_ENABLED=0) a stub builds whose
// Provider returns engine.ErrUnavailable.
//
// # The library
//
// The shared library is loaded at run time (dlopen), not linked, so no
// LD_LIBRARY_PATH is needed. LibraryPath finds it, first match wins:
//
//  1. $COMFYRT_ORT_LIB, the file itself (an error if it does not exist);
//  2. $COMFYRT_CACHE/ort/libonnxruntime.so.1.30.0 (the cache folder
//     scripts/setup.sh fills when COMFYRT_CACHE is set);
//  3. libonnxruntime.so.1.30.0 next to the executable;
//  4. .cache/ort/libonnxruntime.so.1.30.0 in the executable's folder or
//     any folder above it (bin/comfyrt in a checkout finds the repo's
//     cache);
//  5. the same, from the working directory upwards (go test runs in a
//     package folder of the checkout).
//
// # Environment and sessions
//
// This package owns ONNX Runtime's process-global environment: CheckInit
// loads the library and creates it once (later calls return the first
// result). Provider.Open calls CheckInit itself.
//
// A session is opened for fixed input shapes: dynamic input dimensions
// come from engine.Options.Shapes; dynamic output dimensions are learnt by
// one probe run with zero inputs at open time. Input and output tensors are
// allocated once, in C memory (so ONNX Runtime never holds Go pointers),
// bound to the session with an I/O binding, and refilled in place by every
// Run, which allocates nothing. The session's buffers are exposed through
// engine.Buffers: float32 and int64 tensors are the C memory itself; a
// float16 tensor has a float32 staging buffer (Go memory, made once)
// converted into or out of its C memory on every Run. A model with a
// dynamic float16 output is loaded with a Cast of that output to a float32
// output appended (castprobe.go), which the probe run reads, because
// onnxruntime_go cannot copy a float16 tensor ONNX Runtime allocated.
//
// Sessions opened from the same model content (by sha256) with the same
// options and bound input shapes share one ONNX Runtime session: it is
// loaded, optimised and probed once, and destroyed when the last of them
// is closed. Each engine session keeps its own tensors and I/O binding, so
// sessions that share a model may Run concurrently (on its one intra-op
// thread pool); one session is not safe for concurrent use.
// engine.Options.Exclusive opts out.
//
// # Devices
//
// engine.Options.Devices lists execution providers in preference order:
// "tensorrt", "cuda", "cpu". The npm library is built with CUDA support but
// ships no provider libraries: cuda needs libonnxruntime_providers_shared.so
// and libonnxruntime_providers_cuda.so next to the ONNX Runtime library,
// the NVIDIA driver (libcuda.so.1) and the CUDA and cuDNN libraries on the
// loader path; tensorrt needs libonnxruntime_providers_tensorrt.so and
// TensorRT's libnvinfer as well. Open checks what it can before asking ONNX
// Runtime and names what is missing. The TensorRT engine cache goes to
// Options.CacheDir/<engine.CacheKey(model sha256, input shapes, target)>,
// where the target holds the device, the ONNX Runtime version, the GPU's
// compute capability and name (read from the CUDA driver) and TensorRT's
// version (getInferLibVersion), so that an engine built on one card or
// TensorRT release is never loaded on another. Intra-op threads default to
// the core count; Options.NoSpin turns off worker spinning.
//
// # Files
//
// Files that need cgo end in _cgo.go, their CGO_ENABLED=0 stand-ins in
// _nocgo.go. probe.c (with probe.h) holds the package's C code: probes of
// the native libraries through the dynamic loader (is a library there, the
// GPU's compute capability and name, TensorRT's version), so that the
// package links against none of them.
package ort
