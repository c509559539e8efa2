package executor

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/internal/testkit"
)

// ageSink records each output's age (write time − capture) and checks its
// stamp against its PTS.
type ageSink struct {
	ages, times []float64 // seconds
	t0          time.Time
	mismatches  int
	last        int64
}

func (s *ageSink) WriteFrame(f *media.Frame) error {
	now := time.Now()
	if s.t0.IsZero() {
		s.t0 = now
	}
	s.ages = append(s.ages, now.Sub(f.Captured).Seconds())
	s.times = append(s.times, now.Sub(s.t0).Seconds())
	if media.ReadStamp(f, false) != ptsIndex(f, 30) || (len(s.ages) > 1 && f.PTS <= s.last) {
		s.mismatches++
	}
	s.last = f.PTS
	return nil
}
func (s *ageSink) Close() error { return nil }

type b5Result struct {
	out, in            int64
	fps, capacity      float64
	p50, p99           time.Duration
	slope, dropRate    float64
	mismatches         int
	budget             time.Duration
	droppedByQueue     int64
	droppedByBudget    int64
	latencyP99Pipeline time.Duration
}

// b5 runs B5's overload scenario: a 30 fps paced source of n frames into
// a plan whose service time is s, under queue policy q (LatestWins with a
// budget of s + 50 ms; FIFO unbounded, no budget). The run stops when the
// source ends (a FIFO's backlog is not drained). Under synctest the clock
// is simulated.
func b5(tb testing.TB, s time.Duration, q QueuePolicy, n int64) b5Result {
	e := newEnv(tb)
	e.b.setSleep(s)
	const w, h = 256, 8
	eof := make(chan struct{})
	src := &scripted{Source: &media.Synthetic{W: w, H: h, N: n, Rate: 30}, onEOF: func() { close(eof) }}
	sink := &ageSink{ages: make([]float64, 0, n), times: make([]float64, 0, n)}
	var budget time.Duration
	if q == LatestWins {
		budget = s + 50*time.Millisecond
	}
	p, err := New(Config[*compiler.Plan]{Source: src, Sink: sink, Plan: e.compile(tb, wfSlow, w, h),
		MaxFPS: -1, Queue: q, Budget: budget, WarmupFrames: 1})
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-eof:
	case <-p.Done():
	}
	if err := p.Close(); err != nil {
		tb.Fatal(err)
	}
	st := p.Stats()
	r := b5Result{out: st.FramesOut, in: st.FramesIn, fps: st.FPSOut, capacity: math.Min(1/s.Seconds(), 30),
		mismatches: sink.mismatches, budget: budget, droppedByQueue: st.Dropped[DropQueue],
		droppedByBudget: st.Dropped[DropBudget], latencyP99Pipeline: st.Latency.P99}
	r.dropRate = float64(st.DroppedTotal()) / float64(max(st.FramesIn, 1))
	ages := slices.Clone(sink.ages)
	slices.Sort(ages)
	if len(ages) > 0 {
		r.p50 = time.Duration(ages[len(ages)/2] * 1e9)
		r.p99 = time.Duration(ages[min(len(ages)-1, int(float64(len(ages))*0.99))] * 1e9)
	}
	r.slope = slope(sink.times, sink.ages)
	return r
}

// slope is the least-squares slope of y over x.
func slope(x, y []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx, sy, sxx, sxy = sx+x[i], sy+y[i], sxx+x[i]*x[i], sxy+x[i]*y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

var b5Services = []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}

func policyName(q QueuePolicy) string {
	if q == FIFO {
		return "fifo"
	}
	return "latest"
}

