package media

import (
	"context"
	"io"
	"time"
)

// Synthetic is a Source of generated frames: a moving gradient with the
// frame index stamped into the top-left corner (see Stamp), so that tests
// can read back which input produced an output. With Rate set it paces
// frames in real time, like a live source.
type Synthetic struct {
	W, H int
	// N is the number of frames (0: endless).
	N int64
	// Rate paces delivery (frames per second); 0 delivers as fast as asked.
	Rate float64
	// TimeBase of the PTS (default 1/90000, as MPEG-TS); PTS = index ×
	// TimeBase.Den / (Rate or 30).
	TimeBase Rational

	next  int64
	start time.Time
}

// Info describes the synthetic stream.
func (s *Synthetic) Info() StreamInfo {
	fps := s.Rate
	if fps == 0 {
		fps = 30
	}
	return StreamInfo{Width: s.W, Height: s.H, TimeBase: s.tb(), FrameRate: Rational{int(fps * 1000), 1000},
		Frames: s.N, Live: s.Rate > 0}
}

func (s *Synthetic) tb() Rational {
	if s.TimeBase.Den == 0 {
		return Rational{1, 90000}
	}
	return s.TimeBase
}

// ReadFrame fills f with the next frame, waiting for its time when Rate is
// set.
func (s *Synthetic) ReadFrame(ctx context.Context, f *Frame) error {
	if s.N > 0 && s.next >= s.N {
		return io.EOF
	}
	fps := s.Rate
	if fps == 0 {
		fps = 30
	}
	if s.Rate > 0 {
		if s.start.IsZero() {
			s.start = time.Now()
		}
		due := s.start.Add(time.Duration(float64(s.next) / s.Rate * float64(time.Second)))
		if err := WaitUntil(ctx, due); err != nil {
			return err
		}
	} else if err := ctx.Err(); err != nil {
		return err
	}
	i := s.next
	s.next++
	f.Resize(s.W, s.H)
	for y := 0; y < s.H; y++ {
		row := f.RGB[y*s.W*3 : (y+1)*s.W*3]
		for x := 0; x < s.W; x++ {
			row[x*3] = byte(x + int(i))
			row[x*3+1] = byte(y)
			row[x*3+2] = byte(x + y)
		}
	}
	Stamp(f, i)
	tb := s.tb()
	f.TimeBase = tb
	f.PTS = int64(float64(i) * float64(tb.Den) / (fps * float64(tb.Num)))
	f.Index = i
	f.Captured = time.Now()
	return nil
}

// Close ends the source.
func (s *Synthetic) Close() error { return nil }

// Stamp geometry: 32 bits, each a StampCell×StampCell block, in one row
// from the top-left corner; white for 1, black for 0. The block size
// survives lossy encoding and scaling by 2 either way.
const (
	StampBits = 32
	StampCell = 8
)

// Stamp writes v into f's top-left corner (the frame must be at least
// StampBits×StampCell wide and StampCell high).
func Stamp(f *Frame, v int64) {
	for b := 0; b < StampBits; b++ {
		c := byte(0)
		if v>>uint(b)&1 == 1 {
			c = 255
		}
		for y := 0; y < StampCell && y < f.Height; y++ {
			for x := b * StampCell; x < (b+1)*StampCell && x < f.Width; x++ {
				o := (y*f.Width + x) * 3
				f.RGB[o], f.RGB[o+1], f.RGB[o+2] = c, c, c
			}
		}
	}
}

// ReadStamp reads the value Stamp wrote, sampling the centre of each block;
// invert reads a stamp that went through an inverting workflow.
func ReadStamp(f *Frame, invert bool) int64 {
	var v int64
	for b := 0; b < StampBits; b++ {
		x, y := b*StampCell+StampCell/2, StampCell/2
		if x >= f.Width || y >= f.Height {
			break
		}
		o := (y*f.Width + x) * 3
		l := (int(f.RGB[o]) + int(f.RGB[o+1]) + int(f.RGB[o+2])) / 3
		on := l >= 128
		if invert {
			on = !on
		}
		if on {
			v |= 1 << uint(b)
		}
	}
	return v
}

// Collect is a Sink that keeps copies of the frames written to it.
type Collect struct {
	Frames []Frame
	Closed bool
}

// WriteFrame keeps a copy of f.
func (c *Collect) WriteFrame(f *Frame) error {
	var g Frame
	g.CopyFrom(f)
	c.Frames = append(c.Frames, g)
	return nil
}

// Close marks the sink closed.
func (c *Collect) Close() error { c.Closed = true; return nil }
