package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"comfyrt/compiler"
	"comfyrt/internal/bench"
)

// `comfyrt bench`: flag parsing and printing; the benchmarks themselves
// (B2, B8 with its plain-loop peer, B7) are package internal/bench.

const benchAbout = `Runs the end-to-end benchmarks B2 (media path vs the ffmpeg CLI) and B8
(PP-OCRv4 text detection workflow vs a plain ONNX Runtime loop) of
BENCHMARKS.md on synthetic clips made with the ffmpeg CLI (testsrc2, H.264)
in a temporary folder, interleaving comfyrt and the peer round by round.
Prints a table (machine, versions, peer command lines, fps, median ratio);
--json writes the figures. Progress goes to stderr.

b7 (not part of all: it takes minutes) is stream density: the largest M
of concurrent real-time streams (--b7-size, --b7-fps) one process holds
with at least 95 % of the frames captured in the window written within
--b7-deadline of their capture, per workflow (identity, text-highlight)
and path (plan: synthetic frames, plan only; av: H.264 decode and x264
encode to the null muxer per stream).

sd (not part of all: it needs a Stable Diffusion export) is img2img on
--sd-checkpoint, an ONNX export (Optimum's layout) under the models
folder's checkpoints/: a synthetic --sd-size frame through VAEEncode →
KSampler → VAEDecode, per sampler × cfg × steps case. Per denoising step
it reports KSampler's time minus its UNet's ONNX Runtime Runs (target
< 100 µs and < 2 %), per frame the plan's time minus every Run, and the
plan's frame time against a plain Go loop over the same sessions,
alternated frame by frame (ratio target ≥ 0.95). No ffmpeg needed.`

// benchFlags are the options of `comfyrt bench`.
type benchFlags struct {
	cfg                  bench.Config
	sizes, jsonOut       string
	b7Workflows, b7Paths string
	sdSteps, sdSamplers  string
	sdCFGs               string
}

func addBenchFlags(fs *flag.FlagSet) *benchFlags {
	f := &benchFlags{}
	c, b := &f.cfg, &f.cfg.B7
	fs.IntVar(&c.Frames, "frames", 0, "measured `frames` per run after the warm-up (default 600 for B2, 100 for B8 and SD)")
	fs.IntVar(&c.Warmup, "warmup", 50, "warm-up output `frames` excluded from every run")
	fs.IntVar(&c.Rounds, "rounds", 3, "interleaved `rounds` (comfyrt, then the peer)")
	fs.IntVar(&c.Threads, "threads", 2, "thread cap on both sides: decoder, x264 and ONNX Runtime intra-op `threads`")
	fs.StringVar(&f.sizes, "sizes", "512x512,1280x720", "B2 frame `sizes`, comma-separated")
	fs.IntVar(&c.B8Size, "b8-size", 512, "B8 frame size (`N`×N, a multiple of 32, at most 960)")
	fs.StringVar(&f.jsonOut, "json", "", "write the figures to `file` as JSON")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "profile an extra, unmeasured run of comfyrt per case into `prefix`.<case>.pprof")
	fs.BoolVar(&c.Keep, "keep", false, "keep the temporary folder with the clips")
	fs.StringVar(&c.ModelsDir, "models-dir", "", "models `folder` (default: as comfyrt run)")
	fs.DurationVar(&b.Window, "b7-window", 10*time.Second, "B7 measured `window` per M (frames captured in it)")
	fs.DurationVar(&b.Warmup, "b7-warmup", 3*time.Second, "B7 warm-up `time` before the window (compile excluded)")
	fs.DurationVar(&b.Deadline, "b7-deadline", 0, "B7 deadline (capture → written) per frame (default 2 frame intervals, 83.3ms at 24 fps)")
	fs.IntVar(&b.Size, "b7-size", 512, "B7 frame size (`N`×N, even; a multiple of 32 for text-highlight)")
	fs.Float64Var(&b.FPS, "b7-fps", 24, "B7 source `rate` per stream")
	fs.IntVar(&b.MaxM, "b7-max", 64, "B7 largest `M` tried")
	fs.IntVar(&b.Threads, "b7-threads", 1, "B7 per-stream ONNX Runtime intra-op, decoder and x264 `threads`")
	fs.StringVar(&f.b7Workflows, "b7-workflows", "identity,text-highlight", "B7 `workflows`, comma-separated (identity, text-highlight)")
	sd := &c.SD
	fs.StringVar(&sd.Checkpoint, "sd-checkpoint", "tiny", "SD checkpoint `name` (a folder under the models folder's checkpoints/)")
	fs.IntVar(&sd.Size, "sd-size", 512, "SD frame size (`N`×N, a multiple of 8)")
	fs.StringVar(&f.sdSteps, "sd-steps", "1,4", "SD denoising `steps` per case, comma-separated (1..50)")
	fs.StringVar(&f.sdSamplers, "sd-samplers", "lcm,euler", "SD `samplers`, comma-separated (euler, euler_ancestral, lcm, dpmpp_2m, ddim)")
	fs.StringVar(&f.sdCFGs, "sd-cfg", "1,7", "SD cfg `values`, comma-separated (1: no unconditional pass)")
	fs.Float64Var(&sd.Denoise, "sd-denoise", 0.75, "SD KSampler denoise (img2img `strength`, 0 < d ≤ 1)")
	fs.StringVar(&sd.Device, "device", "cpu", "SD ONNX Runtime execution `providers` (cpu, cuda, tensorrt; comma-separated, e.g. cuda,cpu)")
	fs.StringVar(&f.b7Paths, "b7-paths", "plan,av", "B7 `paths`, comma-separated: plan (synthetic frames, no decode/encode), av (H.264 decode and x264 encode per stream)")
	return f
}

