package executor

import (
	"time"

	"comfyrt/executor/media"
	"comfyrt/nodes"
)

// nominalInterval is the frame interval assumed for frames without a PTS.
const nominalInterval = time.Second / 30

// timedPlan is implemented by plans whose kernels read the frame's time
// (compiler.Plan): the runner sets each frame's time before running it.
type timedPlan interface {
	SetFrameTime(t nodes.FrameTime)
}

// textPlan is implemented by plans with text outputs (compiler.Plan, for
// ComfyStream's SaveTextTensor).
type textPlan interface {
	HasTextOutputs() bool
	TextOutputs(f func(nodeID, text string))
}

// Text is the text a text output of the plan gave for a frame.
type Text struct {
	// Frame is the frame's index in the source; PTS its timestamp since
	// the stream's first frame.
	Frame int64
	PTS   time.Duration
	// NodeID is the text output's node.
	NodeID string
	Text   string
}

// TextLine is the JSON line of a Text, for a stream's data output (the
// BYOC data channel, run's --data-out): ComfyStream's {"type": "text",
// "data": TEXT} plus the node, the frame index and its timestamp in
// seconds since the stream's first frame.
type TextLine struct {
	Type  string  `json:"type"`
	Data  string  `json:"data"`
	Node  string  `json:"node"`
	Frame int64   `json:"frame"`
	PTS   float64 `json:"pts"`
}

// Line is t's data-output line.
func (t Text) Line() TextLine {
	return TextLine{Type: "text", Data: t.Text, Node: t.NodeID, Frame: t.Frame, PTS: t.PTS.Seconds()}
}

// frameTime is f's time for the plan: its PTS since the first frame the
// runner saw with one (the index at the nominal rate without PTS).
func (r *runner[P]) frameTime(f *media.Frame) nodes.FrameTime {
	t := nodes.FrameTime{Index: f.Index, PTS: time.Duration(f.Index) * nominalInterval}
	if f.PTS == media.NoPTS || f.TimeBase.Den <= 0 {
		return t
	}
	if !r.ptsSeen {
		r.ptsSeen, r.firstPTS = true, f.PTS
	}
	d := f.PTS - r.firstPTS
	t.PTS = time.Duration(float64(d) * float64(f.TimeBase.Num) / float64(f.TimeBase.Den) * float64(time.Second))
	return t
}

// setTime gives the plan the time of the frame it runs next.
func (r *runner[P]) setTime(t nodes.FrameTime) {
	if r.timed != nil {
		r.timed.SetFrameTime(t)
	}
}

// emitTexts hands the plan's text outputs for f to Config.OnText.
func (r *runner[P]) emitTexts(t nodes.FrameTime) {
	on := r.p.cfg.OnText
	if on == nil || r.texts == nil || !r.texts.HasTextOutputs() {
		return
	}
	r.texts.TextOutputs(func(id, txt string) {
		on(Text{Frame: t.Index, PTS: t.PTS, NodeID: id, Text: txt})
	})
}
