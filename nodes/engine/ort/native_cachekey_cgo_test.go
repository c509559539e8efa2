//go:build cgo

package ort

import (
	"strings"
	"testing"

	"comfyrt/nodes/engine"
)

// TestNativeCacheKeyTarget: TensorRT engine-cache keys that differ only in
// the card (compute capability or name) or in TensorRT's version differ,
// so an engine built on one card is never loaded on another.
func TestNativeCacheKeyTarget(t *testing.T) {
	ins := []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{1, 3, 518, 518}}}
	key := func(major, minor int, name string, trt int) string {
		return engine.CacheKey("ab12", ins, gpuTarget(major, minor, name, trt, "1.30.0"))
	}
	base := key(9, 0, "NVIDIA H100 80GB HBM3", 100300)
	if k := key(9, 0, " NVIDIA H100 80GB HBM3 ", 100300); k != base {
		t.Errorf("padding of the driver's name changes the key")
	}
	seen := map[string]string{base: "base"}
	for name, k := range map[string]string{
		"compute capability": key(8, 9, "NVIDIA H100 80GB HBM3", 100300),
		"minor capability":   key(9, 1, "NVIDIA H100 80GB HBM3", 100300),
		"card name":          key(9, 0, "NVIDIA H200", 100300),
		"tensorrt version":   key(9, 0, "NVIDIA H100 80GB HBM3", 100900),
		"runtime version":    engine.CacheKey("ab12", ins, gpuTarget(9, 0, "NVIDIA H100 80GB HBM3", 100300, "1.29.0")),
	} {
		if prev, dup := seen[k]; dup {
			t.Errorf("a different %s gives the same key as %s", name, prev)
		}
		seen[k] = name
	}
	if g := gpuTarget(12, 0, "NVIDIA B200", 101300, "1.30.0"); g.GPU != "sm_120 NVIDIA B200" || g.TensorRT != "101300" || g.Device != engine.TensorRT {
		t.Errorf("target %+v", g)
	}
}

// TestNativeCacheTarget reads this machine's card: without the NVIDIA
// driver, an error that names libcuda.so.1 (and no crash); with it, the
// card's compute capability and name, and the whole target where TensorRT
// is installed.
func TestNativeCacheTarget(t *testing.T) {
	major, minor, name, err := gpuArch(0)
	if !probe("libcuda.so.1") {
		if err == nil || !strings.Contains(err.Error(), "libcuda.so.1") {
			t.Fatalf("no driver: gpuArch = %d.%d %q, %v", major, minor, name, err)
		}
		if _, err := cacheTarget(0); err == nil || !strings.Contains(err.Error(), "libcuda.so.1") {
			t.Fatalf("no driver: cacheTarget error %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GPU 0: compute capability %d.%d, %q", major, minor, name)
	if major < 3 || name == "" {
		t.Errorf("GPU 0: compute capability %d.%d, name %q", major, minor, name)
	}
	g, err := cacheTarget(0)
	if !probe("libnvinfer.so.10") && !probe("libnvinfer.so.8") && !probe("libnvinfer.so") {
		if err == nil || !strings.Contains(err.Error(), "TensorRT") {
			t.Errorf("no TensorRT: cacheTarget = %+v, %v", g, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cache target: %+v", g)
	if !strings.HasPrefix(g.GPU, "sm_") || g.TensorRT == "" || g.TensorRT == "0" {
		t.Errorf("target %+v", g)
	}
}
