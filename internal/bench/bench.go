// Package bench is the logic of `comfyrt bench`: the end-to-end benchmarks of BENCHMARKS.md
// that need a real clip, FFmpeg and ONNX Runtime:
//
//   - B2, the media path: decode → RGB → identity plan → YUV → x264
//     (ultrafast, zerolatency) → null muxer through executor.Pipeline,
//     against the ffmpeg CLI doing the same conversions and encode;
//   - B8, a real model end to end: the text-highlight workflow
//     (PP-OCRv4 TextDetection) through executor.Pipeline, against a plain
//     sequential loop that decodes with the same av.Source, runs the same
//     ONNX Runtime session (opened through the engine.Provider with the
//     same options) with the same pre- and post-processing and overlay, and
//     encodes with the same av.Sink settings;
//   - B7, stream density (`bench b7`, below): how many real-time streams
//     one process holds on deadline;
//   - SD (`bench sd`): internal/bench/sdbench, with this package's
//     frame, warm-up, round and thread options and the CLI's compile.
//
// Each round runs ours then the peer (A B A B …) on the same clip with the
// same thread caps; the first --warmup output frames of every run are
// excluded and the figure is the rate over the remaining frames, up to the
// end of the output (encoder flushed, container finished).
//
// cmd/comfyrt parses the flags into a Config (with its compile function:
// the CLI's workflow loading) and prints the Report. Streams are built
// with executor/stream. It may import compiler, nodes/engine (and its
// ort back end), executor and its media packages, and nodes/builtin for
// the model's name; nothing imports it but cmd/comfyrt.
package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/executor/stream"
	"comfyrt/internal/bench/sdbench"
	"comfyrt/internal/bench/stats"
	"comfyrt/nodes/engine/ort"
)

// Config is one `comfyrt bench` invocation.
type Config struct {
	Which      string // b2, b8, b7, sd or all
	Frames     int    // measured frames per run (0: per-benchmark default)
	Warmup     int    // warm-up output frames excluded from every run
	Rounds     int    // interleaved rounds (comfyrt, then the peer)
	Threads    int    // thread cap on both sides
	Sizes      []Size // B2 frame sizes
	B8Size     int    // B8 frame size (N×N)
	CPUProfile string // profile an extra run per case into CPUProfile.<case>.pprof
	Keep       bool   // keep the temporary folder with the clips
	ModelsDir  string // models folder
	B7         B7Config
	SD         sdbench.Config
	// Version is comfyrt's version, reported with the figures.
	Version string
	// Compile compiles the workflow file name for w×h frames with the
	// bench's engine settings (CPU, threads ORT intra-op threads, the
	// models in ModelsDir); diagnostics go to stderr. A workflow that does
	// not compile returns a nil plan and a nil error. The options, applied
	// last, may change the compiler's configuration (bench sd wraps the
	// engine provider and the registry to time them).
	Compile func(name string, w, h, threads int, stderr io.Writer, opts ...func(*compiler.Config)) (*compiler.Plan, error)
	// Locate finds a file of the source tree (workflows/…) from the
	// working directory or the program's folder (nil: as given).
	Locate func(rel string) string
}

type Size struct{ W, H int }

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.W, s.H) }

func ParseSizes(v string) ([]Size, error) {
	var out []Size
	for f := range strings.SplitSeq(v, ",") {
		w, h, ok := strings.Cut(strings.TrimSpace(f), "x")
		wi, err1 := strconv.Atoi(w)
		hi, err2 := strconv.Atoi(h)
		if !ok || err1 != nil || err2 != nil || wi < 16 || hi < 16 || wi%2 != 0 || hi%2 != 0 {
			return nil, fmt.Errorf("bad size %q (want WxH, even, at least 16)", f)
		}
		out = append(out, Size{wi, hi})
	}
	return out, nil
}

// Figures, as --json writes them.

