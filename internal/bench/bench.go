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
//     one process holds on deadline.
//
// Each round runs ours then the peer (A B A B …) on the same clip with the
// same thread caps; the first --warmup output frames of every run are
// excluded and the figure is the rate over the remaining frames, up to the
// end of the output (encoder flushed, container finished).
//
// cmd/comfyrt parses the flags into a Config (with its compile function:
// the CLI's workflow loading) and prints the Report. Streams are built
// with executor/stream. It may import compiler, compiler/engine (and its
// ort back end), executor and its media packages, and nodes/builtin for
// the model's name; nothing imports it but cmd/comfyrt.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
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
	"comfyrt/compiler/engine"
	"comfyrt/compiler/engine/ort"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/executor/stream"
	"comfyrt/nodes/builtin"
)

// Config is one `comfyrt bench` invocation.
type Config struct {
	Which      string // b2, b8, b7 or all
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
	// Version is comfyrt's version, reported with the figures.
	Version string
	// Compile compiles the workflow file name for w×h frames with the
	// bench's engine settings (CPU, threads ORT intra-op threads, the
	// models in ModelsDir); diagnostics go to stderr. A workflow that does
	// not compile returns a nil plan and a nil error.
	Compile func(name string, w, h, threads int, stderr io.Writer) (*compiler.Plan, error)
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
}

