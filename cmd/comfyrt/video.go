package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"comfyrt"
	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/executor/stream"
	"comfyrt/internal/metrics"
)

// exitInterrupted is the exit status of a run stopped by SIGINT/SIGTERM
// before its input ended (128 + SIGINT, as shells report it).
const exitInterrupted = 130

// closeWait is how long an interrupted run waits for its output to finish.
const closeWait = 10 * time.Second

// Defaults of `comfyrt run` with no arguments: the default workflow on the
// bundled sample clip, written to out.mp4.
// Both are built into the program (package comfyrt).
const (
	defaultWorkflow = comfyrt.DefaultWorkflowPath
	defaultClip     = comfyrt.SampleClipPath
	defaultOut      = "out.mp4"
)

// videoOpts are the video options of `comfyrt run`.
type videoOpts struct {
	workflow, in, out string
	wfData            []byte // the workflow's bytes (read from workflow when nil)
	inName            string // the input's name in messages (in when "")
	objectInfo        []string
	inputDir          string
	width, height     int
	budget            time.Duration
	maxFPS            float64
	preset            string
	encoder           string
	format, inFormat  string
	statsJSON         string
	metricsAddr       string
	onError           string
	live              string // auto, yes, no
	ef                *engineFlags
	logOpts           *logOpts      // --log-format, --log-level: the run's diagnostics
	logger            *slog.Logger  // built from logOpts by cmdRun (nil: slog.Default)
	maxFPSSet         bool          // --max-fps given: it applies to files too
	frames            int64         // --frames: stop after this many input frames (0: none)
	duration          time.Duration // --duration: stop after this much input media time (0: none)
	progressEvery     time.Duration // --progress-every: a plain progress line this often when stderr is not a terminal (0: 5 s)
}

// findUp returns rel joined to the working directory or the nearest folder
// above it (or above the program's folder) where it exists, else rel.
func findUp(rel string) string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	return rel
}

// isPicture reports a still-picture file name (PNG or JPEG).
func isPicture(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// isTerminal reports whether w is a terminal (for the live status line).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// inputMode is how a run treats its input: live (network inputs, --live
// yes), measured (--live auto on a pipe or device: executor.Auto) or
// neither; regular reports a regular file.
type inputMode struct{ live, measured, regular bool }

func modeOf(o videoOpts) inputMode {
	// auto: network inputs are live, regular files are not, pipes and
	// devices are measured (executor.Auto).
	regular := stream.IsRegularFile(o.in, o.inFormat)
	return inputMode{
		live:     o.live == "yes" || (o.live == "auto" && stream.IsNetwork(o.in)),
		measured: o.live == "auto" && !stream.IsNetwork(o.in) && !regular,
		regular:  regular,
	}
}

// rebase reports an input whose timestamps may restart: a restarted
// publisher or a timestamp reset must not stall the stream behind the old
// timestamps (media.NewMonotonic, av.SinkOptions.RebaseAudio).
func (m inputMode) rebase() bool { return m.live || m.measured || !m.regular }

// executorConfig is the executor's admission for the input's mode.
func (o videoOpts) executorConfig(m inputMode, events chan executor.Event) executor.Config[*compiler.Plan] {
	queue := executor.Block // files: every frame, none dropped for lack of room
	maxFPS, liveFPS := o.maxFPS, 0.0
	budget := o.budget
	switch {
	case m.live:
		queue = executor.LatestWins
	case m.measured:
		// Paced like a file until the input is found to arrive at real
		// time; then live, with the fps cap and the budget.
		queue = executor.Auto
		liveFPS = maxFPS
		if !o.maxFPSSet {
			maxFPS = -1
		}
	default:
		budget = 0 // a file's frames wait for the plan by design
		if !o.maxFPSSet {
			maxFPS = -1 // every frame: the fps cap is for live inputs
		}
	}
	policy := executor.DropFrame
	if o.onError == "passthrough" {
		policy = executor.PassThrough
	}
	return executor.Config[*compiler.Plan]{MaxFPS: maxFPS, LiveMaxFPS: liveFPS, Budget: budget, Queue: queue,
		OnError: policy, Events: events}
}

// openVideo opens the input, compiles the workflow for its frame size and
// assembles the stream (stream.New). It returns nil and the exit status
// when it cannot.
func openVideo(o videoOpts, data []byte, events chan executor.Event, stderr io.Writer) (*executor.Pipeline[*compiler.Plan], media.StreamInfo, int) {
	av.SetLogLevel("error")
	in, err := stream.Open(o.in, av.SourceOptions{Width: o.width, Height: o.height, Format: o.inFormat, Audio: true})
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: input %s: %v\n", o.in, err)
		return nil, media.StreamInfo{}, exitUsage
	}
	info := in.Info()
	mode := modeOf(o)
	source := in.Source
	if mode.rebase() {
		source = media.NewMonotonic(source)
	}
	if o.frames > 0 || o.duration > 0 {
		source = stream.Limit(source, o.frames, o.duration)
	}
	pl, err := compileFile(o.workflow, data, o.objectInfo, o.inputDir, info.Width, info.Height, o.ef, stderr)
	if err != nil || pl == nil {
		in.Source.Close()
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return nil, info, exitUsage
		}
		return nil, info, exitInvalid
	}
	if !pl.HasFrameInput() {
		o.log().Warn("the workflow has no frame input: every output frame is the same picture", "workflow", o.workflow)
	}
	spec := stream.Spec[*compiler.Plan]{
		Source: source, Plan: pl, Out: o.out, AudioFrom: in.Audio,
		SinkOptions: av.SinkOptions{Format: o.format, Preset: o.preset, Encoder: o.encoder, RebaseAudio: mode.rebase()},
		AudioDropped: func(err error) {
			// The container cannot take the input's audio: go on without it.
			o.log().Warn("audio not passed through", "err", err)
		},
		Config: o.executorConfig(mode, events),
	}
	withAudioPath(&spec, info, o.log())
	p, err := stream.New(spec)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return nil, info, exitUsage
	}
	return p, info, exitOK
}

