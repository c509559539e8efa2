package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"comfyrt"
	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
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
	av.SetLogLevel("error")
	srcOpts := av.SourceOptions{Width: o.width, Height: o.height, Format: o.inFormat, Audio: true}
	var src media.Source
	var audioFrom *av.Source
	if in := pipeInput(o.in); in != nil {
		// Standard input and pipes go through a Chain: a stream whose
		// program changes (cat a.ts b_with_other_pids.ts) re-opens its
		// demuxer and decoder there.
		ch, err := av.OpenChain(in, srcOpts)
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt run: input %s: %v\n", o.in, err)
			return exitUsage
		}
		src, audioFrom = ch, ch.AudioSource()
	} else {
		s, err := av.OpenSource(o.in, srcOpts)
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt run: input %s: %v\n", o.in, err)
			return exitUsage
		}
		src, audioFrom = s, s
	}
	info := src.Info()
	// auto: network inputs are live, regular files are not, pipes and
	// devices are measured (executor.Auto).
	measured := o.live == "auto" && !isNetworkURL(o.in) && !isRegularFile(o.in, o.inFormat)
	live := o.live == "yes" || (o.live == "auto" && isNetworkURL(o.in))
	var source media.Source = src
	regular := isRegularFile(o.in, o.inFormat)
	if live || measured || !regular {
		// A restarted publisher or a timestamp reset must not stall the
		// stream behind the old timestamps.
		source = media.NewMonotonic(src)
	}
	if o.frames > 0 || o.duration > 0 {
		source = &limitSource{Source: source, frames: o.frames, duration: o.duration}
	}
	pl, err := compileFile(o.workflow, data, o.objectInfo, o.inputDir, info.Width, info.Height, o.ef, stderr)
	if err != nil || pl == nil {
		src.Close()
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return exitUsage
		}
		return exitInvalid
	}
	if !pl.HasFrameInput() {
		fmt.Fprintf(stderr, "comfyrt run: warning: %s has no frame input: every output frame is the same picture\n", o.workflow)
	}
	sinkOpts := av.SinkOptions{Format: o.format, Preset: o.preset, Encoder: o.encoder, RebaseAudio: live || measured || !regular}
	if info.HasAudio {
		sinkOpts.AudioFrom = audioFrom
	}
	sink, err := av.CreateSink(o.out, info, sinkOpts)
	if err != nil && info.HasAudio {
		// The container cannot take the input's audio: go on without it.
		fmt.Fprintf(stderr, "comfyrt run: warning: audio not passed through: %v\n", err)
		sinkOpts.AudioFrom = nil
		sink, err = av.CreateSink(o.out, info, sinkOpts)
	}
	if err != nil {
		pl.Close()
		src.Close()
		fmt.Fprintf(stderr, "comfyrt run: output %s: %v\n", o.out, err)
		return exitUsage
	}

	queue := executor.Block // files: every frame, none dropped for lack of room
	maxFPS, liveFPS := o.maxFPS, 0.0
	budget := o.budget
	switch {
	case live:
		queue = executor.LatestWins
	case measured:
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
	events := make(chan executor.Event, 64)
	p, err := executor.New(executor.Config[*compiler.Plan]{
		Source: source, Sink: sink, Plan: pl,
		MaxFPS: maxFPS, LiveMaxFPS: liveFPS, Budget: budget, Queue: queue, OnError: policy, Events: events,
	})
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitUsage
	}
	if o.metricsAddr != "" {
		ln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			p.Close()
			fmt.Fprintf(stderr, "comfyrt run: --metrics-addr: %v\n", err)
			return exitUsage
		}
		hs := &http.Server{Handler: executor.MetricsHandler(p.Stats), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		fmt.Fprintf(stderr, "comfyrt run: metrics on http://%s/metrics\n", ln.Addr())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := p.Start(ctx); err != nil {
		p.Close()
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitInvalid
	}
	tty := isTerminal(stderr)
	every := 500 * time.Millisecond // the terminal's status line, redrawn in place
	if !tty {
		every = o.progressEvery // one plain line each time
		if every <= 0 {
			every = 5 * time.Second
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var runErr error
	interrupted := false
loop:
	for {
		select {
		case <-p.Done():
			break loop
		case <-ctx.Done():
			// SIGINT/SIGTERM: finish the output (the pipeline stops on the
			// cancelled context). A second signal kills the process; a sink
			// that stays blocked (a stalled network output) is given up on
			// after closeWait.
			interrupted = true
			stop()
			if tty {
				fmt.Fprint(stderr, "\r\033[K")
			}
			fmt.Fprintln(stderr, "comfyrt run: interrupted; finishing the output (again to quit at once)")
			select {
			case <-p.Done():
			case <-time.After(closeWait):
				fmt.Fprintf(stderr, "comfyrt run: the output did not finish within %s; giving up\n", closeWait)
				return exitInterrupted
			}
			break loop
		case ev := <-events:
			reportEvent(stderr, ev, tty)
		case <-tick.C:
			if tty {
				fmt.Fprintf(stderr, "\r\033[K%s", statusLine(p.Stats(), info, time.Since(start)))
			} else {
				fmt.Fprintf(stderr, "comfyrt run: %s\n", statusLine(p.Stats(), info, time.Since(start)))
			}
		}
	}
	runErr = p.Wait()
	for {
		select {
		case ev := <-events:
			reportEvent(stderr, ev, tty)
			continue
		default:
		}
		break
	}
	closeErr := p.Close()
	st := p.Stats()
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	fmt.Fprintf(stderr, "%s\n", statusLine(st, info, time.Since(start)))
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

// isNetworkURL reports a network input (scheme://, not file://).
func isNetworkURL(in string) bool {
	i := strings.Index(in, "://")
	return i > 0 && in[:i] != "file"
}

// isRegularFile reports an input read from a regular file (not a pipe,
// stdin or a device).
func isRegularFile(in, format string) bool {
	if in == "-" || strings.HasPrefix(in, "pipe:") {
		return false
	}
	switch format {
	case "lavfi", "v4l2", "video4linux2", "x11grab", "avfoundation", "dshow", "gdigrab", "kmsgrab", "fbdev", "alsa", "pulse":
		return false
	}
	st, err := os.Stat(strings.TrimPrefix(in, "file:"))
	return err == nil && st.Mode().IsRegular()
}

// limitSource ends a source after frames frames or duration of media
// time from its first frame (--frames, --duration).
type limitSource struct {
	media.Source
	frames   int64
	duration time.Duration
	n        int64
	first    int64
	have     bool
}

func (l *limitSource) ReadFrame(ctx context.Context, f *media.Frame) error {
	if l.frames > 0 && l.n >= l.frames {
		return io.EOF
	}
	if err := l.Source.ReadFrame(ctx, f); err != nil {
		return err
	}
	if l.duration > 0 && f.PTS != media.NoPTS && f.TimeBase.Den > 0 {
		if !l.have {
			l.first, l.have = f.PTS, true
		}
		if t := time.Duration(float64(f.PTS-l.first) * f.TimeBase.Float() * float64(time.Second)); t >= l.duration {
			return io.EOF
		}
	}
	l.n++
	return nil
}

// pipeInput returns the file behind "-", "pipe:" or "pipe:N" (nil for
// other inputs).
func pipeInput(in string) *os.File {
	switch {
	case in == "-" || in == "pipe:" || in == "pipe:0":
		return os.Stdin
	case strings.HasPrefix(in, "pipe:"):
		fd, err := strconv.Atoi(in[len("pipe:"):])
		if err != nil || fd < 0 {
			return nil
		}
		return os.NewFile(uintptr(fd), in)
	}
	return nil
}
