package sdbench

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"comfyrt/compiler"
	"comfyrt/internal/bench/stats"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
	"comfyrt/nodes/value"
)

// Config is `bench sd`: Stable Diffusion img2img on an ONNX export
// (Optimum's layout) in the models folder's checkpoints/.
type Config struct {
	Checkpoint string    // checkpoint name (a folder under checkpoints/)
	Size       int       // frame side (N×N, a multiple of 8)
	Steps      []int     // denoising steps per case
	Samplers   []string  // sampler names per case
	CFGs       []float64 // cfg per case (1: no unconditional pass)
	Denoise    float64   // KSampler denoise (img2img strength)
	Device     string    // ONNX Runtime devices, as --device ("cpu", "cuda,cpu")
	Frames     int       // measured frames per side and round (0: 100)
	Warmup     int       // warm-up frames per side and round, not measured
	Rounds     int       // rounds (each frame runs the plan, then the plain loop)
	Threads    int       // ONNX Runtime intra-op threads
	ModelsDir  string    // the models folder
	// Compile compiles the workflow file name for w×h frames with the
	// CPU engine settings and ModelsDir, then set (applied last: Run wraps
	// the provider and the registry and sets the devices); it prints
	// diagnostics to stderr and returns a nil plan when the workflow does
	// not compile. Nil: CompileFile.
	Compile func(name string, w, h int, set func(*compiler.Config), stderr io.Writer) (*compiler.Plan, error)
}

// Case is one sampler × cfg × steps case of `bench sd`.
type Case struct {
	Sampler string  `json:"sampler"`
	CFG     float64 `json:"cfg"`
	Steps   int     `json:"steps"`
	// UNetRuns is the UNet's Runs per frame (one per step, two at cfg ≠ 1
	// when its batch axis is fixed).
	UNetRuns int     `json:"unet_runs"`
	Rounds   []Round `json:"rounds"`
	// Medians over rounds of the per-round medians.
	PlanMs   float64 `json:"plan_ms"`      // plan time per frame
	OrtMs    float64 `json:"ort_ms"`       // ONNX Runtime Run time in it
	OverUs   float64 `json:"over_us"`      // plan − Σ Run, per frame
	StepUs   float64 `json:"step_us"`      // KSampler time per step
	StepOver float64 `json:"step_over_us"` // KSampler − its UNet Runs, per step
	StepPct  float64 `json:"step_over_pct"`
	PlainMs  float64 `json:"plain_ms"` // the plain loop's frame
	Ratio    float64 `json:"ratio"`    // median of the rounds' medians of plain ÷ plan per frame: ≥ 1 is as fast as the plain loop
	RatioMin float64 `json:"ratio_min"`
	RatioMax float64 `json:"ratio_max"`
	// StepMet: StepOver < 100 µs and StepPct < 2 %; RatioMet: Ratio ≥ 0.95.
	StepMet  bool `json:"step_met"`
	RatioMet bool `json:"ratio_met"`
}

// Round is one round of frames, each through the plan then the plain
// loop; medians over the measured frames.
type Round struct {
	PlanMs   float64 `json:"plan_ms"`
	OrtMs    float64 `json:"ort_ms"`
	OverUs   float64 `json:"over_us"`
	StepUs   float64 `json:"step_us"`
	StepOver float64 `json:"step_over_us"`
	StepPct  float64 `json:"step_over_pct"`
	PlainMs  float64 `json:"plain_ms"`
	PlainOrt float64 `json:"plain_ort_ms"`
	Ratio    float64 `json:"ratio"`
}

// Report is `bench sd`'s figures.
type Report struct {
	Checkpoint string  `json:"checkpoint"`
	Size       string  `json:"size"`
	Device     string  `json:"device"`
	Denoise    float64 `json:"denoise"`
	Frames     int     `json:"frames"`
	Warmup     int     `json:"warmup"`
	Ours       string  `json:"ours"`
	Peer       string  `json:"peer"`
	Cases      []Case  `json:"cases"`
}

// sdSeed is the KSampler seed of every case (fixed, as ComfyStream's).
const sdSeed = 42

// sdPrompt is the positive prompt; the negative one is empty.
const sdPrompt = "a photo of a cat"

