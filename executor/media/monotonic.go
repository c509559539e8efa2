package media

import "context"

// monotonic makes a source's timestamps strictly increasing across
// input discontinuities (a restarted publisher, a TS timestamp reset or a
// jump): a frame whose PTS goes back, or forward by more than maxJump, is
// placed one frame interval after the previous one and the offset is kept
// for the frames after it. Output timestamps then stay monotonic across
// segments whatever the input does.
type monotonic struct {
	Source
	off, last int64
	have      bool
	dur       int64 // one frame interval in the time base
	maxJump   int64
}

// NewMonotonic wraps src so that its frames' PTS strictly increase (see
// the type's comment).
func NewMonotonic(src Source) Source {
	info := src.Info()
	tb := info.TimeBase
	if tb.Num <= 0 || tb.Den <= 0 {
		tb = Rational{Num: 1, Den: 90000}
	}
	fps := info.FrameRate.Float()
	if fps <= 0 || fps > 240 {
		fps = 30
	}
	ticks := float64(tb.Den) / float64(tb.Num) // per second
	return &monotonic{Source: src, dur: max(1, int64(ticks/fps)), maxJump: int64(5 * ticks)}
}

// ReadFrame reads the next frame and rebases its PTS.
func (m *monotonic) ReadFrame(ctx context.Context, f *Frame) error {
	if err := m.Source.ReadFrame(ctx, f); err != nil {
		return err
	}
	if f.TimeBase.Num <= 0 || f.TimeBase.Den <= 0 {
		f.TimeBase = m.Source.Info().TimeBase
	}
	if f.PTS == NoPTS {
		if !m.have {
			f.PTS = 0
		} else {
			f.PTS = m.last + m.dur - m.off
		}
	}
	pts := f.PTS + m.off
	if m.have && (pts <= m.last || pts > m.last+m.maxJump) {
		m.off = m.last + m.dur - f.PTS
		pts = m.last + m.dur
	}
	m.have, m.last = true, pts
	f.PTS = pts
	return nil
}