type Side struct {
	FPS     float64 `json:"fps"`
	Frames  int     `json:"frames"`  // measured frames (after warm-up)
	Seconds float64 `json:"seconds"` // measured wall time
	// Per-frame output intervals after warm-up (ms); absent for the
	// ffmpeg CLI, which reports no per-frame times.
	P50ms float64 `json:"p50_ms,omitempty"`
	P95ms float64 `json:"p95_ms,omitempty"`
	P99ms float64 `json:"p99_ms,omitempty"`
	// ModelMs is the mean time of the ORT Run per frame (B8 plain loop).
	ModelMs float64 `json:"model_ms,omitempty"`
	// Note says when the figure is not the standard one.
	Note string `json:"note,omitempty"`
}

type Round struct {
	Ours  Side    `json:"ours"`
	Peer  Side    `json:"peer"`
	Ratio float64 `json:"ratio"`
}

type Case struct {
	ID       string  `json:"id"`
	Size     string  `json:"size"`
	Frames   int     `json:"frames"` // clip frames
	Warmup   int     `json:"warmup"`
	Ours     string  `json:"ours"`
	Peer     string  `json:"peer"`
	Rounds   []Round `json:"rounds"`
	OursFPS  float64 `json:"ours_fps"` // medians over rounds
	PeerFPS  float64 `json:"peer_fps"`
	Ratio    float64 `json:"ratio"` // median of the per-round ratios
	RatioMin float64 `json:"ratio_min"`
	RatioMax float64 `json:"ratio_max"`
	Target   float64 `json:"target"`
	Met      bool    `json:"met"`
	Profile  string  `json:"profile,omitempty"`
}

type Report struct {
	Machine  string            `json:"machine"`
	CPUs     int               `json:"cpus"`
	Versions map[string]string `json:"versions"`
	Threads  int               `json:"threads"`
	Date     string            `json:"date"`
	Command  string            `json:"command"`
	B2       []Case            `json:"b2,omitempty"`
	B8       *Case             `json:"b8,omitempty"`
	B7       *B7Report         `json:"b7,omitempty"`
	SD       *sdbench.Report   `json:"sd,omitempty"`
}

func Run(cfg Config, stderr io.Writer) (*Report, error) {
	// B7's plan-only path and SD need neither the ffmpeg CLI nor FFmpeg.
	onlyB7 := cfg.Which == "b7" || cfg.Which == "sd"
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		if !onlyB7 {
			return nil, errors.New("the ffmpeg CLI is needed (to make the clips and as B2's peer): " + err.Error())
		}
		ffmpeg = ""
	}
	// Probe the media back end before spending time on clips.
	_, avErr := av.OpenSource(os.DevNull, av.SourceOptions{})
	if !errors.Is(avErr, av.ErrUnavailable) {
		avErr = nil
	} else if !onlyB7 {
		return nil, avErr
	}
	if avErr == nil {
		av.SetLogLevel("error")
	}
	rep := &Report{Machine: cpuModel(), CPUs: runtime.NumCPU(), Threads: cfg.Threads,
		Date:     time.Now().UTC().Format(time.RFC3339),
		Versions: map[string]string{"go": runtime.Version(), "comfyrt": cfg.Version}}
	if ffmpeg != "" {
		rep.Versions["ffmpeg"] = ffmpegVersion(ffmpeg)
	}
	dir, err := os.MkdirTemp("", "comfyrt-bench-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		fmt.Fprintf(stderr, "bench: clips in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if cfg.Which == "b2" || cfg.Which == "all" {
		n := cfg.Frames
		if n == 0 {
			n = 600
		}
		for _, sz := range cfg.Sizes {
			c, err := benchB2(cfg, ffmpeg, dir, sz, n, stderr)
			if err != nil {
				return nil, fmt.Errorf("B2 %s: %w", sz, err)
			}
			rep.B2 = append(rep.B2, *c)
		}
	}
	if cfg.Which == "b8" || cfg.Which == "all" {
		if err := ort.CheckInit(); err != nil {
			return nil, fmt.Errorf("B8 needs ONNX Runtime: %w", err)
		}
		rep.Versions["onnxruntime"] = ort.New().Name()
		n := cfg.Frames
		if n == 0 {
			n = 100
		}
		c, err := benchB8(cfg, ffmpeg, dir, n, stderr)
		if err != nil {
			return nil, fmt.Errorf("B8: %w", err)
		}
		rep.B8 = c
	}
	if cfg.Which == "sd" {
		if rep.SD, err = benchSD(cfg, rep, stderr); err != nil {
			return nil, err
		}
	}
	if cfg.Which == "b7" {
		if ort.CheckInit() == nil && slices.Contains(cfg.B7.Workflows, "text-highlight") {
			rep.Versions["onnxruntime"] = ort.New().Name()
		}
		rep.Threads = cfg.B7.Threads
		b7, err := benchB7(cfg, ffmpeg, dir, avErr, stderr)
		if err != nil {
			return nil, fmt.Errorf("B7: %w", err)
		}
		rep.B7 = b7
	}
	return rep, nil
}

