package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/graph"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

// execTestSchema is ExecTest: IMAGE → IMAGE copy that reads the frame's
// stamp and fails, panics or sleeps on chosen indexes (see behaviour).
const execTestSchema = `{
 "ExecTest": {"input": {"required": {"image": ["IMAGE"]}}, "input_order": {"required": ["image"]},
   "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"], "name": "ExecTest", "output_node": false}
}`

// behaviour drives every ExecTest kernel of a config.
type behaviour struct {
	mu    sync.Mutex
	fail  map[int64]bool
	panic map[int64]bool
	sleep time.Duration
	runs  int64
}

func (b *behaviour) setSleep(d time.Duration) { b.mu.Lock(); b.sleep = d; b.mu.Unlock() }

type execTestKernel struct{ b *behaviour }

func (k execTestKernel) Prepare(in []value.Spec) ([]value.Spec, error) {
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k execTestKernel) Run(in, out []value.Value) error {
	copy(out[0].Tensor.Data, in[0].Tensor.Data)
	idx := tensorStamp(in[0].Tensor)
	k.b.mu.Lock()
	fail, pan, sleep := k.b.fail[idx], k.b.panic[idx], k.b.sleep
	k.b.runs++
	k.b.mu.Unlock()
	if sleep > 0 {
		time.Sleep(sleep)
	}
	if pan {
		panic(fmt.Sprintf("ExecTest: panic on frame %d", idx))
	}
	if fail {
		return fmt.Errorf("ExecTest: failing on frame %d", idx)
	}
	return nil
}

// tensorStamp reads media.Stamp's index from an IMAGE [1,H,W,3] tensor.
func tensorStamp(t value.Tensor) int64 {
	if len(t.Shape) != 4 {
		return -1
	}
	h, w := t.Shape[1], t.Shape[2]
	var v int64
	for b := 0; b < media.StampBits; b++ {
		x, y := b*media.StampCell+media.StampCell/2, media.StampCell/2
		if x >= w || y >= h {
			break
		}
		o := (y*w + x) * 3
		if (t.Data[o]+t.Data[o+1]+t.Data[o+2])/3 >= 127.5/255 {
			v |= 1 << uint(b)
		}
	}
	return v
}

// env is a compiler configuration with the built-ins and ExecTest.
type env struct {
	cfg compiler.Config
	b   *behaviour
}

func newEnv(t testing.TB) *env {
	t.Helper()
	s := schema.NewSet()
	s.Merge(builtin.Schemas())
	extra, err := schema.Parse([]byte(execTestSchema), "test")
	if err != nil {
		t.Fatal(err)
	}
	s.Merge(extra)
	r := nodes.NewRegistry()
	builtin.Register(r)
	b := &behaviour{fail: map[int64]bool{}, panic: map[int64]bool{}}
	r.MustRegister("ExecTest", func(nodes.Config) (nodes.Kernel, error) { return execTestKernel{b}, nil })
	return &env{cfg: compiler.Config{Schemas: s, Registry: r}, b: b}
}

// Workflows.
const (
	wfIdentity = `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}}}`
	wfInvert = `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`
	// wfTest runs ExecTest (node 2), then inverts, so that passed-through
	// frames (not inverted) are told from processed ones.
	wfTest = `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ExecTest", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}}`
	// wfSlow is ExecTest alone (identity content, optional sleep).
	wfSlow = `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ExecTest", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`
)

// compile compiles src for w×h frames (0: the compiler's default size).
func (e *env) compile(t testing.TB, src string, w, h int) *compiler.Plan {
	t.Helper()
	wf, diags := graph.Load("test.json", []byte(strings.TrimSpace(src)), graph.Options{Schemas: e.cfg.Schemas})
	if wf.Prompt == nil || diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	cfg := e.cfg
	cfg.Width, cfg.Height = w, h
	pl, err := compiler.Compile(wf.Prompt, cfg)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return pl
}

// within runs f and fails the test (with every stack) if it takes longer
// than d: the deadlock timeout.
func within(t testing.TB, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("deadlock: not done after %v\n%s", d, buf)
	}
}

