package sdbench

import (
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// runTimer is an engine.Provider decorator: every session it opens adds
// the wall time of each Run to a per-part total (the model file's folder:
// unet, vae_encoder, …) and to the overall total. With CPU outputs a Run
// returns when its outputs are in host memory, on the GPU providers too,
// so the wall time around it is the model's time.
type runTimer struct {
	engine.Provider
	mu    sync.Mutex
	parts map[string]*partTime
	total atomic.Int64 // ns
	runs  atomic.Int64
}

type partTime struct{ ns, runs atomic.Int64 }

func newRunTimer(p engine.Provider) *runTimer {
	return &runTimer{Provider: p, parts: map[string]*partTime{}}
}

func (t *runTimer) part(name string) *partTime {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.parts[name]
	if p == nil {
		p = &partTime{}
		t.parts[name] = p
	}
	return p
}

// Open opens the session through the wrapped provider and times its Runs.
func (t *runTimer) Open(path string, opts engine.Options) (engine.Session, error) {
	s, err := t.Provider.Open(path, opts)
	if err != nil {
		return nil, err
	}
	p := t.part(filepath.Base(filepath.Dir(path)))
	return engine.Observed(s, func(d time.Duration) {
		t.total.Add(int64(d))
		t.runs.Add(1)
		p.ns.Add(int64(d))
		p.runs.Add(1)
	}, nil), nil
}

// Total is the Run time of every session so far.
func (t *runTimer) Total() time.Duration { return time.Duration(t.total.Load()) }

// Part is the Run time and count of the sessions of the models in folder
// name.
func (t *runTimer) Part(name string) (time.Duration, int) {
	p := t.part(name)
	return time.Duration(p.ns.Load()), int(p.runs.Load())
}

// timedClass returns a registry like base in which the kernels of class
// add the wall time of their Runs to total (Scratch and Close passed on).
func timedClass(base *nodes.Registry, class string, total *time.Duration) *nodes.Registry {
	r := nodes.NewRegistry()
	for _, c := range base.Classes() {
		f, _ := base.Lookup(c)
		if c == class {
			inner := f
			f = func(cfg nodes.Config) (nodes.Kernel, error) {
				k, err := inner(cfg)
				if err != nil {
					return nil, err
				}
				return &timedKernel{Kernel: k, total: total}, nil
			}
		}
		r.MustRegister(c, f)
		if err := r.SetTraits(c, base.Traits(c)); err != nil {
			panic(err) // registered just above
		}
	}
	return r
}

type timedKernel struct {
	nodes.Kernel
	total *time.Duration
}

func (k *timedKernel) Run(in, out []value.Value) error {
	t0 := time.Now()
	err := k.Kernel.Run(in, out)
	*k.total += time.Since(t0)
	return err
}

func (k *timedKernel) Scratch(in []value.Spec) (int64, error) {
	if s, ok := k.Kernel.(nodes.Scratcher); ok {
		return s.Scratch(in)
	}
	return 0, nil
}

func (k *timedKernel) Close() error {
	if c, ok := k.Kernel.(nodes.Closer); ok {
		return c.Close()
	}
	return nil
}