// makeClip writes an H.264 clip of n frames of FFmpeg's testsrc2 at 30 fps.
func makeClip(ffmpeg, dir string, sz Size, n int) (string, error) {
	p := filepath.Join(dir, fmt.Sprintf("testsrc2-%s-%d.mp4", sz, n))
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=%s:rate=30", sz), "-frames:v", strconv.Itoa(n),
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", p).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("making the clip: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return p, nil
}

// sinkOptions are the encoder settings of both sides: x264 ultrafast,
// zerolatency, CRF 23 (x264's default, as the CLI's), keyint 250 (x264's
// default, as the CLI's), the thread cap, the null muxer.
func sinkOptions(threads int) av.SinkOptions {
	return av.SinkOptions{Format: "null", Encoder: "libx264", Preset: "ultrafast", Tune: "zerolatency",
		GOP: 250, Threads: threads}
}

// timedSink records when each frame was written and when the output was
// finished (encoder flushed, trailer written).
type timedSink struct {
	media.Sink
	at  []time.Time
	end time.Time
}

func (s *timedSink) WriteFrame(f *media.Frame) error {
	err := s.Sink.WriteFrame(f)
	s.at = append(s.at, time.Now())
	return err
}

func (s *timedSink) Close() error {
	err := s.Sink.Close()
	s.end = time.Now()
	return err
}

// measure turns output times into the figure of one run: the rate over
// the frames after the first warm ones, from the warm-th output to the end.
func (s *timedSink) measure(warm int) (Side, error) {
	n := len(s.at)
	if n <= warm || warm < 1 && n == 0 {
		return Side{}, fmt.Errorf("only %d frames out, warm-up is %d", n, warm)
	}
	var t0 time.Time
	if warm > 0 {
		t0 = s.at[warm-1]
	} else {
		t0 = s.at[0]
		warm = 1 // the first frame's time is the start
	}
	el := s.end.Sub(t0)
	side := Side{Frames: n - warm, Seconds: el.Seconds()}
	if el > 0 {
		side.FPS = float64(side.Frames) / el.Seconds()
	}
	iv := make([]float64, 0, n-warm)
	for i := warm; i < n; i++ {
		iv = append(iv, float64(s.at[i].Sub(s.at[i-1]))/1e6)
	}
	slices.Sort(iv)
	side.P50ms, side.P95ms, side.P99ms = quantile(iv, 0.50), quantile(iv, 0.95), quantile(iv, 0.99)
	return side, nil
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)-1) + 0.5)
	return round3(sorted[min(i, len(sorted)-1)])
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// runOurs runs clip through executor.Pipeline with plan: every frame (a
// file: Block admission), no fps cap, the thread caps on the decoder and
// the encoder.
func runOurs(clip string, pl *compiler.Plan, threads, warm int, profile string) (Side, error) {
	src, err := av.OpenSource(clip, av.SourceOptions{Threads: threads})
	if err != nil {
		pl.Close()
		return Side{}, err
	}
	n := int(src.Info().Frames)
	var ts *timedSink
	p, err := stream.New(stream.Spec[*compiler.Plan]{Source: src, Plan: pl, Out: "null", SinkOptions: sinkOptions(threads),
		WrapSink: func(s media.Sink) media.Sink {
			ts = &timedSink{Sink: s, at: make([]time.Time, 0, max(n, 16)+16)}
			return ts
		},
		Config: executor.Config[*compiler.Plan]{MaxFPS: -1, Queue: executor.Block, OnError: executor.DropFrame}})
	if err != nil {
		return Side{}, err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			p.Close()
			return Side{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			p.Close()
			return Side{}, err
		}
		defer pprof.StopCPUProfile()
	}
	runErr := p.Run(context.Background())
	closeErr := p.Close()
	if err := errors.Join(runErr, closeErr); err != nil {
		return Side{}, err
	}
	st := p.Stats()
	if st.DroppedTotal() > 0 || st.Errors() > 0 {
		return Side{}, fmt.Errorf("%d frames dropped, %d errors", st.DroppedTotal(), st.Errors())
	}
	return ts.measure(warm)
}