// check validates the options against the positional arguments and fills
// the configuration; it returns a usage message, or "".
func (f *benchFlags) check(pos []string) string {
	c := &f.cfg
	c.Which = "all"
	if len(pos) > 1 {
		return "at most one benchmark name (b2, b8, b7, sd or all)"
	}
	if len(pos) == 1 {
		c.Which = strings.ToLower(pos[0])
	}
	switch c.Which {
	case "b2", "b8", "b7", "sd", "all":
	default:
		return fmt.Sprintf("unknown benchmark %q (want b2, b8, b7, sd or all)", pos[0])
	}
	if msg := c.SD.Parse(f.sdSteps, f.sdSamplers, f.sdCFGs); msg != "" {
		return msg
	}
	if msg := c.B7.Parse(f.b7Workflows, f.b7Paths); msg != "" {
		return msg
	}
	if c.Frames < 0 || c.Warmup < 0 || c.Rounds < 1 || c.Threads < 1 {
		return "--frames and --warmup must be 0 or more, --rounds and --threads at least 1"
	}
	if c.B8Size < 32 || c.B8Size%32 != 0 || c.B8Size > 960 {
		return "--b8-size must be a multiple of 32 within 32..960"
	}
	var err error
	if c.Sizes, err = bench.ParseSizes(f.sizes); err != nil {
		return fmt.Sprintf("--sizes: %v", err)
	}
	if c.ModelsDir == "" {
		c.ModelsDir = defaultModelsDir()
	}
	c.Version, c.Locate = version, bench.FindUp
	c.Compile = func(name string, w, h, threads int, stderr io.Writer, opts ...func(*compiler.Config)) (*compiler.Plan, error) {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		dev, md := "cpu", c.ModelsDir
		ef := &engineFlags{device: &dev, threads: &threads, modelsDir: &md}
		return compileFile(name, data, nil, "", w, h, ef, stderr, opts...)
	}
	return ""
}

func cmdBench(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("bench", "[b2|b8|b7|sd|all] [options]", benchAbout, stderr)
	f := addBenchFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if msg := f.check(pos); msg != "" {
		return usageError(stderr, fs, "%s", msg)
	}
	rep, err := bench.Run(f.cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt bench: %v\n", err)
		return exitInvalid
	}
	rep.Command = "comfyrt bench " + strings.Join(args, " ")
	bench.Print(stdout, rep)
	if f.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(f.jsonOut, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt bench: --json: %v\n", err)
			return exitUsage
		}
	}
	return exitOK
}
