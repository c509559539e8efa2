//go:build cgo

package av

import (
	"fmt"
	"slices"

	"github.com/asticode/go-astiav"

	"comfyrt/executor/media"
)

// procStage runs a media.AudioProcessor between an aacEncoder's decoder
// and its encoder (SinkOptions.AudioProcessor): decoded frames are mixed
// to mono at the chunk's rate, cut into chunks, processed, and the output
// (interleaved) goes on to the encoder's resampler.
type procStage struct {
	p              media.AudioProcessor
	srcChans       int
	rate           int // the mono reader's
	mono           *monoReader
	chunk, inter   []float32
	frm            *astiav.Frame
	outRate, outCh int
}

func newProcStage(p media.AudioProcessor, srcChans int) (*procStage, error) {
	s := &procStage{p: p, srcChans: srcChans, frm: astiav.AllocFrame()}
	s.outRate, s.outCh = p.AudioOut()
	if s.outRate <= 0 || s.outCh < 1 || s.outCh > 2 {
		s.free()
		return nil, fmt.Errorf("audio processor output of %d channels at %d Hz (want 1 or 2 channels)", s.outCh, s.outRate)
	}
	return s, nil
}

// push converts f into the mono buffer and processes every whole chunk
// into rs.
func (s *procStage) push(f *astiav.Frame, rs *resampler) error {
	rate, n := s.p.AudioChunk()
	if s.mono == nil || rate != s.rate {
		// A new chunk rate (a new plan) starts a new buffer.
		s.mono.free()
		m, err := newMonoReader(rate, s.srcChans)
		if err != nil {
			return err
		}
		s.mono, s.rate = m, rate
	}
	if err := s.mono.rs.push(f); err != nil {
		return err
	}
	for n > 0 && s.mono.rs.buffered() >= n {
		if err := s.run(n, n, rs); err != nil {
			return err
		}
		_, n = s.p.AudioChunk()
	}
	return nil
}

// flush processes what is left: a last chunk padded with silence, its
// output cut to the share of real samples.
func (s *procStage) flush(rs *resampler) error {
	if s.mono == nil {
		return nil
	}
	if err := s.mono.rs.push(nil); err != nil {
		return err
	}
	_, n := s.p.AudioChunk()
	for n > 0 && s.mono.rs.buffered() >= n {
		if err := s.run(n, n, rs); err != nil {
			return err
		}
	}
	if left := s.mono.rs.buffered(); left > 0 && n > 0 {
		return s.run(n, left, rs)
	}
	return nil
}

// run reads real (≤ n) samples into a chunk of n, processes it and pushes
// the output's first real·M/n samples into rs.
func (s *procStage) run(n, real int, rs *resampler) error {
	if cap(s.chunk) < n {
		s.chunk = make([]float32, n)
	}
	s.chunk = s.chunk[:n]
	if err := s.mono.read(s.chunk[:real]); err != nil {
		return err
	}
	clear(s.chunk[real:])
	out, err := s.p.ProcessAudio(s.chunk)
	if err != nil {
		return fmt.Errorf("audio processing: %w", err)
	}
	m := len(out) / s.outCh
	keep := m * real / n
	if keep == 0 {
		return nil
	}
	if cap(s.inter) < keep*s.outCh {
		s.inter = make([]float32, m*s.outCh)
	}
	s.inter = s.inter[:keep*s.outCh]
	for i := range keep {
		for c := range s.outCh {
			s.inter[i*s.outCh+c] = out[c*m+i]
		}
	}
	if err := fillFrame(s.frm, s.inter, s.outCh, s.outRate); err != nil {
		return fmt.Errorf("audio frame: %w", err)
	}
	err = rs.push(s.frm)
	s.frm.Unref()
	return err
}

func (s *procStage) free() {
	s.mono.free()
	s.mono = nil
	release(&s.frm)
}

// useProc sets up the processor's stage for a source of srcChans channels
// and returns the format to encode: the processor's output.
func (a *aacEncoder) useProc(p media.AudioProcessor, srcChans int) (rate, chans int, err error) {
	if a.proc, err = newProcStage(p, srcChans); err != nil {
		return 0, 0, err
	}
	if !slices.Contains(aacRates, a.proc.outRate) {
		return 0, 0, fmt.Errorf("AAC cannot encode the processed audio's %d Hz", a.proc.outRate)
	}
	return a.proc.outRate, a.proc.outCh, nil
}

// push feeds a decoded frame to the encoder's resampler, through the
// processor when there is one.
func (a *aacEncoder) push(f *astiav.Frame) error {
	if a.proc == nil {
		return a.rs.push(f)
	}
	return a.proc.push(f, a.rs)
}
