package executor

import (
	"testing"
	"time"

	"comfyrt/executor/media"
)

// Auto with a source faster than real time (a file, a fast pipe): paced
// like a file, every frame kept, no fps cap by default, whatever the
// plan's speed.
func TestLiveinAutoFastSourceKeepsEveryFrame(t *testing.T) {
	src := &media.Synthetic{W: 64, H: 16, N: 90}
	out := &media.Collect{}
	events := make(chan Event, 1024)
	p, err := run(t, Config[*fakePlan]{Source: src, Sink: out,
		Plan:  &fakePlan{w: 64, h: 16, outputs: 1, run: func() error { time.Sleep(2 * time.Millisecond); return nil }},
		Queue: Auto, MaxFPS: -1, WarmupFrames: -1, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.FramesOut != 90 || st.DroppedTotal() != 0 {
		t.Errorf("%d of 90 frames out, %d dropped", st.FramesOut, st.DroppedTotal())
	}
	close(events)
	for ev := range events {
		if ev.Kind == EventLive {
			t.Error("a source faster than real time was found live")
		}
	}
}

// Auto with a source that delivers at real time: found live, then the
// live fps cap applies (20 of 30 fps) and the queue turns to latest-wins.
func TestLiveinAutoRealTimeSourceGoesLive(t *testing.T) {
	src := &media.Synthetic{W: 64, H: 16, N: 90, Rate: 30}
	out := &media.Collect{}
	events := make(chan Event, 1024)
	p, err := run(t, Config[*fakePlan]{Source: src, Sink: out,
		Plan:  &fakePlan{w: 64, h: 16, outputs: 1, run: func() error { time.Sleep(time.Millisecond); return nil }},
		Queue: Auto, MaxFPS: -1, LiveMaxFPS: 20, WarmupFrames: -1, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	close(events)
	live := false
	for ev := range events {
		if ev.Kind == EventLive {
			live = true
		}
	}
	st := p.Stats()
	if !live {
		t.Fatal("a real-time source was not found live")
	}
	if st.Dropped[DropRate] == 0 {
		t.Errorf("live: want the fps cap's drops, got %v", st.Dropped)
	}
	if p.adm.policy != LatestWins {
		t.Errorf("live: queue policy %d, want LatestWins", p.adm.policy)
	}
	if st.FramesOut+st.DroppedTotal() != 90 {
		t.Errorf("%d out + %d dropped != 90 in", st.FramesOut, st.DroppedTotal())
	}
}

func TestLiveinMeter(t *testing.T) {
	var m liveMeter
	// 30 fps read instantly: never live.
	for i := range 90 {
		if m.add(float64(i)/30, 0) {
			t.Fatalf("instant reads found live at frame %d", i)
		}
	}
	// Then waiting a frame's duration for each: live after a second.
	found := false
	for i := 90; i < 150 && !found; i++ {
		found = m.add(float64(i)/30, time.Second/30)
	}
	if !found {
		t.Error("real-time reads not found live")
	}
}
