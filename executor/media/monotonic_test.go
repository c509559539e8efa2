package media

import (
	"context"
	"testing"
)

// resetSource delivers frames whose PTS restart at 0 halfway (a restarted
// publisher) and jump far ahead near the end.
type resetSource struct{ i int64 }

func (s *resetSource) Info() StreamInfo {
	return StreamInfo{Width: 2, Height: 2, TimeBase: Rational{1, 90000}, FrameRate: Rational{30, 1}}
}
func (s *resetSource) ReadFrame(_ context.Context, f *Frame) error {
	f.Resize(2, 2)
	i := s.i
	s.i++
	switch {
	case i < 10:
		f.PTS = 1_000_000 + i*3000
	case i < 20:
		f.PTS = (i - 10) * 3000 // reset to 0
	default:
		f.PTS = 1 << 40 // a jump of hours
	}
	f.TimeBase = Rational{1, 90000}
	return nil
}
func (s *resetSource) Close() error { return nil }

func TestMonotonic(t *testing.T) {
	src := NewMonotonic(&resetSource{})
	var f Frame
	last := int64(-1)
	for i := 0; i < 25; i++ {
		if err := src.ReadFrame(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
		if f.PTS <= last {
			t.Fatalf("frame %d: pts %d after %d", i, f.PTS, last)
		}
		if last >= 0 && f.PTS-last != 3000 {
			t.Fatalf("frame %d: step %d, want one frame interval (3000)", i, f.PTS-last)
		}
		last = f.PTS
	}
}
