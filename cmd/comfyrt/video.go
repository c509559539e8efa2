package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"comfyrt"
	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/internal/videorun"
)

// exitInterrupted is the exit status of a run stopped by SIGINT/SIGTERM
// before its input ended (128 + SIGINT, as shells report it).
const exitInterrupted = videorun.ExitInterrupted

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

	onText func(executor.Text) // --data-out: the text outputs (run.go)
}

// isPicture reports a still-picture file name (PNG or JPEG).
func isPicture(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// runVideo runs the workflow on the video o.in (internal/videorun), the
// workflow compiled with this command's schemas, packs and engine flags.
func runVideo(o videoOpts, stdout, stderr io.Writer) int {
	data := o.wfData
	if data == nil {
		var err error
		if data, err = os.ReadFile(o.workflow); err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return exitUsage
		}
	}
	return videorun.Run(videorun.Options{
		Workflow: o.workflow, In: o.in, Out: o.out, InName: o.inName, InputFormat: o.inFormat, Format: o.format,
		Width: o.width, Height: o.height, Budget: o.budget, MaxFPS: o.maxFPS, MaxFPSSet: o.maxFPSSet,
		Preset: o.preset, Encoder: o.encoder, StatsJSON: o.statsJSON, MetricsAddr: o.metricsAddr,
		OnError: o.onError, Live: o.live, Frames: o.frames, Duration: o.duration, ProgressEvery: o.progressEvery,
		Logger: o.logger, OnText: o.onText,
		Compile: func(w, h int) (*compiler.Plan, error) {
			return compileFile(o.workflow, data, o.objectInfo, o.inputDir, w, h, o.ef, stderr)
		},
	}, stdout, stderr)
}

// log is the run's logger for its diagnostics (warnings); the summary is
// output, not logs.
func (o videoOpts) log() *slog.Logger {
	if o.logger != nil {
		return o.logger
	}
	return slog.Default()
}