// serveMetrics serves the run's metrics on addr until the returned
// function is called.
func serveMetrics(addr string, p *executor.Pipeline[*compiler.Plan], logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(metrics.NewRegistry(metrics.NewPipeline(p.Stats))))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	logger.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { _ = hs.Close() }, nil
}

// runVideo decodes o.in, runs the plan on every admitted frame and encodes
// o.out, until the input ends or SIGINT/SIGTERM.
func runVideo(o videoOpts, stdout, stderr io.Writer) int {
	data := o.wfData
	if data == nil {
		var err error
		if data, err = os.ReadFile(o.workflow); err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return exitUsage
		}
	}
	if o.inName == "" {
		o.inName = o.in
	}
	events := make(chan executor.Event, 64)
	p, info, code := openVideo(o, data, events, stderr)
	if p == nil {
		return code
	}
	if o.metricsAddr != "" {
		closeMetrics, err := serveMetrics(o.metricsAddr, p, o.log())
		if err != nil {
			p.Close()
			fmt.Fprintf(stderr, "comfyrt run: --metrics-addr: %v\n", err)
			return exitUsage
		}
		defer closeMetrics()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := &runWatch{p: p, info: info, events: events, stderr: stderr, tty: isTerminal(stderr), start: time.Now(), progressEvery: o.progressEvery}
	if err := p.Start(ctx); err != nil {
		p.Close()
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitInvalid
	}
	interrupted, gaveUp := w.watch(ctx, stop)
	if gaveUp {
		return exitInterrupted
	}
	return w.finish(o, interrupted, stdout)
}

// runWatch follows a started run: its events, its status line and the
// signals that stop it.
type runWatch struct {
	p      *executor.Pipeline[*compiler.Plan]
	info   media.StreamInfo
	events chan executor.Event
	stderr io.Writer
	tty    bool
	start  time.Time
	// progressEvery is --progress-every (0: 5 s).
	progressEvery time.Duration
}

// watch reports events and progress until the run ends or is interrupted
// (ctx). gaveUp reports an interrupted run whose output did not finish
// within closeWait.
func (w *runWatch) watch(ctx context.Context, stop func()) (interrupted, gaveUp bool) {
	every := 500 * time.Millisecond // the terminal's status line, redrawn in place
	if !w.tty {
		every = w.progressEvery // one plain line each time
		if every <= 0 {
			every = 5 * time.Second
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-w.p.Done():
			return false, false
		case <-ctx.Done():
			// SIGINT/SIGTERM: finish the output (the pipeline stops on the
			// cancelled context). A second signal kills the process; a sink
			// that stays blocked (a stalled network output) is given up on
			// after closeWait.
			stop()
			if w.tty {
				fmt.Fprint(w.stderr, "\r\033[K")
			}
			fmt.Fprintln(w.stderr, "comfyrt run: interrupted; finishing the output (again to quit at once)")
			select {
			case <-w.p.Done():
				return true, false
			case <-time.After(closeWait):
				fmt.Fprintf(w.stderr, "comfyrt run: the output did not finish within %s; giving up\n", closeWait)
				return true, true
			}
		case ev := <-w.events:
			reportEvent(w.stderr, ev, w.tty)
		case <-tick.C:
			if w.tty {
				fmt.Fprintf(w.stderr, "\r\033[K%s", statusLine(w.p.Stats(), w.info, time.Since(w.start)))
			} else {
				fmt.Fprintf(w.stderr, "comfyrt run: %s\n", statusLine(w.p.Stats(), w.info, time.Since(w.start)))
			}
		}
	}
}