// sdWorkflow is the img2img API prompt of a case: the frame → VAEEncode →
// KSampler → VAEDecode → PreviewImage, the checkpoint's three parts.
func sdWorkflow(ckpt, sampler string, steps int, cfg, denoise float64) string {
	return fmt.Sprintf(`{
 "1": {"class_type": "LoadImage", "inputs": {"image": "frame.png"}},
 "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": %q}},
 "3": {"class_type": "CLIPTextEncode", "inputs": {"text": %q, "clip": ["2", 1]}},
 "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 1]}},
 "5": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 2]}},
 "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "seed": %d, "steps": %d, "cfg": %s, "sampler_name": %q,
   "scheduler": "normal", "positive": ["3", 0], "negative": ["4", 0], "latent_image": ["5", 0], "denoise": %s}},
 "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["2", 2]}},
 "8": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}}`,
		ckpt, sdPrompt, sdSeed, steps, strconv.FormatFloat(cfg, 'g', -1, 64), sampler, strconv.FormatFloat(denoise, 'g', -1, 64))
}

// sdFrame is a deterministic N×N picture (smooth gradients and a ring).
func sdFrame(n int) value.Tensor {
	t := value.New(value.ImageSpec(1, n, n)).Tensor
	for y := range n {
		for x := range n {
			i := 3 * (y*n + x)
			r := math.Hypot(float64(x-n/2), float64(y-n/2)) / float64(n)
			t.Data[i] = float32(x) / float32(n)
			t.Data[i+1] = float32(y) / float32(n)
			t.Data[i+2] = float32(0.5 + 0.5*math.Cos(r*20))
		}
	}
	return t
}

