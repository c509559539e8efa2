package videorun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/executor/stream"
	"comfyrt/internal/metrics"
)

// Exit statuses of a run, as every comfyrt command's.
const (
	ExitOK          = 0
	ExitInvalid     = 1   // the workflow does not compile, or the run failed
	ExitUsage       = 2   // bad input or output, unreadable files
	ExitInterrupted = 130 // stopped by SIGINT/SIGTERM before the input ended (128 + SIGINT)
)

// closeWait is how long an interrupted run waits for its output to finish.
const closeWait = 10 * time.Second

// Options are the video options of `comfyrt run`.
type Options struct {
	Workflow    string // the workflow's name in messages
	In, Out     string
	InName      string // the input's name in messages (In when "")
	InputFormat string // --input-format
	Format      string // --format: the output container
	Width       int
	Height      int
	Budget      time.Duration
	MaxFPS      float64
	MaxFPSSet   bool // --max-fps given: it applies to files too
	Preset      string
	Encoder     string
	StatsJSON   string
	MetricsAddr string
	OnError     string        // drop or passthrough
	Live        string        // auto, yes, no
	Frames      int64         // stop after this many input frames (0: none)
	Duration    time.Duration // stop after this much input media time (0: none)
	// ProgressEvery is how often a plain progress line is printed when
	// stderr is not a terminal (0: 5 s).
	ProgressEvery time.Duration
	Logger        *slog.Logger // the run's diagnostics (nil: slog.Default)
	// Compile compiles the workflow for w×h frames; a workflow that does
	// not compile returns a nil plan and a nil error (its diagnostics
	// printed).
	Compile func(w, h int) (*compiler.Plan, error)
	// OnText receives the plan's text outputs (SaveTextTensor), for
	// run --data-out; nil drops them.
	OnText func(executor.Text)
}

func (o Options) log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// Run decodes o.In, runs the plan on every admitted frame and encodes
// o.Out, until the input ends or SIGINT/SIGTERM; it returns the exit
// status.
func Run(o Options, stdout, stderr io.Writer) int {
	if o.InName == "" {
		o.InName = o.In
	}
	events := make(chan executor.Event, 64)
	p, info, code := open(o, events, stderr)
	if p == nil {
		return code
	}
	if o.MetricsAddr != "" {
		closeMetrics, err := serveMetrics(o.MetricsAddr, p, o.log())
		if err != nil {
			p.Close()
			fmt.Fprintf(stderr, "comfyrt run: --metrics-addr: %v\n", err)
			return ExitUsage
		}
		defer closeMetrics()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := &watch{p: p, info: info, events: events, stderr: stderr, tty: isTerminal(stderr), start: time.Now(), progressEvery: o.ProgressEvery}
	if err := p.Start(ctx); err != nil {
		p.Close()
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return ExitInvalid
	}
	interrupted, gaveUp := w.follow(ctx, stop)
	if gaveUp {
		return ExitInterrupted
	}
	return w.finish(o, interrupted, stdout)
}

// open opens the input, compiles the workflow for its frame size and
// assembles the stream (stream.New). It returns nil and the exit status
// when it cannot.
func open(o Options, events chan executor.Event, stderr io.Writer) (*executor.Pipeline[*compiler.Plan], media.StreamInfo, int) {
	av.SetLogLevel("error")
	in, err := stream.Open(o.In, av.SourceOptions{Width: o.Width, Height: o.Height, Format: o.InputFormat, Audio: true})
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: input %s: %v\n", o.In, err)
		return nil, media.StreamInfo{}, ExitUsage
	}
	info := in.Info()
	mode := modeOf(o)
	source := in.Source
	if mode.rebase() {
		source = media.NewMonotonic(source)
	}
	if o.Frames > 0 || o.Duration > 0 {
		source = stream.Limit(source, o.Frames, o.Duration)
	}
	pl, err := o.Compile(info.Width, info.Height)
	if err != nil || pl == nil {
		in.Source.Close()
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return nil, info, ExitUsage
		}
		return nil, info, ExitInvalid
	}
	if !pl.HasFrameInput() {
		o.log().Warn("the workflow has no frame input: every output frame is the same picture", "workflow", o.Workflow)
	}
	spec := stream.Spec[*compiler.Plan]{
		Source: source, Plan: pl, Out: o.Out, AudioFrom: in.Audio,
		SinkOptions: av.SinkOptions{Format: o.Format, Preset: o.Preset, Encoder: o.Encoder, RebaseAudio: mode.rebase()},
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
		return nil, info, ExitUsage
	}
	return p, info, ExitOK
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
