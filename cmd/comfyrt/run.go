package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"comfyrt"
	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/internal/picture"
	"comfyrt/internal/videorun"
	"comfyrt/nodes/value"
)

// runSynopsis and runAbout are the help of `comfyrt run`.
const runSynopsis = "[WORKFLOW | --workflow FILE] [-i IN] [-o OUT] [--budget-ms N] [--max-fps N] [--width W --height H]\n" +
	"           [--input-format FMT] [--frames N] [--duration D]\n" +
	"           [--device cpu|cuda|tensorrt] [--stats-json FILE] [--metrics-addr ADDR] [--data-out FILE]"

const runAbout = "Runs a workflow on video: decodes IN (a file, '-' for standard input, or a\n" +
	"udp://, srt:// or rtmp:// URL), runs the compiled plan on every admitted frame\n" +
	"and encodes OUT (a file, '-' with --format, or a URL) with H.264; audio is\n" +
	"copied through. Every output frame keeps the timestamp of the input frame that\n" +
	"produced it. Files are processed frame by frame; live inputs keep only the\n" +
	"newest frame when the plan is slower (latest frame wins) and drop frames that\n" +
	"would miss --budget-ms. A pipe or device is paced like a file while it delivers\n" +
	"faster than real time and turns live once it arrives at real time. Devices and\n" +
	"FFmpeg sources work with --input-format: v4l2 -i /dev/video0, lavfi -i\n" +
	"testsrc2=size=320x240:rate=30 (stop with --frames or --duration).\n" +
	"With no arguments it runs " + defaultWorkflow + " on\n" +
	defaultClip + " (both built into the program: it works from any\n" +
	"folder) and writes " + defaultOut + ". The workflow '-' is read from standard input.\n" +
	"A status line shows progress on a terminal; otherwise a plain line every 5 s\n(--progress-every).\n\n" +
	"With a picture (-i IMAGE.png/.jpg, or -o OUT.png) it runs the workflow once on\n" +
	"it and writes PNG (JPEG for OUT.jpg/.jpeg); a workflow without a frame input\n" +
	"(EmptyImage, SolidMask, …) runs without -i. With several frame outputs, the\n" +
	"one with the lowest node id goes to OUT.png and each other to OUT-ID.png, ID\n" +
	"being its node id. Static LoadImage files are read from --input-dir\n" +
	"(default: the workflow's folder).\n\n" +
	"Text outputs (ComfyStream's SaveTextTensor) go to --data-out FILE, one JSON\n" +
	"line per frame and text output: {\"type\":\"text\",\"data\":TEXT,\"node\":ID,\n" +
	"\"frame\":INDEX,\"pts\":SECONDS}, as serve sends them on the BYOC data channel.\n\n" +
	"A workflow with audio nodes (LoadAudioTensor → … → SaveAudioTensor) and no\n" +
	"video ones runs on the audio of IN (an audio file or a clip) in chunks of the\n" +
	"node's buffer_size, mono at 48 kHz, and writes OUT (default out.wav; PCM in\n" +
	"WAV, AAC in .m4a/.mp4/.ts). With video and audio paths both run; the audio is\n" +
	"re-encoded to AAC.\n\n" +
	"SIGINT/SIGTERM finish the output and exit; a second one quits at once.\n\n" +
	"Exit status: 0 on success, 1 when the workflow does not compile or the run\n" +
	"fails, 2 for usage errors and unreadable files, 130 when interrupted before\n" +
	"the input ended."

// runFlags are the options of `comfyrt run`.
type runFlags struct {
	video    videoOpts // the options shared with the video path
	wfFile   string
	budgetMs int
	dataOut  string
}