// Run runs every case, each in cfg.Rounds rounds.
func Run(cfg Config, stderr io.Writer) (*Report, error) {
	sd := cfg
	if cfg.Compile == nil {
		cfg.Compile = CompileFile
	}
	dir, err := os.MkdirTemp("", "comfyrt-bench-sd-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	devs, err := engine.ParseDevices(sd.Device)
	if err != nil {
		return nil, fmt.Errorf("--device: %w", err)
	}
	frames := cfg.Frames
	if frames == 0 {
		frames = 100
	}
	rep := &Report{Checkpoint: sd.Checkpoint, Size: fmt.Sprintf("%dx%d", sd.Size, sd.Size), Device: strings.Join(devs, ","),
		Denoise: sd.Denoise, Frames: frames, Warmup: cfg.Warmup,
		Ours: "compiled plan (LoadImage frame → VAEEncode → KSampler → VAEDecode → PreviewImage; prompts static), RunFrameInPlace on a synthetic frame in its frame buffer",
		Peer: "plain Go loop over the same sessions (same provider and options): frame → ×2−1 NCHW → vae_encoder Run → ×scale, noise → per step c_in·x, timestep, unet Run (cond and uncond batched as the plan), denoised, cfg, sampler step → ÷scale → vae_decoder Run → (y+1)/2 clamped HWC"}
	frame := sdFrame(sd.Size)
	for _, sampler := range sd.Samplers {
		for _, c := range sd.CFGs {
			for _, steps := range sd.Steps {
				sc, err := sdCase(cfg, dir, devs, frame, sampler, c, steps, frames, stderr)
				if err != nil {
					return nil, fmt.Errorf("%s cfg %g, %d steps: %w", sampler, c, steps, err)
				}
				rep.Cases = append(rep.Cases, *sc)
			}
		}
	}
	return rep, nil
}

// sdCase compiles the case's plan and opens its plain loop, then runs
// cfg.Rounds rounds of frames+warm-up frames each.
func sdCase(cfg Config, dir string, devs []string, frame value.Tensor, sampler string, cfgScale float64, steps, frames int, stderr io.Writer) (*Case, error) {
	sd := cfg
	name := filepath.Join(dir, fmt.Sprintf("sd-%s-cfg%g-%d.json", sampler, cfgScale, steps))
	if err := os.WriteFile(name, []byte(sdWorkflow(sd.Checkpoint, sampler, steps, cfgScale, sd.Denoise)), 0o644); err != nil {
		return nil, err
	}
	timer := newRunTimer(ort.New())
	var ksTime time.Duration
	opts := engine.Options{Devices: devs, IntraOpThreads: cfg.Threads}
	pl, err := cfg.Compile(name, sd.Size, sd.Size, func(c *compiler.Config) {
		c.Engines, c.Engine.Devices, c.Engine.IntraOpThreads = timer, devs, cfg.Threads
		c.ModelDir = cfg.ModelsDir
		c.Registry = timedClass(c.Registry, "KSampler", &ksTime)
	}, stderr)
	if err == nil && pl == nil {
		err = fmt.Errorf("%s does not compile (see above)", name)
	}
	if err != nil {
		return nil, err
	}
	defer pl.Close()
	if err := pl.RunStatic(); err != nil {
		return nil, err
	}
	plain, err := newSDPlain(timer, cfg.ModelsDir, sd, opts, sampler, cfgScale, steps)
	if err != nil {
		return nil, fmt.Errorf("plain loop: %w", err)
	}
	defer plain.close()
	c := &Case{Sampler: sampler, CFG: cfgScale, Steps: steps}
	for r := range cfg.Rounds {
		rd, runs, err := sdRound(pl, plain, timer, &ksTime, frame, steps, cfg.Warmup, frames)
		if err != nil {
			return nil, err
		}
		c.UNetRuns = runs
		c.Rounds = append(c.Rounds, rd)
		fmt.Fprintf(stderr, "bench: SD %s cfg %g %d steps round %d/%d: plan %.3f ms (ORT %.3f), plain %.3f ms, ratio %.3f; step overhead %.1f µs (%.2f %%)\n",
			sampler, cfgScale, steps, r+1, cfg.Rounds, rd.PlanMs, rd.OrtMs, rd.PlainMs, rd.Ratio, rd.StepOver, rd.StepPct)
	}
	c.summarise()
	return c, nil
}

// sdRound runs warm+frames frames, each through the plan and then the
// plain loop (A B A B: a machine whose speed drifts affects both alike),
// and returns the medians of the measured frames (the ratio is the median
// of the per-frame ratios) and the UNet's Runs per plan frame.
func sdRound(pl *compiler.Plan, plain *sdPlain, timer *runTimer, ksTime *time.Duration, frame value.Tensor, steps, warm, frames int) (Round, int, error) {
	var plan, ort, over, stepUs, stepOver, stepPct, plainMs, plainOrt, ratio []float64
	unetRuns := 0
	fb := pl.FrameBuffer()
	if len(fb.Data) != len(frame.Data) {
		return Round{}, 0, fmt.Errorf("the plan's frame buffer holds %d values, the frame %d", len(fb.Data), len(frame.Data))
	}
	for i := range warm + frames {
		tot0 := timer.Total()
		un0, n0 := timer.Part("unet")
		*ksTime = 0
		// The frame arrives in the plan's frame buffer, as the executor's
		// decoder writes it there (RunFrameInPlace); the plain loop reads
		// it where it lies too.
		copy(fb.Data, frame.Data)
		t0 := time.Now()
		if err := pl.RunFrameInPlace(); err != nil {
			return Round{}, 0, err
		}
		el := time.Since(t0)
		tot1 := timer.Total()
		un1, n1 := timer.Part("unet")
		if err := plain.frame(frame.Data); err != nil {
			return Round{}, 0, fmt.Errorf("plain loop: %w", err)
		}
		pel := time.Since(t0) - el
		if i < warm {
			continue
		}
		unetRuns = n1 - n0
		run, ks, un := tot1-tot0, *ksTime, un1-un0
		plan, ort = append(plan, ms(el)), append(ort, ms(run))
		over = append(over, float64(el-run)/1e3)
		stepUs = append(stepUs, float64(ks)/1e3/float64(steps))
		stepOver = append(stepOver, float64(ks-un)/1e3/float64(steps))
		stepPct = append(stepPct, 100*float64(ks-un)/float64(ks))
		plainMs, plainOrt = append(plainMs, ms(pel)), append(plainOrt, ms(timer.Total()-tot1))
		ratio = append(ratio, float64(pel)/float64(el))
	}
	rd := Round{PlanMs: stats.Median(plan), OrtMs: stats.Median(ort), OverUs: stats.Median(over), StepUs: stats.Median(stepUs),
		StepOver: stats.Median(stepOver), StepPct: stats.Median(stepPct), PlainMs: stats.Median(plainMs), PlainOrt: stats.Median(plainOrt), Ratio: stats.Median(ratio)}
	return rd.rounded(), unetRuns, nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func (r Round) rounded() Round {
	for _, p := range []*float64{&r.PlanMs, &r.OrtMs, &r.OverUs, &r.StepUs, &r.StepOver, &r.StepPct, &r.PlainMs, &r.PlainOrt, &r.Ratio} {
		*p = round3(*p)
	}
	return r
}

func (c *Case) summarise() {
	pick := func(f func(Round) float64) float64 {
		v := make([]float64, len(c.Rounds))
		for i, r := range c.Rounds {
			v[i] = f(r)
		}
		return round3(stats.Median(v))
	}
	c.PlanMs = pick(func(r Round) float64 { return r.PlanMs })
	c.OrtMs = pick(func(r Round) float64 { return r.OrtMs })
	c.OverUs = pick(func(r Round) float64 { return r.OverUs })
	c.StepUs = pick(func(r Round) float64 { return r.StepUs })
	c.StepOver = pick(func(r Round) float64 { return r.StepOver })
	c.StepPct = pick(func(r Round) float64 { return r.StepPct })
	c.PlainMs = pick(func(r Round) float64 { return r.PlainMs })
	c.Ratio = pick(func(r Round) float64 { return r.Ratio })
	ratios := make([]float64, len(c.Rounds))
	for i, r := range c.Rounds {
		ratios[i] = r.Ratio
	}
	c.RatioMin, c.RatioMax = slices.Min(ratios), slices.Max(ratios)
	c.StepMet = c.StepOver < 100 && c.StepPct < 2
	c.RatioMet = c.Ratio >= 0.95
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Print writes the report's table.
func Print(w io.Writer, r *Report) {
	fmt.Fprintf(w, "SD img2img: checkpoint %s, %s, device %s, denoise %g, seed %d; %d warm-up + %d measured frames per side per round\n",
		r.Checkpoint, r.Size, r.Device, r.Denoise, sdSeed, r.Warmup, r.Frames)
	fmt.Fprintf(w, "  ours: %s\n  peer: %s\n", r.Ours, r.Peer)
	fmt.Fprintf(w, "%-16s %5s %5s %9s %9s %9s %9s %11s %8s %-4s %9s %7s %13s %-4s\n", "sampler", "cfg", "steps", "plan ms", "ORT ms",
		"over µs", "step µs", "step over µs", "step %", "met", "plain ms", "ratio", "ratio min–max", "met")
	for _, c := range r.Cases {
		fmt.Fprintf(w, "%-16s %5g %5d %9.3f %9.3f %9.1f %9.1f %11.1f %8.2f %-4s %9.3f %7.3f %6.3f–%-6.3f %-4s\n", c.Sampler, c.CFG, c.Steps,
			c.PlanMs, c.OrtMs, c.OverUs, c.StepUs, c.StepOver, c.StepPct, yesNo(c.StepMet), c.PlainMs, c.Ratio, c.RatioMin, c.RatioMax, yesNo(c.RatioMet))
	}
	fmt.Fprintln(w, "  over µs: plan time − Σ ONNX Runtime Run times per frame (dispatch, VAE layouts, sampler maths)")
	fmt.Fprintln(w, "  step: KSampler's time per denoising step; step over: minus its UNet Runs (target < 100 µs and < 2 % of the step)")
	fmt.Fprintln(w, "  ratio: plain loop ÷ plan time of the same frame (each frame runs both, A B A B), median per round, median of the rounds (target ≥ 0.95)")
}

// Parse reads the comma-separated --sd-steps, --sd-samplers and --sd-cfg
// values and checks the other fields; it returns a usage message, or "".
func (c *Config) Parse(steps, samplers, cfgs string) string {
	c.Steps, c.Samplers, c.CFGs = nil, nil, nil
	for f := range strings.SplitSeq(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 50 {
			return fmt.Sprintf("--sd-steps: %q is not a step count in 1..50", f)
		}
		c.Steps = append(c.Steps, n)
	}
	for f := range strings.SplitSeq(samplers, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(sampling.Samplers, f) {
			return fmt.Sprintf("--sd-samplers: %q is not one of %s", f, strings.Join(sampling.Samplers, ", "))
		}
		c.Samplers = append(c.Samplers, f)
	}
	for f := range strings.SplitSeq(cfgs, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v >= 0 && v <= 100) {
			return fmt.Sprintf("--sd-cfg: %q is not a cfg in 0..100", f)
		}
		c.CFGs = append(c.CFGs, v)
	}
	if c.Size < 64 || c.Size%8 != 0 || c.Size > 2048 {
		return "--sd-size must be a multiple of 8 within 64..2048"
	}
	if !(c.Denoise > 0 && c.Denoise <= 1) {
		return "--sd-denoise must be in (0, 1]"
	}
	if c.Checkpoint == "" {
		return "--sd-checkpoint must name a checkpoint"
	}
	return ""
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