// finish closes the ended run, prints its last status line and outcome,
// writes --stats-json and returns the exit status.
func (w *runWatch) finish(o videoOpts, interrupted bool, stdout io.Writer) int {
	stderr := w.stderr
	runErr := w.p.Wait()
	for drained := false; !drained; {
		select {
		case ev := <-w.events:
			reportEvent(stderr, ev, w.tty)
		default:
			drained = true
		}
	}
	closeErr := w.p.Close()
	st := w.p.Stats()
	if w.tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	fmt.Fprintf(stderr, "%s\n", statusLine(st, w.info, time.Since(w.start)))
	var statsErr error
	if o.statsJSON != "" {
		b, err := st.JSON()
		if err == nil {
			err = os.WriteFile(o.statsJSON, append(b, '\n'), 0o644)
		}
		if err != nil {
			statsErr = err
			fmt.Fprintf(stderr, "comfyrt run: --stats-json: %v\n", err)
		}
	}
	if runErr == nil {
		runErr = closeErr
	}
	switch {
	case runErr != nil && !errors.Is(runErr, context.Canceled):
		fmt.Fprintf(stderr, "comfyrt run: %v\n", runErr)
		return exitInvalid
	case interrupted:
		fmt.Fprintf(stdout, "%s: interrupted after %d frames (%d dropped) from %s\n", o.out, st.FramesOut, st.DroppedTotal(), o.inName)
		return exitInterrupted
	case statsErr != nil:
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: %d frames (%d dropped) from %s\n", o.out, st.FramesOut, st.DroppedTotal(), o.inName)
	return exitOK
}

// reportEvent prints the events a person needs to see: the switch to
// passthrough and errors (node errors once per kind; drops are counters
// only, shown in the status line).
func reportEvent(w io.Writer, ev executor.Event, tty bool) {
	var msg string
	switch ev.Kind {
	case executor.EventPassthrough:
		msg = fmt.Sprintf("too many consecutive node errors: the stream now passes frames through (last: %v)", ev.Err)
	case executor.EventSourceError:
		msg = fmt.Sprintf("input error (frame skipped): %v", ev.Err)
	case executor.EventSinkError:
		msg = fmt.Sprintf("output error: %v", ev.Err)
	case executor.EventLive:
		msg = "the input arrives at real time: live from here (latest frame wins, fps cap)"
	default:
		return
	}
	if tty {
		fmt.Fprint(w, "\r\033[K")
	}
	fmt.Fprintf(w, "comfyrt run: %s\n", msg)
}

// statusLine renders fps in/out, drops, latency and, for files, progress
// and ETA.
func statusLine(s executor.Stats, info media.StreamInfo, elapsed time.Duration) string {
	line := fmt.Sprintf("frames in %d out %d dropped %d | fps in %.1f out %.1f | latency p50 %s p99 %s",
		s.FramesIn, s.FramesOut, s.DroppedTotal(), s.FPSIn, s.FPSOut, ms(s.Latency.P50), ms(s.Latency.P99))
	if s.NodeErrors > 0 || s.SourceErrors > 0 {
		line += fmt.Sprintf(" | errors %d", s.NodeErrors+s.SourceErrors+s.SinkErrors)
	}
	if s.Passthrough {
		line += " | PASSTHROUGH"
	}
	if info.Frames > 0 && !info.Live {
		pct := float64(s.FramesIn) / float64(info.Frames)
		if pct > 1 {
			pct = 1
		}
		line += fmt.Sprintf(" | %3.0f%%", pct*100)
		if pct > 0 && pct < 1 {
			eta := time.Duration(float64(elapsed) * (1 - pct) / pct)
			line += " ETA " + eta.Round(time.Second).String()
		}
	}
	return line
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// log is the run's logger for its diagnostics (warnings, the metrics
// address); the status line and the summary are output, not logs.
func (o videoOpts) log() *slog.Logger {
	if o.logger != nil {
		return o.logger
	}
	return slog.Default()
}