func Run(cfg Config, stderr io.Writer) (*Report, error) {
	// B7's plan-only path needs neither the ffmpeg CLI nor FFmpeg.
	onlyB7 := cfg.Which == "b7"
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

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (c *Case) summarise() {
	var o, p, r []float64
	for _, x := range c.Rounds {
		o, p, r = append(o, x.Ours.FPS), append(p, x.Peer.FPS), append(r, x.Ratio)
	}
	c.OursFPS, c.PeerFPS, c.Ratio = round3(median(o)), round3(median(p)), round3(median(r))
	c.RatioMin, c.RatioMax = slices.Min(r), slices.Max(r)
	c.Met = c.Ratio >= c.Target
}

// ---- B8 ----

// detThreshold, growBy: the text-highlight workflow's TextDetection
// threshold and GrowMask expand (tapered corners); the plain loop does the
// same work.
const (
	b8Workflow   = "workflows/text-highlight-api.json"
	detThreshold = 0.3
	growBy       = 4
)

func benchB8(cfg Config, ffmpeg, dir string, frames int, stderr io.Writer) (*Case, error) {
	sz := Size{cfg.B8Size, cfg.B8Size}
	total := cfg.Warmup + frames
	fmt.Fprintf(stderr, "bench: B8 %s: making a %d-frame clip…\n", sz, total)
	clip, err := makeClip(ffmpeg, dir, sz, total)
	if err != nil {
		return nil, err
	}
	model := filepath.Join(cfg.ModelsDir, builtin.TextDetModel)
	if _, err := os.Stat(model); err != nil {
		return nil, fmt.Errorf("model %s absent (run scripts/setup.sh): %w", builtin.TextDetModel, err)
	}
	c := &Case{ID: "B8", Size: sz.String(), Frames: total, Warmup: cfg.Warmup, Target: 0.95,
		Ours: fmt.Sprintf("av.Source(threads=%d) → executor.Pipeline[text-highlight-api.json: TextDetection (PP-OCRv4, ORT cpu, intra-op %d) → GrowMask → ImageBlend → ImageCompositeMasked] (Block, no fps cap) → av.Sink(libx264 ultrafast zerolatency keyint=250 threads=%d, null muxer)", cfg.Threads, cfg.Threads, cfg.Threads),
		Peer: fmt.Sprintf("plain sequential loop: same av.Source → BGR/ImageNet normalisation into the ORT session's input → Run (same provider and engine options) → threshold %.1f → grow mask %d px (cross) → yellow multiply where masked → same av.Sink", detThreshold, growBy)}
	if cfg.CPUProfile != "" {
		// An extra run of ours under the profiler, outside the figures.
		c.Profile = fmt.Sprintf("%s.b8-%s.pprof", cfg.CPUProfile, sz)
		fmt.Fprintf(stderr, "bench: B8 %s: profiling comfyrt into %s…\n", sz, c.Profile)
		pl, err := compileB8(cfg, dir, sz, stderr)
		if err != nil {
			return nil, err
		}
		if _, err := runOurs(clip, pl, cfg.Threads, cfg.Warmup, c.Profile); err != nil {
			return nil, fmt.Errorf("comfyrt (profiled): %w", err)
		}
	}
	for r := range cfg.Rounds {
		pl, err := compileB8(cfg, dir, sz, stderr)
		if err != nil {
			return nil, err
		}
		ours, err := runOurs(clip, pl, cfg.Threads, cfg.Warmup, "")
		if err != nil {
			return nil, fmt.Errorf("comfyrt: %w", err)
		}
		plain, err := runPlainDet(clip, model, cfg.Threads, cfg.Warmup)
		if err != nil {
			return nil, fmt.Errorf("plain loop: %w", err)
		}
		c.addRound(ours, plain)
		fmt.Fprintf(stderr, "bench: B8 %s round %d/%d: comfyrt %.2f fps, plain loop %.2f fps (ORT Run %.1f ms/frame), ratio %.3f\n",
			sz, r+1, cfg.Rounds, ours.FPS, plain.FPS, plain.ModelMs, c.Rounds[r].Ratio)
	}
	c.summarise()
	return c, nil
}

// compileB8 compiles the text-highlight workflow for sz (a copy with the
// highlight colour's picture resized when sz is not its 512×512).
func compileB8(cfg Config, dir string, sz Size, stderr io.Writer) (*compiler.Plan, error) {
	if sz.W == 512 && sz.H == 512 {
		return compilePlan(cfg, b8Workflow, sz.W, sz.H, stderr)
	}
	data, err := os.ReadFile(cfg.locate(b8Workflow))
	if err != nil {
		return nil, err
	}
	var wf map[string]map[string]any
	if err := json.Unmarshal(data, &wf); err != nil {
		return nil, err
	}
	for _, n := range wf {
		if n["class_type"] == "EmptyImage" {
			in, _ := n["inputs"].(map[string]any)
			if in != nil {
				in["width"], in["height"] = sz.W, sz.H
			}
		}
	}
	p := filepath.Join(dir, fmt.Sprintf("text-highlight-%s.json", sz))
	if data, err = json.Marshal(wf); err == nil {
		err = os.WriteFile(p, data, 0o644)
	}
	if err != nil {
		return nil, err
	}
	return compilePlan(cfg, p, sz.W, sz.H, stderr)
}

// runPlainDet is B8's peer: one goroutine decoding, running the model with
// the same pre- and post-processing as TextDetection and the same overlay
// as the workflow, and encoding.
func runPlainDet(clip, model string, threads, warm int) (Side, error) {
	src, err := av.OpenSource(clip, av.SourceOptions{Threads: threads})
	if err != nil {
		return Side{}, err
	}
	defer src.Close()
	info := src.Info()
	w, h := info.Width, info.Height
	if w%32 != 0 || h%32 != 0 || max(w, h) > 960 {
		// TextDetection would resize; this loop does not.
		return Side{}, fmt.Errorf("plain loop needs sides that are multiples of 32 up to 960, got %dx%d", w, h)
	}
	prov := ort.New()
	decl, _, err := prov.Inspect(model)
	if err != nil {
		return Side{}, err
	}
	if len(decl) != 1 {
		return Side{}, fmt.Errorf("model inputs %v", decl)
	}
	// TextDetection's engine options: the devices and intra-op threads of
	// the plan (compiler.Config.Engine), with the input's concrete shape.
	sess, err := prov.Open(model, engine.Options{Devices: []string{engine.CPU}, IntraOpThreads: threads,
		Shapes: map[string][]int{decl[0].Name: {1, 3, h, w}}})
	if err != nil {
		return Side{}, err
	}
	defer sess.Close()
	bufs, ok := sess.(engine.Buffers)
	if !ok {
		return Side{}, errors.New("session has no buffers of its own")
	}
	in, out := bufs.InputBuffers(), bufs.OutputBuffers()
	if len(in[0].Data) != 3*w*h || len(out[0].Data) < w*h {
		return Side{}, fmt.Errorf("session tensors %v → %v for %dx%d", sess.Inputs(), sess.Outputs(), w, h)
	}
	snk, err := av.CreateSink("null", info, sinkOptions(threads))
	if err != nil {
		return Side{}, err
	}
	ts := &timedSink{Sink: snk, at: make([]time.Time, 0, max(int(info.Frames), 16)+16)}
	// PaddleOCR's normalisation of BGR pixels, as tables per channel.
	mean, std := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	var lut [3][256]float32
	for c := range 3 {
		for v := range 256 {
			lut[c][v] = (float32(v)/255 - mean[c]) / std[c]
		}
	}
	n := w * h
	mask, tmp := make([]uint8, n), make([]uint8, n)
	var f media.Frame
	var modelTime time.Duration
	var runs int
	for {
		err := src.ReadFrame(context.Background(), &f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ts.Close()
			return Side{}, err
		}
		x, rgb := in[0].Data, f.RGB
		b, g, r := x[:n], x[n:2*n], x[2*n:3*n]
		for i := range n {
			px := rgb[3*i : 3*i+3 : 3*i+3]
			b[i], g[i], r[i] = lut[0][px[2]], lut[1][px[1]], lut[2][px[0]]
		}
		t := time.Now()
		if err := sess.Run(in, out); err != nil {
			ts.Close()
			return Side{}, err
		}
		if runs++; runs > warm {
			modelTime += time.Since(t)
		}
		for i, v := range out[0].Data[:n] {
			if v > detThreshold {
				mask[i] = 1
			} else {
				mask[i] = 0
			}
		}
		for range growBy {
			dilateCross(tmp, mask, w, h)
			mask, tmp = tmp, mask
		}
		// ImageBlend multiply by yellow (1,1,0), composited where masked:
		// blue goes to 0 there.
		for i, m := range mask {
			if m != 0 {
				rgb[3*i+2] = 0
			}
		}
		if err := ts.WriteFrame(&f); err != nil {
			ts.Close()
			return Side{}, err
		}
	}
	if err := ts.Close(); err != nil {
		return Side{}, err
	}
	side, err := ts.measure(warm)
	if m := runs - warm; m > 0 {
		side.ModelMs = round3(float64(modelTime) / float64(m) / 1e6)
	}
	return side, err
}

// dilateCross sets dst to the grey dilation of src with a 3×3 cross (as
// ComfyUI's GrowMask with tapered corners, one step).
func dilateCross(dst, src []uint8, w, h int) {
	for y := range h {
		row := src[y*w : (y+1)*w]
		var up, down []uint8
		if y > 0 {
			up = src[(y-1)*w : y*w]
		}
		if y < h-1 {
			down = src[(y+1)*w : (y+2)*w]
		}
		d := dst[y*w : (y+1)*w]
		for x := range w {
			v := row[x]
			if x > 0 {
				v = max(v, row[x-1])
			}
			if x < w-1 {
				v = max(v, row[x+1])
			}
			if up != nil {
				v = max(v, up[x])
			}
			if down != nil {
				v = max(v, down[x])
			}
			d[x] = v
		}
	}
}

// ---- report ----

func cpuModel() string {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func ffmpegVersion(ffmpeg string) string {
	out, err := exec.Command(ffmpeg, "-hide_banner", "-version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	line = strings.TrimPrefix(line, "ffmpeg version ")
	if i := strings.Index(line, " Copyright"); i > 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

func Print(w io.Writer, r *Report) {
	fmt.Fprintf(w, "machine   %s, %d CPUs; thread cap %d (decoder, x264, ORT intra-op)\n", r.Machine, r.CPUs, r.Threads)
	keys := make([]string, 0, len(r.Versions))
	for k := range r.Versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var vs []string
	for _, k := range keys {
		vs = append(vs, k+" "+r.Versions[k])
	}
	fmt.Fprintf(w, "versions  %s\n", strings.Join(vs, "; "))
	fmt.Fprintf(w, "command   %s\n\n", r.Command)
	if r.B7 != nil {
		printB7(w, r.B7)
	}
	cases := slices.Clone(r.B2)
	if r.B8 != nil {
		cases = append(cases, *r.B8)
	}
	if len(cases) == 0 {
		return
	}
	fmt.Fprintf(w, "%-4s %-9s %6s %10s %10s %7s %13s %6s %-4s %s\n", "id", "size", "frames", "ours fps", "peer fps", "ratio", "ratio min–max", "target", "met", "ours per-frame ms p50/p95/p99 (round 1)")
	for _, c := range cases {
		met := "no"
		if c.Met {
			met = "yes"
		}
		p := c.Rounds[0].Ours
		fmt.Fprintf(w, "%-4s %-9s %6d %10.2f %10.2f %7.3f %6.3f–%-6.3f %6.2f %-4s %.2f/%.2f/%.2f\n", c.ID, c.Size, c.Rounds[0].Ours.Frames,
			c.OursFPS, c.PeerFPS, c.Ratio, c.RatioMin, c.RatioMax, c.Target, met, p.P50ms, p.P95ms, p.P99ms)
	}
	fmt.Fprintln(w)
	for _, c := range cases {
		fmt.Fprintf(w, "%s %s (%d rounds, ours then peer; %d warm-up frames excluded of %d):\n", c.ID, c.Size, len(c.Rounds), c.Warmup, c.Frames)
		fmt.Fprintf(w, "  ours: %s\n  peer: %s\n", c.Ours, c.Peer)
		for i, x := range c.Rounds {
			extra := ""
			if x.Peer.ModelMs > 0 {
				extra = fmt.Sprintf(" (ORT Run %.1f ms/frame)", x.Peer.ModelMs)
			}
			fmt.Fprintf(w, "  round %d: ours %.2f fps, peer %.2f fps%s, ratio %.3f\n", i+1, x.Ours.FPS, x.Peer.FPS, extra, x.Ratio)
		}
		if c.Profile != "" {
			fmt.Fprintf(w, "  CPU profile of ours (an extra run, not in the figures): %s\n", c.Profile)
		}
	}
}

// ---- B7 ----

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
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
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
	ccfg := cfg
	ccfg.Threads = b.Threads // ORT intra-op threads per session
	sz := Size{b.Size, b.Size}
	from, to := b.frames()
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
			return B7Point{}, err
		}
		spec := stream.Spec[*compiler.Plan]{Plan: pl,
			Config: executor.Config[*compiler.Plan]{MaxFPS: -1, Budget: b.Deadline, Queue: executor.LatestWins, OnError: executor.DropFrame}}
		var inner media.Source = &media.Synthetic{W: sz.W, H: sz.H}
		if path == "av" {
			s, err := av.OpenSource(clip, av.SourceOptions{Threads: b.Threads})
			if err != nil {
				pl.Close()
				return B7Point{}, err
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
	return pt, nil
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
