//go:build cgo

package ort

import (
	"runtime"
	"testing"

	"comfyrt/nodes/engine"
)

// TestSessionKey: the key does not depend on the order of the inputs or
// on how defaults are spelt, and changes with every option that reaches
// sessionOptions.
func TestSessionKey(t *testing.T) {
	sum := [32]byte{1, 2, 3}
	ins := []engine.TensorInfo{
		{Name: "a", DType: engine.Float32, Shape: []int{1, 3, 8, 8}},
		{Name: "b", DType: engine.Float32, Shape: []int{1, 4}},
	}
	rev := []engine.TensorInfo{ins[1], ins[0]}
	cpu := []string{engine.CPU}
	base := engine.Options{IntraOpThreads: runtime.NumCPU()}
	key := sessionKey(sum, cpu, ins, base)
	if k := sessionKey(sum, cpu, rev, engine.Options{}); k != key {
		t.Errorf("reordered inputs, default threads:\n%s\nwant\n%s", k, key)
	}
	if k := sessionKey(sum, cpu, ins, engine.Options{IntraOpThreads: base.IntraOpThreads, Exclusive: true}); k != key {
		t.Errorf("Exclusive changes the key")
	}
	other := func(o *engine.Options) string { return sessionKey(sum, cpu, ins, *o) }
	diffs := map[string]string{
		"model":   sessionKey([32]byte{1, 2, 4}, cpu, ins, base),
		"devices": sessionKey(sum, []string{engine.CUDA, engine.CPU}, ins, base),
		"order":   sessionKey(sum, []string{engine.CPU, engine.CUDA}, ins, base),
		"shape": sessionKey(sum, cpu, []engine.TensorInfo{ins[0],
			{Name: "b", DType: engine.Float32, Shape: []int{1, 5}}}, base),
		"device_id": other(&engine.Options{IntraOpThreads: base.IntraOpThreads, DeviceID: 1}),
		"threads":   other(&engine.Options{IntraOpThreads: base.IntraOpThreads + 1}),
		"no_spin":   other(&engine.Options{IntraOpThreads: base.IntraOpThreads, NoSpin: true}),
		"cache_dir": other(&engine.Options{IntraOpThreads: base.IntraOpThreads, CacheDir: "/tmp/trt"}),
	}
	seen := map[string]string{key: "base"}
	for name, k := range diffs {
		if prev, dup := seen[k]; dup {
			t.Errorf("%s gives the same key as %s", name, prev)
		}
		seen[k] = name
	}
}
