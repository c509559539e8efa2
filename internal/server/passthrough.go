package server

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// Passthrough is a StreamRunner that copies every input segment to an
// output segment unchanged, streaming the bytes as they arrive. It lets
// the whole trickle flow run without the executor. Check, when set,
// validates params in Prepare (serve sets live.Runner.Check, which
// compiles the workflow).
type Passthrough struct {
	Check func(ctx context.Context, p Params) error
}

type nopPrepared struct{}

func (nopPrepared) Close() error { return nil }

// Prepare checks params with Check.
func (r *Passthrough) Prepare(ctx context.Context, p Params) (Prepared, error) {
	if r.Check != nil {
		if err := r.Check(ctx, p); err != nil {
			return nil, err
		}
	}
	return nopPrepared{}, nil
}

// Open starts copying.
func (r *Passthrough) Open(_ context.Context, sio StreamIO, first Prepared) (Stream, error) {
	first.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s := &passStream{io: sio, cancel: cancel, done: make(chan struct{})}
	s.wg.Add(1)
	go s.run(ctx)
	return s, nil
}

type passStream struct {
	io     StreamIO
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
	err    error // set before done closes
	swaps  atomic.Int64
	segs   atomic.Int64
}

func (s *passStream) run(ctx context.Context) {
	defer s.wg.Done()
	defer close(s.done)
	for {
		seq, r, err := s.io.Input.NextSegment(ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.err = err
			}
			return
		}
		w, err := s.io.Output.NewSegment(ctx)
		if err != nil {
			r.Close()
			if ctx.Err() == nil {
				s.err = err
			}
			return
		}
		n, cerr := io.Copy(w, r)
		r.Close()
		werr := w.Close()
		if cerr == nil {
			cerr = werr
		}
		if cerr != nil && errors.Is(cerr, ErrOutputClosed) {
			s.err = cerr
			return
		}
		s.segs.Add(1)
		if s.io.Data != nil {
			s.io.Data.WriteLine(map[string]any{"type": "segment", "seq": seq, "bytes": n})
		}
	}
}

func (s *passStream) Swap(_ context.Context, p Prepared) error {
	s.swaps.Add(1)
	return p.Close()
}

func (s *passStream) Stats() StreamStats { return StreamStats{} }

func (s *passStream) Done() <-chan struct{} { return s.done }

func (s *passStream) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

func (s *passStream) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}
