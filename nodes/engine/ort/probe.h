//go:build cgo

// Probes of the native libraries a GPU device needs, through the dynamic
// loader, so that the package links against none of them.

#ifndef COMFYRT_ORT_PROBE_H
#define COMFYRT_ORT_PROBE_H

// probe_lib reports whether the dynamic loader can open name.
int probe_lib(const char *name);

// gpu_arch fills the compute capability and the name (len bytes,
// NUL-terminated) of CUDA device ordinal through the driver library
// libcuda.so.1. It returns 0, -1 when the library cannot be opened, -2 when
// it lacks a function, or the driver's error code.
int gpu_arch(int ordinal, int *major, int *minor, char *name, int len);

// tensorrt_version returns getInferLibVersion() of the first TensorRT
// library the loader opens (libnvinfer.so.10, .8, .so), or -1.
int tensorrt_version(void);

#endif
