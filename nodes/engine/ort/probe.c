//go:build cgo

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

#include "probe.h"

int probe_lib(const char *name) {
	void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
	if (h == NULL) return 0;
	dlclose(h);
	return 1;
}

// The CUDA driver API's signatures (cuda.h), with CUdevice an int and
// CUresult an enum.
typedef int (*cu_init_fn)(unsigned int flags);
typedef int (*cu_device_get_fn)(int *device, int ordinal);
typedef int (*cu_device_get_attribute_fn)(int *value, int attribute, int device);
typedef int (*cu_device_get_name_fn)(char *name, int len, int device);

enum {
	attr_compute_capability_major = 75,
	attr_compute_capability_minor = 76,
};

int gpu_arch(int ordinal, int *major, int *minor, char *name, int len) {
	// The handle stays open: ONNX Runtime's CUDA provider uses the same
	// library, and unloading an initialised driver is not safe.
	void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
	if (h == NULL) return -1;
	cu_init_fn init = (cu_init_fn)dlsym(h, "cuInit");
	cu_device_get_fn get = (cu_device_get_fn)dlsym(h, "cuDeviceGet");
	cu_device_get_attribute_fn attr = (cu_device_get_attribute_fn)dlsym(h, "cuDeviceGetAttribute");
	cu_device_get_name_fn get_name = (cu_device_get_name_fn)dlsym(h, "cuDeviceGetName");
	if (init == NULL || get == NULL || attr == NULL || get_name == NULL) return -2;
	int dev = 0;
	int rc = init(0);
	if (rc == 0) rc = get(&dev, ordinal);
	if (rc == 0) rc = attr(major, attr_compute_capability_major, dev);
	if (rc == 0) rc = attr(minor, attr_compute_capability_minor, dev);
	if (rc == 0) rc = get_name(name, len, dev);
	if (rc == 0 && len > 0) name[len - 1] = 0;
	return rc;
}

typedef int32_t (*infer_lib_version_fn)(void);

int tensorrt_version(void) {
	static const char *const libs[] = {"libnvinfer.so.10", "libnvinfer.so.8", "libnvinfer.so"};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
		void *h = dlopen(libs[i], RTLD_LAZY | RTLD_LOCAL);
		if (h == NULL) continue;
		infer_lib_version_fn v = (infer_lib_version_fn)dlsym(h, "getInferLibVersion");
		// The handle stays open when the version was read: ONNX Runtime's
		// TensorRT provider loads the same library.
		if (v == NULL) {
			dlclose(h);
			return -1;
		}
		return (int)v();
	}
	return -1;
}