func addRunFlags(fs *flag.FlagSet) *runFlags {
	f := &runFlags{}
	o := &f.video
	fs.Var((*multiFlag)(&o.objectInfo), "object-info", "object_info JSON `FILE` with more node classes (repeatable; later files win)")
	fs.StringVar(&f.wfFile, "workflow", "", "workflow `FILE` (API or UI format; '-' for standard input; default the built-in "+defaultWorkflow+")")
	fs.StringVar(&o.in, "i", "", "input `IN`: video file, '-', URL, or a PNG/JPEG picture (default the built-in "+defaultClip+")")
	fs.StringVar(&o.out, "o", "", "output `OUT`: video file, '-', URL, or a PNG/JPEG for a picture run (default "+defaultOut+")")
	fs.StringVar(&o.inputDir, "input-dir", "", "`folder` static LoadImage files are read from (default: the workflow's folder)")
	fs.IntVar(&f.budgetMs, "budget-ms", 0, "latency budget in `ms` for live inputs: a frame whose age plus the expected plan\ntime exceeds it is dropped before it starts (0: no budget)")
	fs.Float64Var(&o.maxFPS, "max-fps", 24, "input frame-rate cap in `fps`, by timestamps, as the Livepeer live pipelines (0: none);\nit applies to live inputs, and to files only when given")
	fs.IntVar(&o.width, "width", 0, "output `width`: scale to cover W×H and crop the centre (0: the input's)")
	fs.IntVar(&o.height, "height", 0, "output `height` (0: the input's)")
	fs.StringVar(&o.preset, "preset", "", "x264 `preset` (default superfast)")
	fs.StringVar(&o.encoder, "encoder", "", "video `encoder`: libx264 (default) or h264_nvenc")
	fs.StringVar(&o.format, "format", "", "output container `format` (needed for '-'; default from the file extension)")
	fs.StringVar(&o.inFormat, "input-format", "", "input container `format` hint (e.g. mpegts for a pipe)")
	fs.StringVar(&o.statsJSON, "stats-json", "", "write the run's statistics to `FILE` at the end")
	fs.StringVar(&f.dataOut, "data-out", "", "write the text outputs (SaveTextTensor) to `FILE` as JSON lines ('-': standard output)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9090) while running")
	fs.StringVar(&o.onError, "on-error", "drop", "what a frame whose node fails becomes: `drop` or passthrough")
	fs.StringVar(&o.live, "live", "auto", "`mode` for the input: yes (latest frame wins, budget applies), no (every frame,\nthe decoder waits for the plan), auto (network inputs are live, files not; pipes and\ndevices by measurement: one that delivers faster than real time is paced like a file,\none that arrives at real time is live)")
	fs.Int64Var(&o.frames, "frames", 0, "stop after `N` input frames (0: at the input's end)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after `D` of input media time, e.g. 10s (0: at the input's end)")
	fs.DurationVar(&o.progressEvery, "progress-every", 5*time.Second, "how often a run whose stderr is not a terminal (CI, logs) prints a plain\nprogress line, `D`")
	o.ef = addEngineFlags(fs)
	o.logOpts = addLogFlags(fs)
	return f
}

// check validates the options; it returns a usage message, or "".
func (f *runFlags) check(fs *flag.FlagSet) string {
	o := &f.video
	if o.live != "auto" && o.live != "yes" && o.live != "no" {
		return "--live must be auto, yes or no"
	}
	if o.onError != "drop" && o.onError != "passthrough" {
		return "--on-error must be drop or passthrough"
	}
	if o.progressEvery <= 0 {
		return "--progress-every must be positive"
	}
	if err := o.logOpts.check(); err != nil {
		return err.Error()
	}
	if o.width < 0 || o.height < 0 || f.budgetMs < 0 || o.maxFPS < 0 || o.frames < 0 || o.duration < 0 {
		return "--width, --height, --budget-ms, --max-fps, --frames and --duration must not be negative"
	}
	o.budget = time.Duration(f.budgetMs) * time.Millisecond
	fs.Visit(func(fl *flag.Flag) { o.maxFPSSet = o.maxFPSSet || fl.Name == "max-fps" })
	return ""
}

func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("run", runSynopsis, runAbout, stderr)
	f := addRunFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 && f.wfFile == "" {
		f.wfFile, rest = rest[0], rest[1:] // comfyrt run WORKFLOW
	}
	if len(rest) > 0 {
		return usageError(stderr, fs, "unexpected argument %q (give one workflow, as WORKFLOW or --workflow)", rest[0])
	}
	if f.wfFile == "-" && f.video.in == "-" {
		return usageError(stderr, fs, "the workflow and the input cannot both be standard input ('-')")
	}
	wf, err := loadWorkflow(f.wfFile, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitUsage
	}
	if msg := f.check(fs); msg != "" {
		return usageError(stderr, fs, "%s", msg)
	}
	o := f.video
	o.logger = o.logOpts.logger(stderr)
	data, err := videorun.OpenDataOut(f.dataOut, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitUsage
	}
	defer func() {
		if err := data.Close(); err != nil {
			fmt.Fprintf(stderr, "comfyrt run: --data-out: %v\n", err)
		}
	}()
	if data != nil {
		o.onText = data.Write
	}
	if o.inputDir == "" {
		o.inputDir = wf.dir
	}
	if isAudioOnly(wf) {
		return runAudio(o, wf, stdout, stderr)
	}
	if !isPicture(o.in) && !(o.in == "" && isPicture(o.out)) {
		return runVideoCmd(o, wf, stdout, stderr)
	}
	if o.out == "" {
		return usageError(stderr, fs, "no output file given (-o OUT.png)")
	}
	return runPicture(fs, o, wf, stdout, stderr, data)
}

