package bench

import (
	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

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
	d, err := openPlainDet(model, w, h, threads)
	if err != nil {
		return Side{}, err
	}
	defer d.sess.Close()
	snk, err := av.CreateSink("null", info, sinkOptions(threads))
	if err != nil {
		return Side{}, err
	}
	ts := &timedSink{Sink: snk, at: make([]time.Time, 0, max(int(info.Frames), 16)+16)}
	var f media.Frame
	var modelTime time.Duration
	var runs int
	for {
		err := src.ReadFrame(context.Background(), &f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			var took time.Duration
			took, err = d.frame(f.RGB)
			if runs++; runs > warm {
				modelTime += took
			}
		}
		if err == nil {
			err = ts.WriteFrame(&f)
		}
		if err != nil {
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

// plainDet is the plain loop's model and buffers.
type plainDet struct {
	sess      engine.Session
	in, out   []engine.Tensor
	w, h      int
	lut       [3][256]float32 // PaddleOCR's normalisation of BGR pixels, per channel
	mask, tmp []uint8
}

// openPlainDet opens the model with TextDetection's engine options: the
// devices and intra-op threads of the plan (compiler.Config.Engine), with
// the input's concrete shape.
func openPlainDet(model string, w, h, threads int) (*plainDet, error) {
	prov := ort.New()
	decl, _, err := prov.Inspect(model)
	if err != nil {
		return nil, err
	}
	if len(decl) != 1 {
		return nil, fmt.Errorf("model inputs %v", decl)
	}
	sess, err := prov.Open(model, engine.Options{Devices: []string{engine.CPU}, IntraOpThreads: threads,
		Shapes: map[string][]int{decl[0].Name: {1, 3, h, w}}})
	if err != nil {
		return nil, err
	}
	bufs, ok := sess.(engine.Buffers)
	if !ok {
		sess.Close()
		return nil, errors.New("session has no buffers of its own")
	}
	d := &plainDet{sess: sess, in: bufs.InputBuffers(), out: bufs.OutputBuffers(), w: w, h: h,
		mask: make([]uint8, w*h), tmp: make([]uint8, w*h)}
	if len(d.in[0].Data) != 3*w*h || len(d.out[0].Data) < w*h {
		sess.Close()
		return nil, fmt.Errorf("session tensors %v → %v for %dx%d", sess.Inputs(), sess.Outputs(), w, h)
	}
	mean, std := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	for c := range 3 {
		for v := range 256 {
			d.lut[c][v] = (float32(v)/255 - mean[c]) / std[c]
		}
	}
	return d, nil
}

// frame highlights the text of one RGB frame in place and returns the
// time of the model's Run.
func (d *plainDet) frame(rgb []byte) (time.Duration, error) {
	n := d.w * d.h
	x := d.in[0].Data
	b, g, r := x[:n], x[n:2*n], x[2*n:3*n]
	for i := range n {
		px := rgb[3*i : 3*i+3 : 3*i+3]
		b[i], g[i], r[i] = d.lut[0][px[2]], d.lut[1][px[1]], d.lut[2][px[0]]
	}
	t := time.Now()
	if err := d.sess.Run(d.in, d.out); err != nil {
		return 0, err
	}
	took := time.Since(t)
	mask, tmp := d.mask, d.tmp
	for i, v := range d.out[0].Data[:n] {
		if v > detThreshold {
			mask[i] = 1
		} else {
			mask[i] = 0
		}
	}
	for range growBy {
		dilateCross(tmp, mask, d.w, d.h)
		mask, tmp = tmp, mask
	}
	// ImageBlend multiply by yellow (1,1,0), composited where masked:
	// blue goes to 0 there.
	for i, m := range mask {
		if m != 0 {
			rgb[3*i+2] = 0
		}
	}
	return took, nil
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
