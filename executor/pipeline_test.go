package executor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/internal/testkit"
	"comfyrt/nodes"
)

const tw, th = 256, 16 // test frames: wide enough for the 32-bit stamp

func TestEndToEnd(t *testing.T) {
	tests := []struct {
		name   string
		wf     string
		invert bool
		queue  QueuePolicy
	}{
		{"identity/latest", wfIdentity, false, LatestWins},
		{"invert/latest", wfInvert, true, LatestWins},
		{"identity/fifo", wfIdentity, false, FIFO},
		{"invert/fifo", wfInvert, true, FIFO},
		{"invert/block", wfInvert, true, Block},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			e := newEnv(t)
			sink := &media.Collect{}
			const n = 60
			p, err := run(t, Config[*compiler.Plan]{
				Source: &media.Synthetic{W: tw, H: th, N: n}, Sink: sink,
				Plan: e.compile(t, tc.wf, 0, 0), MaxFPS: -1, Queue: tc.queue,
			})
			if err != nil {
				t.Fatal(err)
			}
			s := p.Stats()
			if s.FramesIn != n || s.FramesOut+s.DroppedTotal() != n || s.FramesOut == 0 {
				t.Fatalf("in %d out %d dropped %v", s.FramesIn, s.FramesOut, s.Dropped)
			}
			if tc.queue != LatestWins && s.FramesOut != n {
				t.Errorf("%s dropped frames: %v", tc.name, s.Dropped)
			}
			if s.Dropped[DropQueue] != s.DroppedTotal() {
				t.Errorf("unexpected drops %v", s.Dropped)
			}
			if !sink.Closed {
				t.Error("sink not closed")
			}
			checkStamps(t, sink.Frames, tc.invert)
			// Content: the whole picture, within one 8-bit step.
			var ref media.Frame
			for i := range sink.Frames {
				f := &sink.Frames[i]
				src := &media.Synthetic{W: tw, H: th}
				for j := int64(0); j <= f.Index; j++ {
					_ = src.ReadFrame(context.Background(), &ref)
				}
				if f.Width != tw || f.Height != th {
					t.Fatalf("output %d×%d", f.Width, f.Height)
				}
				for k, b := range ref.RGB {
					want := int(b)
					if tc.invert {
						want = 255 - want
					}
					if d := int(f.RGB[k]) - want; d < -1 || d > 1 {
						t.Fatalf("frame %d byte %d: %d, want %d", f.Index, k, f.RGB[k], want)
					}
				}
				if i > 3 {
					break
				}
			}
			if s.Warmup <= 0 || s.FirstFrame <= 0 || (s.FramesOut > 1 && s.FPSOut <= 0) {
				t.Errorf("warm-up %v, first frame %v, fps %v", s.Warmup, s.FirstFrame, s.FPSOut)
			}
		})
	}
}