// compilePlan compiles a workflow file for w×h frames with the bench's
// engine settings (CPU, the thread cap).
func compilePlan(cfg Config, rel string, w, h int, stderr io.Writer) (*compiler.Plan, error) {
	name := cfg.locate(rel)
	pl, err := cfg.Compile(name, w, h, cfg.Threads, stderr)
	if err == nil && pl == nil {
		err = fmt.Errorf("%s does not compile (see above)", name)
	}
	return pl, err
}

func (cfg Config) locate(rel string) string {
	if cfg.Locate == nil {
		return rel
	}
	return cfg.Locate(rel)
}

// b2Peer is the ffmpeg CLI command line of B2 (BENCHMARKS.md), with the
// x264 thread cap matched; the progress options only report frame counts
// on fd 3 (so that warm-up can be excluded as on our side).
func b2Peer(ffmpeg, clip string, threads int) []string {
	t := strconv.Itoa(threads)
	return []string{ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:3", "-stats_period", "0.02",
		"-threads", t, "-i", clip, "-vf", "format=rgb24,format=yuv420p",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-threads", t, "-f", "null", "-"}
}

// runFFmpeg runs the peer and measures it from its progress reports: from
// the first report with at least warm frames out to the process's end.
func runFFmpeg(argv []string, warm, total int) (Side, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return Side{}, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.ExtraFiles = []*os.File{w}
	var errOut strings.Builder
	cmd.Stderr = &errOut
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return Side{}, err
	}
	w.Close()
	var (
		mu     sync.Mutex
		t0     time.Time
		f0     = -1
		last   int
		readWG sync.WaitGroup
	)
	readWG.Add(1)
	go func() {
		defer readWG.Done()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			v, ok := strings.CutPrefix(sc.Text(), "frame=")
			if !ok {
				continue
			}
			now := time.Now()
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				continue
			}
			mu.Lock()
			last = n
			if f0 < 0 && n >= max(warm, 1) {
				f0, t0 = n, now
			}
			mu.Unlock()
		}
	}()
	err = cmd.Wait()
	end := time.Now()
	readWG.Wait()
	r.Close()
	if err != nil {
		return Side{}, fmt.Errorf("ffmpeg: %v: %s", err, strings.TrimSpace(errOut.String()))
	}
	if f0 < 0 || last < total {
		return Side{}, fmt.Errorf("ffmpeg reported %d frames (of %d), warm-up %d", last, total, warm)
	}
	side := Side{Frames: last - f0, Seconds: end.Sub(t0).Seconds()}
	if side.Frames == 0 {
		// The run ended before a progress report past the warm-up (a tiny
		// clip): measure the whole run.
		side = Side{Frames: last, Seconds: end.Sub(start).Seconds(), Note: "whole run: too short to exclude warm-up"}
	}
	if side.Seconds > 0 {
		side.FPS = float64(side.Frames) / side.Seconds
	}
	return side, nil
}

