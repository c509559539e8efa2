//go:build cgo

package ort

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"

	ort "github.com/yalue/onnxruntime_go"
)

// cache holds the ONNX Runtime sessions shared between engine sessions,
// by sessionKey. Exclusive sessions are not in it.
var cache struct {
	mu sync.Mutex
	m  map[string]*shared
}

// shared is one ONNX Runtime session and what is computed once for it.
// Engine sessions hold references to it; each has its own tensors and
// I/O binding, so several may Run on it concurrently.
type shared struct {
	key string // "" for an exclusive session
	sum [32]byte
	// declIn and declOut are the model's declared tensors.
	declIn, declOut []engine.TensorInfo
	// ready is closed once the load finished; err, dyn and outs are set
	// before and not changed after.
	ready chan struct{}
	err   error
	dyn   *ort.DynamicAdvancedSession
	outs  []engine.TensorInfo // concrete output shapes
	refs  int                 // guarded by cache.mu
}

// sharedSessions reports the ONNX Runtime sessions in the sharing cache
// (loaded or loading) and the engine sessions that hold them. Exclusive
// sessions are not counted.
func sharedSessions() (models, refs int) {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	for _, e := range cache.m {
		refs += e.refs
	}
	return len(cache.m), refs
}

// sessionKey identifies what an ONNX Runtime session is made from: the
// model's content, every option sessionOptions reads and the bound input
// shapes (the probe run and TensorRT's engine depend on them).
func sessionKey(sum [32]byte, devices []string, ins []engine.TensorInfo, opts engine.Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %x\ndevices %s\ndevice_id %d\nthreads %d\nno_spin %t\ncache_dir %q\n",
		sum, strings.Join(devices, ","), opts.DeviceID, opts.Threads(), opts.NoSpin, opts.CacheDir)
	sorted := slices.Clone(ins)
	slices.SortFunc(sorted, func(a, b engine.TensorInfo) int { return strings.Compare(a.Name, b.Name) })
	for _, in := range sorted {
		fmt.Fprintf(&b, "input %q %s\n", in.Name, value.ShapeString(in.Shape))
	}
	return b.String()
}

// declared returns the model's declared tensors from a cached session of
// the same content, or reads them from the file.
func declared(sum [32]byte, path string) (ins, outs []engine.TensorInfo, err error) {
	cache.mu.Lock()
	for _, e := range cache.m {
		if e.sum == sum {
			cache.mu.Unlock()
			return e.declIn, e.declOut, nil
		}
	}
	cache.mu.Unlock()
	return modelInfo(path)
}

// acquire returns a reference to the session under key, loading it with
// load when absent. Concurrent acquires of a key being loaded wait for
// that load and share its result, error included. An exclusive session
// is loaded and not cached. The caller drops the reference with unref.
func acquire(key string, exclusive bool, sum [32]byte, declIn, declOut []engine.TensorInfo, load func(*shared) error) (*shared, error) {
	e := &shared{sum: sum, declIn: declIn, declOut: declOut, ready: make(chan struct{}), refs: 1}
	if !exclusive {
		e.key = key
		cache.mu.Lock()
		if old := cache.m[key]; old != nil {
			old.refs++
			cache.mu.Unlock()
			<-old.ready
			if old.err != nil {
				old.unref()
				return nil, old.err
			}
			return old, nil
		}
		if cache.m == nil {
			cache.m = map[string]*shared{}
		}
		cache.m[key] = e
		cache.mu.Unlock()
	}
	if err := load(e); err != nil {
		e.err = err
		cache.mu.Lock()
		if e.key != "" && cache.m[e.key] == e {
			delete(cache.m, e.key)
		}
		cache.mu.Unlock()
		close(e.ready)
		e.unref()
		return nil, err
	}
	close(e.ready)
	return e, nil
}

// unref drops one reference; the last destroys the ONNX Runtime session
// and removes it from the cache.
func (e *shared) unref() {
	cache.mu.Lock()
	e.refs--
	last := e.refs == 0
	if last && e.key != "" && cache.m[e.key] == e {
		delete(cache.m, e.key)
	}
	cache.mu.Unlock()
	if last && e.dyn != nil {
		e.dyn.Destroy()
		e.dyn = nil
	}
}
