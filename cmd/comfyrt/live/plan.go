package live

import (
	"context"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/nodes/value"
)

// livePlan is what the stream's executor runs: a compiled plan, or none
// (p == nil), which passes the input frames through unchanged. The stream
// starts with none while its first workflow loads, so that the output
// flows from the first input frame on.
type livePlan struct {
	p *compiler.Plan
}

func (l *livePlan) RunStatic() error {
	if l.p == nil {
		return nil
	}
	return l.p.RunStatic()
}

func (l *livePlan) RunFrame(frame value.Tensor) error {
	if l.p == nil {
		return nil
	}
	return l.p.RunFrame(frame)
}

func (l *livePlan) NumOutputs() int {
	if l.p == nil {
		return 0 // the executor passes the input through
	}
	return l.p.NumOutputs()
}

func (l *livePlan) Output(i int) value.Value { return l.p.Output(i) }

func (l *livePlan) HasFrameInput() bool { return l.p != nil && l.p.HasFrameInput() }

func (l *livePlan) FrameSpec() value.Spec {
	if l.p == nil {
		return value.Spec{}
	}
	return l.p.FrameSpec()
}

func (l *livePlan) Resize(w, h int) (*livePlan, error) {
	if l.p == nil {
		return &livePlan{}, nil
	}
	np, err := l.p.Resize(w, h)
	if err != nil {
		return nil, err
	}
	return &livePlan{p: np}, nil
}

func (l *livePlan) Close() error {
	if l.p == nil {
		return nil
	}
	return l.p.Close()
}

// monoSource makes the source's timestamps strictly increasing across
// input discontinuities (a restarted publisher, a TS timestamp reset or a
// jump): a frame whose PTS goes back, or forward by more than maxJump, is
// placed one frame interval after the previous one and the offset is kept
// for the frames after it. Output timestamps then stay monotonic across
// segments whatever the input does.
type monoSource struct {
	media.Source
	off, last int64
	have      bool
	dur       int64 // one frame interval in the time base
	maxJump   int64
}

func newMonoSource(src media.Source) *monoSource {
	info := src.Info()
	tb := info.TimeBase
	if tb.Num <= 0 || tb.Den <= 0 {
		tb = media.Rational{Num: 1, Den: 90000}
	}
	fps := info.FrameRate.Float()
	if fps <= 0 || fps > 240 {
		fps = 30
	}
	ticks := float64(tb.Den) / float64(tb.Num) // per second
	return &monoSource{Source: src, dur: max(1, int64(ticks/fps)), maxJump: int64(5 * ticks)}
}

func (m *monoSource) ReadFrame(ctx context.Context, f *media.Frame) error {
	if err := m.Source.ReadFrame(ctx, f); err != nil {
		return err
	}
	if f.TimeBase.Num <= 0 || f.TimeBase.Den <= 0 {
		f.TimeBase = m.Source.Info().TimeBase
	}
	if f.PTS == media.NoPTS {
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

// keySink forces a keyframe on the first frame and then every interval of
// PTS, so that the output splits into segments of about that length, each
// starting with an IDR.
type keySink struct {
	media.Sink
	force    func()
	interval time.Duration
	next     time.Duration
	started  bool
	frames   int64
}

func (k *keySink) WriteFrame(f *media.Frame) error {
	t := time.Duration(float64(f.PTS) * float64(f.TimeBase.Num) / float64(max(f.TimeBase.Den, 1)) * float64(time.Second))
	if !k.started || t >= k.next || t < k.next-2*k.interval {
		k.force()
		k.started = true
		k.next = t + k.interval
	}
	k.frames++
	return k.Sink.WriteFrame(f)
}
