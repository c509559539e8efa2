package engine

import (
	"sync/atomic"
	"time"
)

// Observed returns s with each Run's wall time reported to ran and its
// first Close reported to closed (either may be nil): the decorator the
// operator's model counts (Counter) and the benchmarks' Run timers share.
// The result is a Buffers exactly when s is, so a kernel binds s's own
// buffers through it as it would without it, and one whose session has
// none makes its own as before.
func Observed(s Session, ran func(time.Duration), closed func()) Session {
	o := &observed{Session: s, ran: ran, closed: closed}
	if b, ok := s.(Buffers); ok {
		return &observedBuffers{observed: o, b: b}
	}
	return o
}

type observed struct {
	Session
	ran    func(time.Duration)
	closed func()
	done   atomic.Bool
}

func (o *observed) Run(in, out []Tensor) error {
	if o.ran == nil {
		return o.Session.Run(in, out)
	}
	t0 := time.Now()
	err := o.Session.Run(in, out)
	o.ran(time.Since(t0))
	return err
}

func (o *observed) Close() error {
	if !o.done.Swap(true) && o.closed != nil {
		o.closed()
	}
	return o.Session.Close()
}

type observedBuffers struct {
	*observed
	b Buffers
}

func (o *observedBuffers) InputBuffers() []Tensor  { return o.b.InputBuffers() }
func (o *observedBuffers) OutputBuffers() []Tensor { return o.b.OutputBuffers() }
