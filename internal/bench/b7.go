package bench

import (
	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/executor/stream"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// B7, stream density: for M = 1, 2, 4, … (then bisected) run M pipelines
// at once in this process, each fed by its own source paced in real time
// at --b7-fps, and count the frames on deadline. Frame i of a stream is
// captured at start + i/fps (its due time, whether or not the reader was
// ready: a live source does not wait); it is on deadline when its output
// was written (after the encoder took it, on the av path) no later than
// --b7-deadline after that. The window is the frames due in
// [warm-up, warm-up + window); M passes when at least 95 % of all window
// frames of all M streams were output on deadline. Frames dropped for any
// reason count as missed.

// B7Pass is the share of window frames on deadline an M must reach.
const B7Pass = 0.95

// B7Config are B7's options.
type B7Config struct {
	Window, Warmup, Deadline time.Duration
	Size                     int
	FPS                      float64
	MaxM                     int
	Threads                  int
	Workflows                []string // identity, text-highlight
	Paths                    []string // plan, av
}

var b7Workflows = map[string]string{
	"identity":       "workflows/identity-api.json",
	"text-highlight": b8Workflow,
}

// B7Point is one M's figure.
type B7Point struct {
	M    int  `json:"m"`
	Pass bool `json:"pass"`
	// Due is the number of window frames of all streams; OnTime those
	// output on deadline; Out those output at all.
	Due    int64 `json:"due"`
	OnTime int64 `json:"on_time"`
	Out    int64 `json:"out"`
	// OnDeadlinePct is 100 × OnTime / Due; WorstStreamPct the lowest
	// stream's.
	OnDeadlinePct  float64 `json:"on_deadline_pct"`
	WorstStreamPct float64 `json:"worst_stream_pct"`
	// FPSPerStream is the mean rate of window frames out per stream over
	// the window; MinStreamFPS the lowest stream's.
	FPSPerStream float64 `json:"fps_per_stream"`
	MinStreamFPS float64 `json:"min_stream_fps"`
	// Latency (capture → written) of the window frames output, all streams.
	P50ms float64 `json:"latency_p50_ms"`
	P99ms float64 `json:"latency_p99_ms"`
	// PlanMs is the mean over streams of the executor's plan time per
	// frame (EWMA at the end): one stream's capacity is about 1000/PlanMs fps.
	PlanMs float64 `json:"plan_ms"`
	// Dropped counts the executor's drops by reason over the whole run
	// (warm-up included), all streams.
	Dropped map[string]int64 `json:"dropped,omitempty"`
	Errors  int64            `json:"errors,omitempty"`
	// Load1 is the machine's 1-minute load average (/proc/loadavg) just
	// before the run: on a shared machine, other work competes for the
	// cores (-1: unknown).
	Load1 float64 `json:"load1"`
}

// B7Case is one workflow on one path.
type B7Case struct {
	Workflow string    `json:"workflow"`
	Path     string    `json:"path"` // plan or av
	Pipeline string    `json:"pipeline"`
	MaxM     int       `json:"max_m"` // largest passing M (0: none)
	Capped   bool      `json:"capped,omitempty"`
	Points   []B7Point `json:"points"` // by M
	Skipped  string    `json:"skipped,omitempty"`
}

type B7Report struct {
	Definition string   `json:"definition"`
	Size       string   `json:"size"`
	FPS        float64  `json:"fps"`
	WindowS    float64  `json:"window_s"`
	WarmupS    float64  `json:"warmup_s"`
	DeadlineMs float64  `json:"deadline_ms"`
	Threads    int      `json:"threads"`
	Cases      []B7Case `json:"cases"`
}

func (b *B7Config) interval() time.Duration { return time.Duration(float64(time.Second) / b.FPS) }

// frames returns the index range [from, to) of the window frames.
func (b *B7Config) frames() (from, to int64) {
	iv := b.interval()
	ceil := func(d time.Duration) int64 { return int64((d + iv - 1) / iv) }
	return ceil(b.Warmup), ceil(b.Warmup + b.Window)
}

func (b *B7Config) definition() string {
	return fmt.Sprintf("M streams in one process, each a %d×%d source paced at %g fps (frame i captured at start + i/%g s, "+
		"whether or not the reader is ready); executor.Pipeline per stream (LatestWins, no fps cap, Budget = deadline); "+
		"a frame is on deadline when written ≤ %.1f ms after its capture; window = frames captured in [%s, %s); "+
		"M passes when ≥ %.0f %% of all window frames of all streams are on deadline (drops count as misses); "+
		"M = 1, 2, 4, … until a failure or %d, then bisected; ONNX Runtime intra-op, decoder and x264 threads %d per stream",
		b.Size, b.Size, b.FPS, b.FPS, float64(b.Deadline)/1e6, b.Warmup, b.Warmup+b.Window, B7Pass*100, b.MaxM, b.Threads)
}

// pacedSource paces an unpaced source in real time: frame i is read at
// start + i×interval (or later when the reader is late) and stamped as
// captured at that due time, so that generation or decoding counts in its
// latency and a late reader cannot hide frames.
type pacedSource struct {
	media.Source
	start    time.Time
	interval time.Duration
	next     int64
}

func (s *pacedSource) Info() media.StreamInfo {
	in := s.Source.Info()
	in.Live = true
	return in
}

func (s *pacedSource) ReadFrame(ctx context.Context, f *media.Frame) error {
	due := s.start.Add(time.Duration(s.next) * s.interval)
	if err := media.WaitUntil(ctx, due); err != nil {
		return err
	}
	if err := s.Source.ReadFrame(ctx, f); err != nil {
		return err
	}
	f.Index, f.Captured = s.next, due
	s.next++
	return nil
}

// discardSink drops every frame (B7's plan-only path).
type discardSink struct{}

func (discardSink) WriteFrame(*media.Frame) error { return nil }
func (discardSink) Close() error                  { return nil }

// deadlineSink records the age of each window frame once written.
type deadlineSink struct {
	media.Sink
	from, to int64 // window frame indices
	deadline time.Duration
	ages     []time.Duration
	onTime   int64
}

func (s *deadlineSink) WriteFrame(f *media.Frame) error {
	err := s.Sink.WriteFrame(f)
	if f.Index >= s.from && f.Index < s.to {
		age := time.Since(f.Captured)
		s.ages = append(s.ages, age)
		if age <= s.deadline && err == nil {
			s.onTime++
		}
	}
	return err
}

// benchB7 searches the largest passing M of every workflow and path.
func benchB7(cfg Config, ffmpeg, dir string, avErr error, stderr io.Writer) (*B7Report, error) {
	b := cfg.B7
	rep := &B7Report{Definition: b.definition(), Size: fmt.Sprintf("%dx%d", b.Size, b.Size), FPS: b.FPS,
		WindowS: b.Window.Seconds(), WarmupS: b.Warmup.Seconds(), DeadlineMs: round3(float64(b.Deadline) / 1e6), Threads: b.Threads}
	_, to := b.frames()
	var clip string
	for _, wf := range b.Workflows {
		for _, path := range b.Paths {
			c := B7Case{Workflow: wf, Path: path}
			switch wf {
			case "identity":
				c.Pipeline = "identity-api.json (LoadImage frame → SaveImage)"
			case "text-highlight":
				c.Pipeline = fmt.Sprintf("text-highlight-api.json (TextDetection PP-OCRv4, ORT cpu intra-op %d → GrowMask → ImageBlend → ImageCompositeMasked)", b.Threads)
			}
			if path == "plan" {
				c.Pipeline = fmt.Sprintf("media.Synthetic (RGB generated in process) → %s → discarding sink; plan only, no decode or encode", c.Pipeline)
			} else {
				c.Pipeline = fmt.Sprintf("av.Source(H.264 testsrc2 clip, threads=%d) → %s → av.Sink(libx264 ultrafast zerolatency keyint=250 threads=%d, null muxer)", b.Threads, c.Pipeline, b.Threads)
			}
			if wf == "text-highlight" {
				if err := ort.CheckInit(); err != nil {
					c.Skipped = "ONNX Runtime unavailable: " + err.Error()
				} else if _, err := os.Stat(filepath.Join(cfg.ModelsDir, builtin.TextDetModel)); err != nil {
					c.Skipped = "model " + builtin.TextDetModel + " absent (run scripts/setup.sh)"
				}
			}
			if path == "av" && c.Skipped == "" {
				switch {
				case ffmpeg == "":
					c.Skipped = "the ffmpeg CLI is needed to make the clip"
				case avErr != nil:
					c.Skipped = "FFmpeg back end: " + avErr.Error()
				case clip == "":
					n := int(to) + int(2*b.FPS) + 8
					fmt.Fprintf(stderr, "bench: B7: making a %d-frame %dx%d clip…\n", n, b.Size, b.Size)
					var err error
					if clip, err = makeClip(ffmpeg, dir, Size{b.Size, b.Size}, n); err != nil {
						return nil, err
					}
				}
			}
			if c.Skipped != "" {
				fmt.Fprintf(stderr, "bench: B7 %s/%s skipped: %s\n", wf, path, c.Skipped)
				rep.Cases = append(rep.Cases, c)
				continue
			}
			if err := b7Search(cfg, &c, dir, clip, stderr); err != nil {
				return nil, fmt.Errorf("%s/%s: %w", wf, path, err)
			}
			rep.Cases = append(rep.Cases, c)
		}
	}
	return rep, nil
}

// b7Search tries M = 1, 2, 4, … up to the first failure (or maxM), then
// bisects between the last pass and the first failure.
func b7Search(cfg Config, c *B7Case, dir, clip string, stderr io.Writer) error {
	b := cfg.B7
	tried := map[int]bool{}
	try := func(m int) (bool, error) {
		pt, err := runB7(cfg, c.Workflow, c.Path, m, dir, clip, stderr)
		if err != nil {
			return false, fmt.Errorf("with %d streams: %w", m, err)
		}
		tried[m] = pt.Pass
		c.Points = append(c.Points, pt)
		verdict := "fail"
		if pt.Pass {
			verdict = "pass"
		}
		fmt.Fprintf(stderr, "bench: B7 %s/%s M=%d: %.1f %% on deadline (worst stream %.1f %%), %.2f fps/stream, latency p50 %.1f ms p99 %.1f ms: %s\n",
			c.Workflow, c.Path, m, pt.OnDeadlinePct, pt.WorstStreamPct, pt.FPSPerStream, pt.P50ms, pt.P99ms, verdict)
		return pt.Pass, nil
	}
	lo, hi := 0, 0 // last pass, first failure (0: none yet)
	for m := 1; ; m = min(2*m, b.MaxM) {
		ok, err := try(m)
		if err != nil {
			return err
		}
		if !ok {
			hi = m
			break
		}
		lo = m
		if m == b.MaxM {
			break
		}
	}
	for hi > 0 && hi-lo > 1 {
		m := (lo + hi) / 2
		ok, err := try(m)
		if err != nil {
			return err
		}
		if ok {
			lo = m
		} else {
			hi = m
		}
	}
	c.MaxM, c.Capped = lo, hi == 0
	slices.SortFunc(c.Points, func(a, b B7Point) int { return a.M - b.M })
	return nil
}

// runB7 runs m streams at once and measures them.
func runB7(cfg Config, wf, path string, m int, dir, clip string, stderr io.Writer) (B7Point, error) {
	b := cfg.B7
	_, to := b.frames()
	var (
		pipes []*executor.Pipeline[*compiler.Plan]
		srcs  []*pacedSource
		sinks []*deadlineSink
	)
	defer func() {
		for _, p := range pipes {
			p.Close()
		}
	}()
	for range m {
		p, src, ds, err := openB7Stream(cfg, wf, path, dir, clip, stderr)
		if err != nil {
			return B7Point{}, err
		}
		pipes, srcs, sinks = append(pipes, p), append(srcs, src), append(sinks, ds)
	}
	load := loadAvg()
	start := time.Now().Add(20 * time.Millisecond)
	end := start.Add(time.Duration(to)*b.interval() + b.Deadline + 250*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), end)
	defer cancel()
	for i, p := range pipes {
		srcs[i].start = start
		if err := p.Start(ctx); err != nil {
			return B7Point{}, err
		}
	}
	var runErrs []error
	for _, p := range pipes {
		<-p.Done()
		if err := p.Err(); err != nil {
			runErrs = append(runErrs, err)
		}
	}
	for _, p := range pipes {
		if err := p.Close(); err != nil {
			runErrs = append(runErrs, err)
		}
	}
	if err := errors.Join(runErrs...); err != nil {
		return B7Point{}, err
	}
	return b.measure(m, pipes, sinks, load), nil
}

