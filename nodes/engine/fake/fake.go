// Package fake is an in-memory engine.Provider for tests: models are
// registered by path with declared inputs and outputs and a deterministic
// function, and the provider records what was opened and closed. Tensors
// are typed as an ONNX Runtime session's: Int64 ones in Tensor.Int64, and
// Float16 ones rounded to binary16 at the boundary (inputs before Fn,
// outputs after), as a real float16 model sees and returns them.
package fake

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"comfyrt/nodes/engine"
)

// Model is a fake model: its declared tensors (dimensions may be -1) and
// what Run computes.
type Model struct {
	Inputs, Outputs []engine.TensorInfo
	// Fn fills out from in; nil means Default. It must not allocate if the
	// test checks allocations.
	Fn func(in, out []engine.Tensor)
}

// Default sets element k of every output to the mean over the inputs of
// their element k modulo their length (Int64 inputs counted as their
// values; an Int64 output gets the mean truncated).
func Default(in, out []engine.Tensor) {
	at := func(t engine.Tensor, k int) float32 {
		if t.Int64 != nil {
			return float32(t.Int64[k%len(t.Int64)])
		}
		return t.Data[k%len(t.Data)]
	}
	for _, o := range out {
		n := max(len(o.Data), len(o.Int64))
		for k := range n {
			var s float32
			for _, t := range in {
				s += at(t, k)
			}
			if o.Int64 != nil {
				o.Int64[k] = int64(s / float32(len(in)))
			} else {
				o.Data[k] = s / float32(len(in))
			}
		}
	}
}

// Opened records one Open call.
type Opened struct {
	Path string
	Opts engine.Options
}

// Provider is the fake engine.Provider. The zero value is not usable; call
// New.
type Provider struct {
	mu     sync.Mutex
	models map[string]Model
	opened []Opened
	live   int
	// OpenErr, when set, is returned by every Open.
	OpenErr error
}

// New returns a provider with no models.
func New() *Provider { return &Provider{models: map[string]Model{}} }

// Add registers a model under a path.
func (p *Provider) Add(path string, m Model) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.models[path] = m
}

// Name returns "fake".
func (p *Provider) Name() string { return "fake" }

// Opens returns the Open calls so far.
func (p *Provider) Opens() []Opened {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.opened)
}

// Live returns the number of sessions opened and not yet closed.
func (p *Provider) Live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

// Inspect returns the registered model's declared tensors.
func (p *Provider) Inspect(path string) (inputs, outputs []engine.TensorInfo, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.models[path]
	if !ok {
		return nil, nil, fmt.Errorf("fake engine: open %s: %w", path, fs.ErrNotExist)
	}
	return slices.Clone(m.Inputs), slices.Clone(m.Outputs), nil
}

// Open binds the model's dynamic input dimensions from opts.Shapes; a
// dynamic output dimension takes the first input's dimension at the same
// index (1 when it has none).
func (p *Provider) Open(path string, opts engine.Options) (engine.Session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.OpenErr != nil {
		return nil, p.OpenErr
	}
	m, ok := p.models[path]
	if !ok {
		return nil, fmt.Errorf("fake engine: open %s: %w", path, fs.ErrNotExist)
	}
	if _, err := opts.DeviceList(); err != nil {
		return nil, fmt.Errorf("fake engine: %w", err)
	}
	if err := engine.CheckDTypes("input", m.Inputs); err != nil {
		return nil, fmt.Errorf("fake engine: %s: %w", path, err)
	}
	if err := engine.CheckDTypes("output", m.Outputs); err != nil {
		return nil, fmt.Errorf("fake engine: %s: %w", path, err)
	}
	ins, err := engine.BindShapes(m.Inputs, opts.Shapes)
	if err != nil {
		return nil, fmt.Errorf("fake engine: %s: %w", path, err)
	}
	outs := make([]engine.TensorInfo, len(m.Outputs))
	for i, o := range m.Outputs {
		s := slices.Clone(o.Shape)
		for j, d := range s {
			if d < 0 {
				s[j] = 1
				if len(ins) > 0 && j < len(ins[0].Shape) {
					s[j] = ins[0].Shape[j]
				}
			}
		}
		outs[i] = engine.TensorInfo{Name: o.Name, DType: o.DType, Shape: s}
	}
	s := &session{p: p, ins: ins, outs: outs, fn: m.Fn}
	if s.fn == nil {
		s.fn = Default
	}
	s.inBuf, s.outBuf = engine.NewBuffers(ins), engine.NewBuffers(outs)
	p.opened = append(p.opened, Opened{Path: path, Opts: opts})
	p.live++
	return s, nil
}

type session struct {
	p             *Provider
	ins, outs     []engine.TensorInfo
	inBuf, outBuf []engine.Tensor
	fn            func(in, out []engine.Tensor)
	closed        bool
}

func (s *session) Inputs() []engine.TensorInfo    { return s.ins }
func (s *session) Outputs() []engine.TensorInfo   { return s.outs }
func (s *session) InputBuffers() []engine.Tensor  { return s.inBuf }
func (s *session) OutputBuffers() []engine.Tensor { return s.outBuf }

var errClosed = errors.New("fake engine: session closed")

func (s *session) Run(in, out []engine.Tensor) error {
	if s.closed {
		return errClosed
	}
	if err := engine.CheckRun(s.ins, s.outs, in, out); err != nil {
		return err
	}
	for i, t := range in {
		pass(s.ins[i].DType, s.inBuf[i], t)
	}
	s.fn(s.inBuf, s.outBuf)
	for i, t := range out {
		pass(s.outs[i].DType, t, s.outBuf[i])
	}
	return nil
}

// pass copies src into dst across the session's boundary; a float16
// tensor's values are rounded to binary16 on the way, as a real runtime
// stores them.
func pass(dt engine.DType, dst, src engine.Tensor) {
	if dt == engine.Float16 {
		roundHalf(dst.Data, src.Data)
		return
	}
	engine.CopyData(dst, src)
}

// roundHalf writes src rounded to binary16 into dst (which may be src).
func roundHalf(dst, src []float32) {
	for k, v := range src {
		dst[k] = engine.Float16Value(engine.Float16Bits(v))
	}
}

func (s *session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.p.mu.Lock()
	s.p.live--
	s.p.mu.Unlock()
	return nil
}
