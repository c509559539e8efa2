package executor

import (
	"context"
	"testing"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/internal/testkit"
)

// wfText: a StringControl (one step per frame over four lines) to a text
// output, beside the frame path.
const wfText = `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}},
 "3": {"class_type": "StringControl", "inputs": {"always_execute": true, "strings": "a\nb\nc\nd", "steps_per_cycle": 4, "movement_type": "sawtooth"}},
 "4": {"class_type": "SaveTextTensor", "inputs": {"data": ["3", 0]}}}`

// TestTextOutputsWithFrameTimes: each frame's text reaches OnText with the
// frame's index and its PTS since the first frame (25 fps, time base
// 1/1000), and the warm-up frames do not advance the stateful
// StringControl: the first real frame gets its first value.
func TestTextOutputsWithFrameTimes(t *testing.T) {
	testkit.CheckGoroutines(t)
	e := newEnv(t)
	var got []Text
	pl := e.compile(t, wfText, tw, th)
	src := &media.Synthetic{W: tw, H: th, N: 6, TimeBase: media.Rational{Num: 1, Den: 1000}}
	_, err := run(t, Config[*compiler.Plan]{Source: &pts25{src}, Sink: &media.Collect{}, Plan: pl, MaxFPS: -1, Queue: FIFO,
		WarmupFrames: 3, OnText: func(x Text) { got = append(got, x) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"b", "c", "c", "a", "b", "c"} // round-half-even(3·k/4 mod 3)
	if len(got) != len(want) {
		t.Fatalf("%d texts: %+v", len(got), got)
	}
	for i, x := range got {
		if x.Text != want[i] || x.NodeID != "4" || x.Frame != int64(i) || x.PTS != time.Duration(i)*40*time.Millisecond {
			t.Errorf("text %d: %+v, want %q at frame %d, %v", i, x, want[i], i, time.Duration(i)*40*time.Millisecond)
		}
	}
	if l := got[1].Line(); l.Type != "text" || l.Data != "c" || l.Node != "4" || l.Frame != 1 || l.PTS != 0.04 {
		t.Errorf("line %+v", l)
	}
}

// pts25 re-stamps a Synthetic source at 25 fps starting at 1000 (a stream
// whose first timestamp is not 0).
type pts25 struct{ *media.Synthetic }

func (p *pts25) ReadFrame(ctx context.Context, f *media.Frame) error {
	if err := p.Synthetic.ReadFrame(ctx, f); err != nil {
		return err
	}
	f.PTS = 1000 + f.Index*40
	return nil
}