// openB7Stream compiles the workflow and assembles one B7 stream: a
// paced source (synthetic frames, or the clip decoded on the av path), the
// plan and a deadline-recording sink (discarding, or x264 to the null
// muxer on the av path).
func openB7Stream(cfg Config, wf, path, dir, clip string, stderr io.Writer) (*executor.Pipeline[*compiler.Plan], *pacedSource, *deadlineSink, error) {
	b := cfg.B7
	ccfg := cfg
	ccfg.Threads = b.Threads // ORT intra-op threads per session
	sz := Size{b.Size, b.Size}
	from, to := b.frames()
	var (
		pl  *compiler.Plan
		err error
	)
	if wf == "text-highlight" {
		pl, err = compileB8(ccfg, dir, sz, stderr)
	} else {
		pl, err = compilePlan(ccfg, b7Workflows[wf], sz.W, sz.H, stderr)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	spec := stream.Spec[*compiler.Plan]{Plan: pl,
		Config: executor.Config[*compiler.Plan]{MaxFPS: -1, Budget: b.Deadline, Queue: executor.LatestWins, OnError: executor.DropFrame}}
	var inner media.Source = &media.Synthetic{W: sz.W, H: sz.H}
	if path == "av" {
		s, err := av.OpenSource(clip, av.SourceOptions{Threads: b.Threads})
		if err != nil {
			pl.Close()
			return nil, nil, nil, err
		}
		inner, spec.Out, spec.SinkOptions = s, "null", sinkOptions(b.Threads)
	} else {
		spec.Sink = discardSink{}
	}
	src := &pacedSource{Source: inner, interval: b.interval()}
	var ds *deadlineSink
	spec.Source = src
	spec.WrapSink = func(s media.Sink) media.Sink {
		ds = &deadlineSink{Sink: s, from: from, to: to, deadline: b.Deadline, ages: make([]time.Duration, 0, to-from)}
		return ds
	}
	p, err := stream.New(spec)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, src, ds, nil
}

// measure turns the m finished streams' sinks and statistics into the
// point of M = m.
func (b B7Config) measure(m int, pipes []*executor.Pipeline[*compiler.Plan], sinks []*deadlineSink, load float64) B7Point {
	from, to := b.frames()
	pt := B7Point{M: m, Dropped: map[string]int64{}, WorstStreamPct: 100, MinStreamFPS: math.Inf(1), Load1: load}
	perStream := to - from
	var ages []float64
	for i, p := range pipes {
		st := p.Stats()
		for r, n := range st.Dropped {
			if n > 0 {
				pt.Dropped[executor.DropReason(r).String()] += n
			}
		}
		pt.Errors += st.Errors()
		pt.PlanMs += float64(st.PlanTime) / 1e6 / float64(m)
		s := sinks[i]
		pt.Due += perStream
		pt.OnTime += s.onTime
		pt.Out += int64(len(s.ages))
		pt.WorstStreamPct = min(pt.WorstStreamPct, 100*float64(s.onTime)/float64(perStream))
		fps := float64(len(s.ages)) / b.Window.Seconds()
		pt.FPSPerStream += fps / float64(m)
		pt.MinStreamFPS = min(pt.MinStreamFPS, fps)
		for _, a := range s.ages {
			ages = append(ages, float64(a)/1e6)
		}
	}
	slices.Sort(ages)
	pt.P50ms, pt.P99ms = quantile(ages, 0.5), quantile(ages, 0.99)
	pt.PlanMs = round3(pt.PlanMs)
	pt.OnDeadlinePct = round3(100 * float64(pt.OnTime) / float64(pt.Due))
	pt.WorstStreamPct, pt.FPSPerStream, pt.MinStreamFPS = round3(pt.WorstStreamPct), round3(pt.FPSPerStream), round3(pt.MinStreamFPS)
	pt.Pass = float64(pt.OnTime) >= B7Pass*float64(pt.Due)
	if len(pt.Dropped) == 0 {
		pt.Dropped = nil
	}
	return pt
}

func printB7(w io.Writer, r *B7Report) {
	fmt.Fprintf(w, "B7 stream density, %s at %g fps, deadline %.1f ms, window %s after %s warm-up, %d thread(s) per stream\n",
		r.Size, r.FPS, r.DeadlineMs, time.Duration(r.WindowS*float64(time.Second)), time.Duration(r.WarmupS*float64(time.Second)), r.Threads)
	fmt.Fprintf(w, "  definition: %s\n", r.Definition)
	for _, c := range r.Cases {
		fmt.Fprintf(w, "\nB7 %s / %s: ", c.Workflow, c.Path)
		switch {
		case c.Skipped != "":
			fmt.Fprintf(w, "skipped (%s)\n", c.Skipped)
			continue
		case c.Capped:
			fmt.Fprintf(w, "max M ≥ %d (every M tried passed; raise --b7-max)\n", c.MaxM)
		default:
			fmt.Fprintf(w, "max M = %d\n", c.MaxM)
		}
		fmt.Fprintf(w, "  %s\n", c.Pipeline)
		fmt.Fprintf(w, "  %4s %6s %7s %8s %9s %10s %11s %10s %-12s %8s %6s  %s\n", "M", "pass", "due", "on-time", "on-dl %", "worst %", "fps/stream", "min fps", "p50/p99 ms", "plan ms", "load1", "drops (whole run)")
		for _, p := range c.Points {
			pass := "no"
			if p.Pass {
				pass = "yes"
			}
			var drops []string
			for _, k := range slices.Sorted(maps.Keys(p.Dropped)) {
				drops = append(drops, fmt.Sprintf("%s %d", k, p.Dropped[k]))
			}
			if p.Errors > 0 {
				drops = append(drops, fmt.Sprintf("errors %d", p.Errors))
			}
			fmt.Fprintf(w, "  %4d %6s %7d %8d %9.1f %10.1f %11.2f %10.2f %-12s %8.2f %6.2f  %s\n", p.M, pass, p.Due, p.OnTime, p.OnDeadlinePct, p.WorstStreamPct,
				p.FPSPerStream, p.MinStreamFPS, fmt.Sprintf("%.1f/%.1f", p.P50ms, p.P99ms), p.PlanMs, p.Load1, strings.Join(drops, ", "))
		}
	}
}

// Parse checks the B7 options and fills the lists; it returns a usage
// message, or "".
func (b *B7Config) Parse(workflows, paths string) string {
	if b.FPS <= 0 || b.Window <= 0 || b.Warmup < 0 || b.MaxM < 1 || b.Threads < 1 || b.Size < 16 || b.Size%2 != 0 {
		return "--b7-fps, --b7-window, --b7-max and --b7-threads must be positive, --b7-warmup 0 or more, --b7-size even and at least 16"
	}
	if b.Deadline <= 0 {
		b.Deadline = 2 * b.interval()
	}
	b.Workflows, b.Paths = nil, nil
	for f := range strings.SplitSeq(workflows, ",") {
		f = strings.TrimSpace(f)
		if _, ok := b7Workflows[f]; !ok {
			return fmt.Sprintf("--b7-workflows: unknown workflow %q (want identity, text-highlight)", f)
		}
		if f == "text-highlight" && (b.Size%32 != 0 || b.Size > 960) {
			return "--b7-size must be a multiple of 32 up to 960 for text-highlight"
		}
		b.Workflows = append(b.Workflows, f)
	}
	for f := range strings.SplitSeq(paths, ",") {
		f = strings.TrimSpace(f)
		if f != "plan" && f != "av" {
			return fmt.Sprintf("--b7-paths: unknown path %q (want plan, av)", f)
		}
		b.Paths = append(b.Paths, f)
	}
	return ""
}

// loadAvg is the 1-minute load average, -1 where unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return -1
	}
	return v
}