// TestB5Overload is B5 on a simulated clock (testing/synctest): 10,000
// frames at 30 fps per case (1,000 with -short or -race), service times 20/50/100
// ms, latest-wins against an unbounded FIFO in the same run. Targets
// (latest-wins): output fps ≥ 95 % of min(1/S, 30); age p99 ≤ budget;
// age slope ≈ 0; every output's stamp matches its PTS. FIFO: age grows
// linearly under overload.
func TestB5Overload(t *testing.T) {
	n := int64(10000)
	if testing.Short() || raceEnabled {
		n = 1000 // the race detector makes 10,000 frames × 6 take a minute
	}
	for _, s := range b5Services {
		for _, q := range []QueuePolicy{LatestWins, FIFO} {
			t.Run(fmt.Sprintf("S=%v/%s", s, policyName(q)), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := b5(t, s, q, n)
					t.Logf("B5 S=%v %-6s frames=%d out=%d fps=%.2f capacity=%.2f (%.1f%%) drop=%.1f%% (queue %d, budget %d) age p50=%v p99=%v budget=%v slope=%.4f s/s mismatches=%d",
						s, policyName(q), r.in, r.out, r.fps, r.capacity, 100*r.fps/r.capacity, 100*r.dropRate,
						r.droppedByQueue, r.droppedByBudget, r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.budget, r.slope, r.mismatches)
					if r.mismatches != 0 {
						t.Errorf("%d outputs whose stamp does not match their pts", r.mismatches)
					}
					if q == FIFO {
						if want := 1 - 1/(30*s.Seconds()); want > 0.1 && r.slope < want*0.8 {
							t.Errorf("FIFO age slope %.3f, expected about %.3f", r.slope, want)
						}
						return
					}
					if r.fps < 0.95*r.capacity {
						t.Errorf("fps %.2f < 95%% of %.2f", r.fps, r.capacity)
					}
					if r.p99 > r.budget {
						t.Errorf("age p99 %v > budget %v", r.p99, r.budget)
					}
					if math.Abs(r.slope) > 0.001 {
						t.Errorf("age slope %.4f", r.slope)
					}
				})
			})
		}
	}
}

// BenchmarkB5Overload is B5 in real time over a short window (2 s of a 30
// fps source per case; set by -benchtime iterations × 60 frames).
func BenchmarkB5Overload(b *testing.B) {
	for _, s := range b5Services {
		for _, q := range []QueuePolicy{LatestWins, FIFO} {
			b.Run(fmt.Sprintf("S=%v/%s", s, policyName(q)), func(b *testing.B) {
				var r b5Result
				for i := 0; i < b.N; i++ {
					r = b5(b, s, q, 60)
				}
				b.ReportMetric(r.fps, "fps")
				b.ReportMetric(r.fps/r.capacity, "fps/capacity")
				b.ReportMetric(float64(r.p50.Microseconds())/1e3, "age-p50-ms")
				b.ReportMetric(float64(r.p99.Microseconds())/1e3, "age-p99-ms")
				b.ReportMetric(r.slope, "age-slope")
				b.ReportMetric(r.dropRate, "drop-rate")
				b.ReportMetric(float64(r.mismatches), "pts-mismatches")
			})
		}
	}
}

// memSource samples memory statistics before frame `from` and at the end.
type memSource struct {
	media.Source
	from, next int64
	gc         bool // runtime.GC before sampling (soak: live heap)
	m0, m1     runtime.MemStats
	g0, g1     int
}

func (m *memSource) ReadFrame(ctx context.Context, f *media.Frame) error {
	if m.next == m.from {
		if m.gc {
			runtime.GC()
		}
		runtime.ReadMemStats(&m.m0)
		m.g0 = runtime.NumGoroutine()
	}
	err := m.Source.ReadFrame(ctx, f)
	if err == io.EOF {
		if m.gc {
			runtime.GC()
		}
		runtime.ReadMemStats(&m.m1)
		m.g1 = runtime.NumGoroutine()
	}
	if err == nil {
		m.next++
	}
	return err
}