// runVideoCmd fills in the defaults of a video run (the built-in sample
// clip, out.mp4) and runs it.
func runVideoCmd(o videoOpts, wf workflowSource, stdout, stderr io.Writer) int {
	o.workflow, o.wfData = wf.name, wf.data
	if o.in == "" {
		clip, err := writeSampleClip()
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return exitUsage
		}
		defer os.Remove(clip)
		o.in, o.inName = clip, defaultClip+" (built in)"
	}
	if o.out == "" {
		o.out = defaultOut
	}
	if o.maxFPS == 0 {
		o.maxFPS = -1 // none
	}
	return runVideo(o, stdout, stderr)
}

// runPicture runs the workflow once on the picture o.in (none for a
// workflow without a frame input) and writes its frame outputs.
func runPicture(fs *flag.FlagSet, o videoOpts, wf workflowSource, stdout, stderr io.Writer, data *videorun.DataOut) int {
	var frame, frameMask value.Tensor
	w, h := 0, 0
	if o.in != "" {
		var err error
		if frame, frameMask, err = picture.Read(o.in, o.ef.imagePixels()); err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return exitUsage
		}
		h, w = frame.Shape[1], frame.Shape[2]
	}
	pl, err := compileFile(wf.name, wf.data, o.objectInfo, o.inputDir, w, h, o.ef, stderr, func(c *compiler.Config) { c.FrameMask = frameMask })
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitUsage
	}
	if pl == nil {
		return exitInvalid
	}
	defer pl.Close()
	if pl.HasFrameInput() && o.in == "" {
		return usageError(stderr, fs, "%s reads a frame (%s): give a picture with -i", wf.name, strings.Join(frameInputs(pl), ", "))
	}
	if !pl.HasFrameInput() && o.in != "" {
		o.log().Warn("the workflow has no frame input; -i is not used", "workflow", wf.name, "input", o.in)
	}
	if pl.NumOutputs() == 0 {
		fmt.Fprintf(stderr, "comfyrt run: %s has no frame output (SaveTensor, PreviewImage or SaveImage)\n", wf.name)
		return exitInvalid
	}
	if err := pl.RunFrame(frame); err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitInvalid
	}
	pl.TextOutputs(func(id, txt string) { data.Write(executor.Text{NodeID: id, Text: txt}) })
	for i, out := range pl.Outputs() {
		name := o.out
		if i > 0 {
			ext := filepath.Ext(name)
			name = strings.TrimSuffix(name, ext) + "-" + out.NodeID + ext
		}
		if err := picture.Write(name, out.Value); err != nil {
			fmt.Fprintf(stderr, "comfyrt run: output %s (%s #%s): %v\n", name, out.Class, out.NodeID, err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s: %s #%s %s\n", name, out.Class, out.NodeID, value.ShapeString(out.Value.Tensor.Shape))
	}
	return exitOK
}

// workflowSource is the workflow of a run: its name in messages, its
// bytes and the folder static files are read from by default.
type workflowSource struct {
	name string
	data []byte
	dir  string
}

// loadWorkflow reads the workflow of a run: the file name, standard input
// for "-", or the built-in default workflow for "".
func loadWorkflow(name string, stdin io.Reader) (workflowSource, error) {
	switch name {
	case "":
		return workflowSource{name: defaultWorkflow + " (built in)", data: comfyrt.DefaultWorkflow, dir: fileDir("-")}, nil
	case "-":
		data, err := io.ReadAll(stdin)
		if err != nil {
			return workflowSource{}, fmt.Errorf("reading the workflow from standard input: %w", err)
		}
		return workflowSource{name: "<stdin>", data: data, dir: fileDir("-")}, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return workflowSource{}, err
	}
	return workflowSource{name: name, data: data, dir: fileDir(name)}, nil
}

// writeSampleClip writes the built-in sample clip to a temporary file (the
// media back end reads files and URLs) and returns its name; the caller
// removes it.
func writeSampleClip() (string, error) {
	f, err := os.CreateTemp("", "comfyrt-sample-*.mp4")
	if err != nil {
		return "", fmt.Errorf("writing the built-in sample clip: %w", err)
	}
	_, err = f.Write(comfyrt.SampleClip)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the built-in sample clip: %w", err)
	}
	return f.Name(), nil
}

// frameInputs names the frame-input nodes: "LoadTensor #1".
func frameInputs(pl *compiler.Plan) []string {
	t := pl.Typed()
	var out []string
	for _, id := range t.FrameInputs() {
		out = append(out, t.Node(id).String())
	}
	return out
}
