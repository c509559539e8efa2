package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"comfyrt"
	"comfyrt/compiler"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/value"
)

func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("run", "[WORKFLOW | --workflow FILE] [-i IN] [-o OUT] [--budget-ms N] [--max-fps N] [--width W --height H]\n"+
		"           [--input-format FMT] [--frames N] [--duration D]\n"+
		"           [--device cpu|cuda|tensorrt] [--stats-json FILE] [--metrics-addr ADDR]",
		"Runs a workflow on video: decodes IN (a file, '-' for standard input, or a\n"+
			"udp://, srt:// or rtmp:// URL), runs the compiled plan on every admitted frame\n"+
			"and encodes OUT (a file, '-' with --format, or a URL) with H.264; audio is\n"+
			"copied through. Every output frame keeps the timestamp of the input frame that\n"+
			"produced it. Files are processed frame by frame; live inputs keep only the\n"+
			"newest frame when the plan is slower (latest frame wins) and drop frames that\n"+
			"would miss --budget-ms. A pipe or device is paced like a file while it delivers\n"+
			"faster than real time and turns live once it arrives at real time. Devices and\n"+
			"FFmpeg sources work with --input-format: v4l2 -i /dev/video0, lavfi -i\n"+
			"testsrc2=size=320x240:rate=30 (stop with --frames or --duration).\n"+
			"With no arguments it runs "+defaultWorkflow+" on\n"+
			defaultClip+" (both built into the program: it works from any\n"+
			"folder) and writes "+defaultOut+". The workflow '-' is read from standard input.\n"+
			"A status line shows progress on a terminal; otherwise a plain line every 5 s\n(--progress-every).\n\n"+
			"With a picture (-i IMAGE.png/.jpg, or -o OUT.png) it runs the workflow once on\n"+
			"it and writes PNG (JPEG for OUT.jpg/.jpeg); a workflow without a frame input\n"+
			"(EmptyImage, SolidMask, …) runs without -i. With several frame outputs,\n"+
			"output N goes to OUT-N.png. Static LoadImage files are read from --input-dir\n"+
			"(default: the workflow's folder).\n\n"+
			"SIGINT/SIGTERM finish the output and exit; a second one quits at once.\n\n"+
			"Exit status: 0 on success, 1 when the workflow does not compile or the run\n"+
			"fails, 2 for usage errors and unreadable files, 130 when interrupted before\n"+
			"the input ended.", stderr)
	var objectInfo multiFlag
	fs.Var(&objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable; later files win)")
	wfFile := fs.String("workflow", "", "workflow `FILE` (API or UI format; '-' for standard input; default the built-in "+defaultWorkflow+")")
	in := fs.String("i", "", "input `IN`: video file, '-', URL, or a PNG/JPEG picture (default the built-in "+defaultClip+")")
	out := fs.String("o", "", "output `OUT`: video file, '-', URL, or a PNG/JPEG for a picture run (default "+defaultOut+")")
	inputDir := fs.String("input-dir", "", "`folder` static LoadImage files are read from (default: the workflow's folder)")
	budget := fs.Int("budget-ms", 0, "latency budget in `ms` for live inputs: a frame whose age plus the expected plan\ntime exceeds it is dropped before it starts (0: no budget)")
	maxFPS := fs.Float64("max-fps", 24, "input frame-rate cap in `fps`, by timestamps, as the Livepeer live pipelines (0: none);\nit applies to live inputs, and to files only when given")
	width := fs.Int("width", 0, "output `width`: scale to cover W×H and crop the centre (0: the input's)")
	height := fs.Int("height", 0, "output `height` (0: the input's)")
	preset := fs.String("preset", "", "x264 `preset` (default superfast)")
	encoder := fs.String("encoder", "", "video `encoder`: libx264 (default) or h264_nvenc")
	format := fs.String("format", "", "output container `format` (needed for '-'; default from the file extension)")
	inFormat := fs.String("input-format", "", "input container `format` hint (e.g. mpegts for a pipe)")
	statsJSON := fs.String("stats-json", "", "write the run's statistics to `FILE` at the end")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9090) while running")
	onError := fs.String("on-error", "drop", "what a frame whose node fails becomes: `drop` or passthrough")
	live := fs.String("live", "auto", "`mode` for the input: yes (latest frame wins, budget applies), no (every frame,\nthe decoder waits for the plan), auto (network inputs are live, files not; pipes and\ndevices by measurement: one that delivers faster than real time is paced like a file,\none that arrives at real time is live)")
	frames := fs.Int64("frames", 0, "stop after `N` input frames (0: at the input's end)")
	duration := fs.Duration("duration", 0, "stop after `D` of input media time, e.g. 10s (0: at the input's end)")
	progressEvery := fs.Duration("progress-every", 5*time.Second, "how often a run whose stderr is not a terminal (CI, logs) prints a plain\nprogress line, `D`")
	ef := addEngineFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 && *wfFile == "" {
		*wfFile, rest = rest[0], rest[1:] // comfyrt run WORKFLOW
	}
	if len(rest) > 0 {
		return usageError(stderr, fs, "unexpected argument %q (give one workflow, as WORKFLOW or --workflow)", rest[0])
	}
	if *wfFile == "-" && *in == "-" {
		return usageError(stderr, fs, "the workflow and the input cannot both be standard input ('-')")
	}
	wf, err := loadWorkflow(*wfFile, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitUsage
	}
	if *live != "auto" && *live != "yes" && *live != "no" {
		return usageError(stderr, fs, "--live must be auto, yes or no")
	}
	if *onError != "drop" && *onError != "passthrough" {
		return usageError(stderr, fs, "--on-error must be drop or passthrough")
	}
	if *progressEvery <= 0 {
		return usageError(stderr, fs, "--progress-every must be positive")
	}
	if *width < 0 || *height < 0 || *budget < 0 || *maxFPS < 0 || *frames < 0 || *duration < 0 {
		return usageError(stderr, fs, "--width, --height, --budget-ms, --max-fps, --frames and --duration must not be negative")
	}
	maxFPSSet := false
	fs.Visit(func(f *flag.Flag) { maxFPSSet = maxFPSSet || f.Name == "max-fps" })
	if !isPicture(*in) && !(*in == "" && isPicture(*out)) {
		o := videoOpts{workflow: wf.name, wfData: wf.data, in: *in, out: *out, objectInfo: objectInfo, inputDir: *inputDir,
			width: *width, height: *height, budget: time.Duration(*budget) * time.Millisecond, maxFPS: *maxFPS,
			preset: *preset, encoder: *encoder, format: *format, inFormat: *inFormat,
			statsJSON: *statsJSON, metricsAddr: *metricsAddr, onError: *onError, live: *live, ef: ef,
			maxFPSSet: maxFPSSet, frames: *frames, duration: *duration}
		o.progressEvery = *progressEvery
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
		if o.inputDir == "" {
			o.inputDir = wf.dir
		}
		return runVideo(o, stdout, stderr)
	}
	if *out == "" {
		return usageError(stderr, fs, "no output file given (-o OUT.png)")
	}
	data := wf.data
	var frame, frameMask value.Tensor
	w, h := 0, 0
	if *in != "" {
		frame, frameMask, err = readPictureMask(*in, ef.imagePixels())
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
			return exitUsage
		}
		h, w = frame.Shape[1], frame.Shape[2]
	}
	dir := *inputDir
	if dir == "" {
		dir = wf.dir
	}
	pl, err := compileFile(wf.name, data, objectInfo, dir, w, h, ef, stderr, func(c *compiler.Config) { c.FrameMask = frameMask })
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitUsage
	}
	if pl == nil {
		return exitInvalid
	}
	defer pl.Close()
	if pl.HasFrameInput() && *in == "" {
		return usageError(stderr, fs, "%s reads a frame (%s): give a picture with -i", wf.name, strings.Join(frameInputs(pl), ", "))
	}
	if !pl.HasFrameInput() && *in != "" {
		fmt.Fprintf(stderr, "comfyrt run: warning: %s has no frame input; -i %s is not used\n", wf.name, *in)
	}
	if pl.NumOutputs() == 0 {
		fmt.Fprintf(stderr, "comfyrt run: %s has no frame output (SaveTensor, PreviewImage or SaveImage)\n", wf.name)
		return exitInvalid
	}
	if err := pl.RunFrame(frame); err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return exitInvalid
	}
	for i, o := range pl.Outputs() {
		name := *out
		if i > 0 {
			ext := filepath.Ext(name)
			name = strings.TrimSuffix(name, ext) + "-" + o.NodeID + ext
		}
		if err := writePicture(name, o.Value); err != nil {
			fmt.Fprintf(stderr, "comfyrt run: output %s (%s #%s): %v\n", name, o.Class, o.NodeID, err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s: %s #%s %s\n", name, o.Class, o.NodeID, value.ShapeString(o.Value.Tensor.Shape))
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

// readPicture decodes a PNG or JPEG file into an IMAGE [1,H,W,3] (alpha
// dropped, as PIL's convert("RGB")).
func readPicture(name string) (value.Tensor, error) {
	t, _, err := readPictureMask(name, 0)
	return t, err
}

// readPictureMask is readPicture that also returns the picture's MASK
// [1,H,W] (1 − alpha, as LoadImage) when it has an alpha channel (the zero
// Tensor otherwise). A picture whose header claims more than maxPixels
// pixels (0: the default) is refused before it is decoded.
func readPictureMask(name string, maxPixels int64) (frame, mask value.Tensor, err error) {
	f, err := os.Open(name)
	if err != nil {
		return frame, mask, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return frame, mask, fmt.Errorf("%s: not a regular file", name)
	}
	pic, err := builtin.DecodePicture(f, maxPixels)
	if err != nil {
		return frame, mask, fmt.Errorf("%s: %w", name, err)
	}
	frame = value.Tensor{Shape: []int{1, pic.H, pic.W, 3}, Data: pic.RGB}
	if pic.Mask != nil {
		mask = value.Tensor{Shape: []int{1, pic.H, pic.W}, Data: pic.Mask}
	}
	return frame, mask, nil
}

// writePicture writes the first image of an IMAGE [B,H,W,3] (or a MASK
// [B,H,W], as grey) as PNG, or as JPEG when name ends in .jpg or .jpeg,
// 8-bit values clip(255·x) truncated.
func writePicture(name string, v value.Value) error {
	var h, w, c int
	switch v.Kind {
	case value.Image:
		_, hh, ww, cc, ok := value.ImageDims(v.Tensor.Shape)
		if !ok || (cc != 3 && cc != 1 && cc != 4) {
			return fmt.Errorf("cannot write IMAGE %s as a picture", value.ShapeString(v.Tensor.Shape))
		}
		h, w, c = hh, ww, cc
	case value.Mask:
		_, hh, ww, ok := value.MaskDims(v.Tensor.Shape)
		if !ok {
			return fmt.Errorf("cannot write MASK %s as a picture", value.ShapeString(v.Tensor.Shape))
		}
		h, w, c = hh, ww, 1
	default:
		return errors.New("the output is not an image")
	}
	px := make([]byte, h*w*c)
	value.ToRGB8(px, v.Tensor.Data[:h*w*c])
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range h * w {
		o := img.Pix[i*4 : i*4+4]
		switch c {
		case 1:
			o[0], o[1], o[2] = px[i], px[i], px[i]
		default:
			o[0], o[1], o[2] = px[i*c], px[i*c+1], px[i*c+2]
		}
		o[3] = 255
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	enc := png.Encode
	if ext := strings.ToLower(filepath.Ext(name)); ext == ".jpg" || ext == ".jpeg" {
		enc = func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, &jpeg.Options{Quality: 95}) }
	}
	if err := enc(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