// BenchmarkB6Loop720p is B6: the whole loop (synthetic 1280×720 source →
// admission → invert plan → discarding sink) in steady state; one op is
// one source frame. Metrics: allocations and bytes per frame read and per
// frame written, GCs per 1000 frames, measured from after warm-up.
func BenchmarkB6Loop720p(b *testing.B) {
	e := newEnv(b)
	const warm = 60
	src := &memSource{Source: &media.Synthetic{W: 1280, H: 720, N: int64(b.N) + warm}, from: warm}
	sink := &discard{}
	p, err := New(Config[*compiler.Plan]{Source: src, Sink: sink, Plan: e.compile(b, wfInvert, 1280, 720), MaxFPS: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st := p.Stats()
	in := float64(b.N)
	out := float64(max(st.FramesOut-1, 1)) // about the frames written after warm-up
	mallocs := float64(src.m1.Mallocs - src.m0.Mallocs)
	bytes := float64(src.m1.TotalAlloc - src.m0.TotalAlloc)
	b.ReportMetric(mallocs/in, "allocs/frame-in")
	b.ReportMetric(bytes/in, "B/frame-in")
	b.ReportMetric(mallocs/out, "allocs/frame-out")
	b.ReportMetric(bytes/out, "B/frame-out")
	b.ReportMetric(float64(src.m1.NumGC-src.m0.NumGC)*1000/in, "GC/1000frames")
	b.ReportMetric(st.FPSOut, "fps-out")
}

// BenchmarkB6Plan720p is B6's plan target: the plan goroutine's work per
// frame (RGB8 → tensor, invert plan, tensor → RGB8) at 1280×720; allocs/op
// must be 0.
func BenchmarkB6Plan720p(b *testing.B) {
	e := newEnv(b)
	p, err := New(Config[*compiler.Plan]{Source: &media.Synthetic{W: 1280, H: 720}, Sink: &discard{}, Plan: e.compile(b, wfInvert, 1280, 720)})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	p.ctx = context.Background()
	r := &runner[*compiler.Plan]{p: p}
	r.setPlan(p.plan)
	f := p.get()
	_ = (&media.Synthetic{W: 1280, H: 720}).ReadFrame(context.Background(), f)
	g := p.get()
	g.CopyFrom(f)
	p.put(r.frame(g))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g := p.get()
		g.Resize(f.Width, f.Height)
		g.Captured = time.Now()
		if o := r.frame(g); o != nil {
			p.put(o)
		}
	}
}

// TestSoak runs 10,000 frames of a 30 fps paced source (simulated clock,
// testing/synctest) through the whole loop and checks that the live heap
// and the goroutine count are flat between frame 1,000 and the end.
func TestSoak(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("soak: 10,000 frames (skipped with -short and -race)")
	}
	testkit.CheckGoroutines(t)
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		src := &memSource{Source: &media.Synthetic{W: 256, H: 64, N: 10000, Rate: 30}, from: 1000, gc: true}
		p, err := New(Config[*compiler.Plan]{Source: src, Sink: &discard{}, Plan: e.compile(t, wfInvert, 256, 64), MaxFPS: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := p.Stats()
		growth := int64(src.m1.HeapAlloc) - int64(src.m0.HeapAlloc)
		t.Logf("soak: %d frames in, %d out, %d dropped; live heap %d → %d B (%+d); goroutines %d → %d; allocs/frame %.4f; latency p99 %v",
			st.FramesIn, st.FramesOut, st.DroppedTotal(), src.m0.HeapAlloc, src.m1.HeapAlloc, growth, src.g0, src.g1,
			float64(src.m1.Mallocs-src.m0.Mallocs)/9000, st.Latency.P99)
		if growth > 256<<10 {
			t.Errorf("live heap grew by %d B over 9,000 frames", growth)
		}
		if src.g1 != src.g0 {
			t.Errorf("goroutines %d → %d", src.g0, src.g1)
		}
		if st.FramesIn != 10000 || st.FramesOut < 9990 {
			t.Errorf("in %d out %d", st.FramesIn, st.FramesOut)
		}
	})
}