func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if strings.ContainsAny(a, " \t'\"$*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

func benchB2(cfg Config, ffmpeg, dir string, sz Size, frames int, stderr io.Writer) (*Case, error) {
	total := cfg.Warmup + frames
	fmt.Fprintf(stderr, "bench: B2 %s: making a %d-frame clip…\n", sz, total)
	clip, err := makeClip(ffmpeg, dir, sz, total)
	if err != nil {
		return nil, err
	}
	peer := b2Peer(ffmpeg, clip, cfg.Threads)
	display := slices.Clone(peer)
	display[0] = "ffmpeg"
	c := &Case{ID: "B2", Size: sz.String(), Frames: total, Warmup: cfg.Warmup, Target: 0.9,
		Ours: fmt.Sprintf("av.Source(threads=%d) → executor.Pipeline[identity-api.json] (Block, no fps cap) → av.Sink(RGB24→BGR24 byte swap, swscale BGR24→yuv420p, libx264 ultrafast zerolatency keyint=250 threads=%d, null muxer)", cfg.Threads, cfg.Threads),
		Peer: shellJoin(display)}
	if cfg.CPUProfile != "" {
		// An extra run of ours under the profiler, outside the figures.
		c.Profile = fmt.Sprintf("%s.b2-%s.pprof", cfg.CPUProfile, sz)
		fmt.Fprintf(stderr, "bench: B2 %s: profiling comfyrt into %s…\n", sz, c.Profile)
		pl, err := compilePlan(cfg, "workflows/identity-api.json", sz.W, sz.H, stderr)
		if err != nil {
			return nil, err
		}
		if _, err := runOurs(clip, pl, cfg.Threads, cfg.Warmup, c.Profile); err != nil {
			return nil, fmt.Errorf("comfyrt (profiled): %w", err)
		}
	}
	for r := range cfg.Rounds {
		pl, err := compilePlan(cfg, "workflows/identity-api.json", sz.W, sz.H, stderr)
		if err != nil {
			return nil, err
		}
		ours, err := runOurs(clip, pl, cfg.Threads, cfg.Warmup, "")
		if err != nil {
			return nil, fmt.Errorf("comfyrt: %w", err)
		}
		theirs, err := runFFmpeg(peer, cfg.Warmup, total)
		if err != nil {
			return nil, err
		}
		c.addRound(ours, theirs)
		fmt.Fprintf(stderr, "bench: B2 %s round %d/%d: comfyrt %.1f fps, ffmpeg %.1f fps, ratio %.3f\n",
			sz, r+1, cfg.Rounds, ours.FPS, theirs.FPS, c.Rounds[r].Ratio)
	}
	c.summarise()
	return c, nil
}

func (c *Case) addRound(ours, peer Side) {
	ours.FPS, peer.FPS = round3(ours.FPS), round3(peer.FPS)
	ours.Seconds, peer.Seconds = round3(ours.Seconds), round3(peer.Seconds)
	ratio := 0.0
	if peer.FPS > 0 {
		ratio = round3(ours.FPS / peer.FPS)
	}
	c.Rounds = append(c.Rounds, Round{Ours: ours, Peer: peer, Ratio: ratio})
}

func (c *Case) summarise() {
	var o, p, r []float64
	for _, x := range c.Rounds {
		o, p, r = append(o, x.Ours.FPS), append(p, x.Peer.FPS), append(r, x.Ratio)
	}
	c.OursFPS, c.PeerFPS, c.Ratio = round3(stats.Median(o)), round3(stats.Median(p)), round3(stats.Median(r))
	c.RatioMin, c.RatioMax = slices.Min(r), slices.Max(r)
	c.Met = c.Ratio >= c.Target
}

// benchSD runs `bench sd` with the shared options.
func benchSD(cfg Config, rep *Report, stderr io.Writer) (*sdbench.Report, error) {
	if err := ort.CheckInit(); err != nil {
		return nil, fmt.Errorf("SD needs ONNX Runtime: %w", err)
	}
	rep.Versions["onnxruntime"] = ort.New().Name()
	sd := cfg.SD
	sd.Frames, sd.Warmup, sd.Rounds, sd.Threads, sd.ModelsDir = cfg.Frames, cfg.Warmup, cfg.Rounds, cfg.Threads, cfg.ModelsDir
	sd.Compile = func(name string, w, h int, set func(*compiler.Config), stderr io.Writer) (*compiler.Plan, error) {
		return cfg.Compile(name, w, h, cfg.Threads, stderr, set)
	}
	r, err := sdbench.Run(sd, stderr)
	if err != nil {
		return nil, fmt.Errorf("SD: %w", err)
	}
	return r, nil
}
