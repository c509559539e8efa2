package testkit

import (
	"path/filepath"
	"sync"
	"sync/atomic"

	"comfyrt/nodes/engine"
)

// RunCounter is an engine.Provider that counts the Runs of the sessions it
// opens (the wrapped provider runs them), by the model file's folder: an
// export's "unet", "text_encoder", … The SD tests count UNet and text
// encoder calls with it.
type RunCounter struct {
	engine.Provider
	mu   sync.Mutex
	runs map[string]*atomic.Int64
}

// CountRuns wraps p.
func CountRuns(p engine.Provider) *RunCounter {
	return &RunCounter{Provider: p, runs: map[string]*atomic.Int64{}}
}

// Open opens the session through the wrapped provider and counts its Runs.
func (p *RunCounter) Open(path string, opts engine.Options) (engine.Session, error) {
	s, err := p.Provider.Open(path, opts)
	if err != nil {
		return nil, err
	}
	return countedSession{s, p.counter(filepath.Base(filepath.Dir(path)))}, nil
}

// Runs is how many times the sessions of the models in folder part ran.
func (p *RunCounter) Runs(part string) int {
	return int(p.counter(part).Load())
}

func (p *RunCounter) counter(part string) *atomic.Int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.runs[part]
	if n == nil {
		n = new(atomic.Int64)
		p.runs[part] = n
	}
	return n
}

type countedSession struct {
	engine.Session
	n *atomic.Int64
}

func (s countedSession) Run(in, out []engine.Tensor) error {
	s.n.Add(1)
	return s.Session.Run(in, out)
}
