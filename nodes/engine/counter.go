package engine

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Counter is a Provider decorator that counts, per model file, the
// sessions opened, those still open and their Runs, for the operator's
// metrics (serve's comfyrt_model_* families): a prompt change that re-runs
// only the text encoder, or two streams opening the same model, show
// there. Sessions are Observed: a Run adds one atomic increment (and two
// clock reads); the rest is as the wrapped provider's (sessions keep its
// bound buffers, engine.Buffers, when it has them).
type Counter struct {
	Provider
	// Label names a model in Models (default: the path as opened).
	Label  func(path string) string
	mu     sync.Mutex
	models map[string]*modelCounts
}

type modelCounts struct{ opened, open, runs atomic.Int64 }

// ModelCount is one model's counts.
type ModelCount struct {
	Model  string
	Opened int64 // sessions opened so far
	Open   int64 // sessions open now
	Runs   int64 // Runs of its sessions so far
}

// NewCounter wraps p.
func NewCounter(p Provider) *Counter {
	return &Counter{Provider: p, models: map[string]*modelCounts{}}
}

func (c *Counter) counts(path string) *modelCounts {
	name := path
	if c.Label != nil {
		name = c.Label(path)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.models[name]
	if m == nil {
		m = &modelCounts{}
		c.models[name] = m
	}
	return m
}

// Open opens the session through the wrapped provider and counts it.
func (c *Counter) Open(path string, opts Options) (Session, error) {
	s, err := c.Provider.Open(path, opts)
	if err != nil {
		return nil, err
	}
	m := c.counts(path)
	m.opened.Add(1)
	m.open.Add(1)
	return Observed(s, func(time.Duration) { m.runs.Add(1) }, func() { m.open.Add(-1) }), nil
}

// Models returns every model's counts, by name.
func (c *Counter) Models() []ModelCount {
	c.mu.Lock()
	out := make([]ModelCount, 0, len(c.models))
	for name, m := range c.models {
		out = append(out, ModelCount{Model: name, Opened: m.opened.Load(), Open: m.open.Load(), Runs: m.runs.Load()})
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b ModelCount) int { return strings.Compare(a.Model, b.Model) })
	return out
}
