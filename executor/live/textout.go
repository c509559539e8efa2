package live

import (
	"strings"

	"comfyrt/executor"
	"comfyrt/nodes"
)

// textOut sends the workflow's text outputs to the stream's data channel
// (none without one). Empty text is not sent, as in ComfyStream.
func (s *stream) textOut() func(executor.Text) {
	if s.io.Data == nil {
		return nil
	}
	return func(t executor.Text) {
		if strings.TrimSpace(t.Text) != "" {
			s.io.Data.WriteLine(t.Line())
		}
	}
}

// SetFrameTime passes the frame's time to the plan.
func (l *livePlan) SetFrameTime(t nodes.FrameTime) {
	if l.p != nil {
		l.p.SetFrameTime(t)
	}
}

// HasTextOutputs reports whether the plan has text outputs.
func (l *livePlan) HasTextOutputs() bool { return l.p != nil && l.p.HasTextOutputs() }

// TextOutputs calls f with each text output of the last frame.
func (l *livePlan) TextOutputs(f func(nodeID, text string)) {
	if l.p != nil {
		l.p.TextOutputs(f)
	}
}