// TestResizeToSource: a plan compiled for 512×512 is resized to the
// stream before the first frame.
func TestResizeToSource(t *testing.T) {
	testkit.CheckGoroutines(t)
	e := newEnv(t)
	sink := &media.Collect{}
	pl := e.compile(t, wfInvert, 512, 512)
	_, err := run(t, Config[*compiler.Plan]{Source: &media.Synthetic{W: tw, H: th, N: 5}, Sink: sink, Plan: pl, MaxFPS: -1, Queue: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Frames) != 5 || sink.Frames[0].Width != tw || sink.Frames[0].Height != th {
		t.Fatalf("%d frames", len(sink.Frames))
	}
	if err := pl.RunStatic(); !errors.Is(err, compiler.ErrClosed) {
		t.Errorf("the replaced plan is not closed: %v", err)
	}
	checkStamps(t, sink.Frames, true)
}

// TestNoFrameOutput: without a frame output the input passes through.
func TestNoFrameOutput(t *testing.T) {
	testkit.CheckGoroutines(t)
	sink := &media.Collect{}
	pl := &fakePlan{w: tw, h: th, outputs: 0}
	p, err := run(t, Config[*fakePlan]{Source: &media.Synthetic{W: tw, H: th, N: 10}, Sink: sink, Plan: pl, MaxFPS: -1, Queue: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Frames) != 10 || p.Stats().FramesOut != 10 {
		t.Fatalf("%d frames", len(sink.Frames))
	}
	checkStamps(t, sink.Frames, false)
	if !pl.closed {
		t.Error("plan not closed")
	}
}

// TestRateCap: a 30 fps stream capped at 24 keeps 24 frames a second, by
// PTS.
func TestRateCap(t *testing.T) {
	testkit.CheckGoroutines(t)
	sink := &media.Collect{}
	p, err := run(t, Config[*fakePlan]{Source: &media.Synthetic{W: tw, H: th, N: 300}, Sink: sink,
		Plan: &fakePlan{w: tw, h: th, outputs: 1}, Queue: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	if s.FramesOut < 238 || s.FramesOut > 242 || s.Dropped[DropRate] != 300-s.FramesOut {
		t.Errorf("out %d, dropped %v; want 240 out of 300", s.FramesOut, s.Dropped)
	}
	checkStamps(t, sink.Frames, false)
}

// TestPTSOrder: frames whose PTS does not increase are dropped, so no
// output PTS repeats.
func TestPTSOrder(t *testing.T) {
	testkit.CheckGoroutines(t)
	sink := &media.Collect{}
	src := &ptsSource{pts: []int64{0, 3000, 3000, 6000, 4500, 9000}}
	p, err := run(t, Config[*fakePlan]{Source: src, Sink: sink, Plan: &fakePlan{w: tw, h: th, outputs: 1}, MaxFPS: -1, Queue: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, f := range sink.Frames {
		got = append(got, f.PTS)
	}
	if !slices.Equal(got, []int64{0, 3000, 6000, 9000}) || p.Stats().Dropped[DropPTS] != 2 {
		t.Errorf("pts %v, dropped %v", got, p.Stats().Dropped)
	}
}

type ptsSource struct {
	pts []int64
	i   int
}

func (s *ptsSource) Info() media.StreamInfo { return media.StreamInfo{Width: tw, Height: th} }
func (s *ptsSource) ReadFrame(_ context.Context, f *media.Frame) error {
	if s.i == len(s.pts) {
		return io.EOF
	}
	f.Resize(tw, th)
	f.PTS, f.TimeBase, f.Index, f.Captured = s.pts[s.i], media.Rational{Num: 1, Den: 90000}, int64(s.i), time.Now()
	s.i++
	return nil
}
func (s *ptsSource) Close() error { return nil }

func TestNodeErrors(t *testing.T) {
	tests := []struct {
		name        string
		policy      ErrorPolicy
		fail, panic []int64
		k           int
		// want: per index, 'p' processed, 't' passed through, '-' dropped
		want        string
		passthrough bool
	}{
		{"drop", DropFrame, []int64{3, 4}, nil, 0, "ppp--ppppp", false},
		{"passthrough", PassThrough, []int64{3, 4}, nil, 0, "ppptt ppppp", false},
		{"panic contained", DropFrame, nil, []int64{2}, 0, "pp-ppppppp", false},
		{"k consecutive", DropFrame, []int64{2, 3, 4}, nil, 3, "pp---ttttt", true},
		{"k not reached", DropFrame, []int64{1, 2, 4, 5, 7}, nil, 3, "p--p--p-pp", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			e := newEnv(t)
			for _, i := range tc.fail {
				e.b.fail[i] = true
			}
			for _, i := range tc.panic {
				e.b.panic[i] = true
			}
			events := make(chan Event, 100)
			sink := &media.Collect{}
			p, err := run(t, Config[*compiler.Plan]{
				Source: &media.Synthetic{W: tw, H: th, N: 10}, Sink: sink, Plan: e.compile(t, wfTest, tw, th),
				MaxFPS: -1, Queue: FIFO, OnError: tc.policy, MaxConsecutiveErrors: tc.k, Events: events,
			})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(tc.want, " ", "")
			got := []byte(strings.Repeat("-", 10))
			for i := range sink.Frames {
				f := &sink.Frames[i]
				switch {
				case media.ReadStamp(f, true) == f.Index:
					got[f.Index] = 'p'
				case media.ReadStamp(f, false) == f.Index:
					got[f.Index] = 't'
				default:
					t.Errorf("frame %d: stamp unreadable", f.Index)
				}
			}
			if string(got) != want {
				t.Errorf("frames %s, want %s", got, want)
			}
			s := p.Stats()
			if s.Passthrough != tc.passthrough {
				t.Errorf("passthrough %v", s.Passthrough)
			}
			nerr := int64(strings.Count(want, "-") + strings.Count(want, "t"))
			if tc.passthrough {
				nerr = int64(tc.k)
			}
			if s.NodeErrors != nerr || s.Errors() != nerr {
				t.Errorf("node errors %d, want %d", s.NodeErrors, nerr)
			}
			close(events)
			var sawPass bool
			for ev := range events {
				switch ev.Kind {
				case EventPassthrough:
					sawPass = true
				case EventNodeError:
					var ne *NodeError
					if !errors.As(ev.Err, &ne) || ne.NodeID != "2" || ne.ClassType != "ExecTest" || ne.Frame != ev.Frame {
						t.Errorf("event error %#v", ev.Err)
					}
					if tc.panic != nil {
						var pe *nodes.PanicError
						if !errors.As(ev.Err, &pe) || ne.ExceptionType() != "Panic" {
							t.Errorf("panic not reported as such: %v", ev.Err)
						}
					}
				}
			}
			if sawPass != tc.passthrough {
				t.Errorf("passthrough event %v", sawPass)
			}
		})
	}
}

func TestSourceErrors(t *testing.T) {
	testkit.CheckGoroutines(t)
	sink := &media.Collect{}
	src := &scripted{Source: &media.Synthetic{W: tw, H: th, N: 100}, errs: map[int64]error{
		5:  errors.New("corrupt packet"),
		8:  errors.New("corrupt packet"),
		12: &media.FatalError{Err: errors.New("truncated")},
	}}
	p, err := run(t, Config[*fakePlan]{Source: src, Sink: sink, Plan: &fakePlan{w: tw, h: th, outputs: 1}, MaxFPS: -1, Queue: FIFO})
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("run error %v", err)
	}
	s := p.Stats()
	if s.SourceErrors != 3 || len(sink.Frames) != 12 || s.FramesIn != 12 {
		t.Errorf("source errors %d, frames %d", s.SourceErrors, len(sink.Frames))
	}
	checkStamps(t, sink.Frames, false)
}

func TestSinkError(t *testing.T) {
	testkit.CheckGoroutines(t)
	sink := &failingSink{n: 5}
	p, err := run(t, Config[*fakePlan]{Source: &media.Synthetic{W: tw, H: th, Rate: 200}, Sink: sink,
		Plan: &fakePlan{w: tw, h: th, outputs: 1}, MaxFPS: -1})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("run error %v", err)
	}
	if s := p.Stats(); s.SinkErrors != 1 || s.FramesOut != 5 {
		t.Errorf("sink errors %d, out %d", s.SinkErrors, s.FramesOut)
	}
}

func TestCloseDuringBlockedRead(t *testing.T) {
	testkit.CheckGoroutines(t)
	events := make(chan Event, 10)
	p, err := New(Config[*fakePlan]{Source: &blockingSource{closed: make(chan struct{})}, Sink: &discard{},
		Plan: &fakePlan{w: tw, h: th, outputs: 1}, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	for ev := range events {
		if ev.Kind == EventWarmedUp {
			break
		}
	}
	time.Sleep(10 * time.Millisecond)
	t0 := time.Now()
	within(t, 2*time.Second, func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	if d := time.Since(t0); d > 500*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
	<-p.Done()
	if err := p.Swap(context.Background(), &fakePlan{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Swap after Close: %v", err)
	}
	if err := p.SetBudget(context.Background(), time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("SetBudget after Close: %v", err)
	}
	if err := p.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}

// TestCloseWithoutStart closes what the pipeline owns.
func TestCloseWithoutStart(t *testing.T) {
	testkit.CheckGoroutines(t)
	pl := &fakePlan{w: tw, h: th, outputs: 1}
	sink := &media.Collect{}
	p, err := New(Config[*fakePlan]{Source: &media.Synthetic{W: tw, H: th}, Sink: sink, Plan: pl})
	if err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, func() { _ = p.Close(); <-p.Done() })
	if !pl.closed || !sink.Closed {
		t.Error("not closed")
	}
	if _, err := New(Config[*fakePlan]{Source: &media.Synthetic{}, Sink: sink}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil plan: %v", err)
	}
}

// TestSwap: outputs before the swap come from the old plan (identity),
// after it from the new one (invert); the old plan is closed.
func TestSwap(t *testing.T) {
	testkit.CheckGoroutines(t)
	e := newEnv(t)
	old := e.compile(t, wfIdentity, tw, th)
	gate := make(chan struct{})
	src := &scripted{Source: &media.Synthetic{W: tw, H: th, N: 20}, gateAt: 10, gate: gate}
	sink := &media.Collect{}
	p, err := New(Config[*compiler.Plan]{Source: src, Sink: sink, Plan: old, MaxFPS: -1, Queue: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, func() {
		if err := p.Start(context.Background()); err != nil {
			t.Error(err)
			return
		}
		for p.Stats().FramesOut < 10 {
			time.Sleep(time.Millisecond)
		}
		s, err := p.Snapshot(context.Background())
		if err != nil || s.FramesOut != 10 {
			t.Errorf("snapshot %v %v", s.FramesOut, err)
		}
		if err := p.Swap(context.Background(), e.compile(t, wfInvert, tw, th)); err != nil {
			t.Error(err)
		}
		if err := p.SetBudget(context.Background(), time.Hour); err != nil {
			t.Error(err)
		}
		close(gate)
		if err := p.Wait(); err != nil {
			t.Error(err)
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	if len(sink.Frames) != 20 {
		t.Fatalf("%d frames", len(sink.Frames))
	}
	checkStamps(t, sink.Frames[:10], false)
	checkStamps(t, sink.Frames[10:], true)
	if err := old.RunStatic(); !errors.Is(err, compiler.ErrClosed) {
		t.Errorf("old plan not closed: %v", err)
	}
	if s := p.Stats(); s.Swaps != 1 {
		t.Errorf("swaps %d", s.Swaps)
	}
}

// TestSwapEndsPassthrough: a stream in passthrough after errors tries a
// swapped-in plan.
func TestSwapEndsPassthrough(t *testing.T) {
	testkit.CheckGoroutines(t)
	e := newEnv(t)
	for i := int64(0); i < 5; i++ {
		e.b.fail[i] = true
	}
	gate := make(chan struct{})
	src := &scripted{Source: &media.Synthetic{W: tw, H: th, N: 10}, gateAt: 5, gate: gate}
	sink := &media.Collect{}
	p, err := New(Config[*compiler.Plan]{Source: src, Sink: sink, Plan: e.compile(t, wfTest, tw, th), MaxFPS: -1,
		Queue: FIFO, MaxConsecutiveErrors: 2, OnError: PassThrough, WarmupFrames: -1})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, func() {
		_ = p.Start(context.Background())
		for p.Stats().FramesOut < 5 {
			time.Sleep(time.Millisecond)
		}
		if !p.Stats().Passthrough {
			t.Error("not in passthrough")
		}
		_ = p.Swap(context.Background(), e.compile(t, wfInvert, tw, th))
		close(gate)
		_ = p.Wait()
		_ = p.Close()
	})
	checkStamps(t, sink.Frames[:5], false)
	checkStamps(t, sink.Frames[5:], true)
	if p.Stats().Passthrough {
		t.Error("still in passthrough")
	}
}

func TestStatsJSONAndLatency(t *testing.T) {
	testkit.CheckGoroutines(t)
	p, err := run(t, Config[*fakePlan]{Source: &media.Synthetic{W: tw, H: th, N: 30}, Sink: &discard{},
		Plan: &fakePlan{w: tw, h: th, outputs: 1}, MaxFPS: -1, Queue: FIFO})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	data, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"errors", "first_frame_ms", "fps_out", "frames_dropped", "frames_in", "frames_out", "latency_ms"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v", keys)
	}
	lat, _ := m["latency_ms"].(map[string]any)
	if len(lat) != 3 || lat["p50"] == nil || lat["p95"] == nil || lat["p99"] == nil {
		t.Errorf("latency_ms %v", lat)
	}
	if m["frames_in"].(float64) != 30 || m["frames_out"].(float64) != 30 {
		t.Errorf("%s", data)
	}
	// Every frame's latency is in the histogram's buckets (the last bound
	// is 10 s).
	if l := s.Latency; l.Count != 30 || l.Buckets[len(l.Buckets)-1] != 30 {
		t.Errorf("latency count %d, buckets %v", l.Count, l.Buckets)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.95, 950 * time.Millisecond}, {0.99, 990 * time.Millisecond}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*1.041 {
			t.Errorf("q%v = %v, want %v (+4%%)", c.q, got, c.want)
		}
	}
}

// TestPlanStepNoAllocs: the plan goroutine's per-frame work (convert in,
// run, convert out) allocates nothing in steady state.
func TestPlanStepNoAllocs(t *testing.T) {
	e := newEnv(t)
	p, err := New(Config[*compiler.Plan]{Source: &media.Synthetic{W: tw, H: th}, Sink: &discard{}, Plan: e.compile(t, wfInvert, tw, th)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.ctx = context.Background()
	r := &runner[*compiler.Plan]{p: p}
	r.setPlan(p.plan)
	src := &media.Synthetic{W: tw, H: th}
	f := p.get()
	_ = src.ReadFrame(context.Background(), f)
	step := func() {
		g := p.get()
		g.CopyFrom(f)
		g.Captured = time.Now()
		if o := r.frame(g); o != nil {
			p.put(o)
		}
	}
	step()
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

// TestBlockSlowPlan: with Block (files) a plan slower than the source
// costs no frames: the decoder waits; every frame comes out, in order.
func TestBlockSlowPlan(t *testing.T) {
	testkit.CheckGoroutines(t)
	sink := &media.Collect{}
	const n = 30
	p, err := run(t, Config[*fakePlan]{
		Source: &media.Synthetic{W: tw, H: th, N: n}, Sink: sink, MaxFPS: -1, Queue: Block,
		Plan: &fakePlan{w: tw, h: th, outputs: 1, run: func() error { time.Sleep(2 * time.Millisecond); return nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.FramesOut != n || s.DroppedTotal() != 0 {
		t.Fatalf("out %d, dropped %v", s.FramesOut, s.Dropped)
	}
	for i, f := range sink.Frames {
		if f.Index != int64(i) {
			t.Fatalf("output %d is frame %d", i, f.Index)
		}
	}
}

// TestBlockCloseWhileWaiting: Close returns promptly while the decoder
// waits for room.
func TestBlockCloseWhileWaiting(t *testing.T) {
	testkit.CheckGoroutines(t)
	release := make(chan struct{})
	p, err := New(Config[*fakePlan]{
		Source: &media.Synthetic{W: tw, H: th}, Sink: &discard{}, MaxFPS: -1, Queue: Block, WarmupFrames: -1,
		Plan: &fakePlan{w: tw, h: th, outputs: 1, run: func() error { <-release; return nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	within(t, 2*time.Second, func() {
		go func() { time.Sleep(10 * time.Millisecond); close(release) }()
		_ = p.Close()
	})
}