// run runs a pipeline to the end of its source.
func run[P Plan[P]](t testing.TB, cfg Config[P]) (*Pipeline[P], error) {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var runErr error
	within(t, 30*time.Second, func() { runErr = p.Run(context.Background()) })
	return p, runErr
}

// ptsIndex is the source index a Synthetic PTS stands for.
func ptsIndex(f *media.Frame, fps float64) int64 {
	return int64(float64(f.PTS)*fps*float64(f.TimeBase.Num)/float64(f.TimeBase.Den) + 0.5)
}

// checkStamps checks that every output's stamp is the index its PTS
// implies (invert: the stamp went through an inverting plan; mixed allows
// either) and that PTS strictly increase.
func checkStamps(t testing.TB, frames []media.Frame, invert bool) {
	t.Helper()
	last := int64(-1 << 62)
	for i := range frames {
		f := &frames[i]
		want := ptsIndex(f, 30)
		if got := media.ReadStamp(f, invert); got != want || f.Index != want {
			t.Errorf("output %d: stamp %d, index %d, pts implies %d", i, got, f.Index, want)
		}
		if f.PTS <= last {
			t.Errorf("output %d: pts %d after %d", i, f.PTS, last)
		}
		last = f.PTS
	}
}

// scripted is a Source that wraps another and injects errors before the
// frames with chosen indexes, or blocks before one until released.
type scripted struct {
	media.Source
	errs   map[int64]error // error returned once before frame i
	next   int64
	gateAt int64 // block before this frame until gate is closed (-1: never)
	gate   chan struct{}
	onEOF  func()
}

func (s *scripted) ReadFrame(ctx context.Context, f *media.Frame) error {
	if err, ok := s.errs[s.next]; ok {
		delete(s.errs, s.next)
		return err
	}
	if s.gate != nil && s.next == s.gateAt {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := s.Source.ReadFrame(ctx, f)
	if err == nil {
		s.next++
	} else if errors.Is(err, io.EOF) && s.onEOF != nil {
		s.onEOF()
		s.onEOF = nil
	}
	return err
}

// blockingSource blocks every read until ctx is done or it is closed.
type blockingSource struct {
	once   sync.Once
	closed chan struct{}
}

func (b *blockingSource) Info() media.StreamInfo { return media.StreamInfo{Width: 256, Height: 16} }
func (b *blockingSource) ReadFrame(ctx context.Context, f *media.Frame) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closed:
		return &media.FatalError{Err: errors.New("source closed")}
	}
}
func (b *blockingSource) Close() error { b.once.Do(func() { close(b.closed) }); return nil }

// discard is a Sink that keeps nothing.
type discard struct{ n int64 }

func (d *discard) WriteFrame(*media.Frame) error { d.n++; return nil }
func (d *discard) Close() error                  { return nil }

// failingSink fails from the n-th write on.
type failingSink struct {
	media.Collect
	n int
}

func (s *failingSink) WriteFrame(f *media.Frame) error {
	if len(s.Frames) >= s.n {
		return errors.New("disk full")
	}
	return s.Collect.WriteFrame(f)
}

// fakePlan is a Plan without the compiler: run is called per frame, and
// outputs (0 or 1) the frame itself.
type fakePlan struct {
	w, h    int
	outputs int
	run     func() error
	closed  bool
	frame   value.Tensor
}

func (p *fakePlan) RunStatic() error { return nil }
func (p *fakePlan) RunFrame(t value.Tensor) error {
	p.frame = t
	if p.run != nil {
		return p.run()
	}
	return nil
}
func (p *fakePlan) NumOutputs() int { return p.outputs }
func (p *fakePlan) Output(int) value.Value {
	return value.Value{Kind: value.Image, Tensor: p.frame}
}
func (p *fakePlan) HasFrameInput() bool   { return true }
func (p *fakePlan) FrameSpec() value.Spec { return value.ImageSpec(1, p.h, p.w) }
func (p *fakePlan) Resize(w, h int) (*fakePlan, error) {
	return &fakePlan{w: w, h: h, outputs: p.outputs, run: p.run}, nil
}
func (p *fakePlan) Close() error { p.closed = true; return nil }
