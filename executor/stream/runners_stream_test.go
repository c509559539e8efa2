package stream

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/nodes/value"
)

// copyPlan outputs its frame input unchanged and records Close.
type copyPlan struct {
	w, h   int
	out    value.Tensor
	closed *atomic.Int32
}

func newCopyPlan(w, h int, closed *atomic.Int32) *copyPlan {
	return &copyPlan{w: w, h: h, out: value.NewTensor(1, h, w, 3), closed: closed}
}

func (p *copyPlan) RunStatic() error { return nil }
func (p *copyPlan) RunFrame(t value.Tensor) error {
	copy(p.out.Data, t.Data)
	return nil
}
func (p *copyPlan) NumOutputs() int                    { return 1 }
func (p *copyPlan) Output(int) value.Value             { return value.OfTensor(value.Image, p.out) }
func (p *copyPlan) HasFrameInput() bool                { return true }
func (p *copyPlan) FrameSpec() value.Spec              { return value.TensorSpec(value.Image, 1, p.h, p.w, 3) }
func (p *copyPlan) Resize(w, h int) (*copyPlan, error) { return newCopyPlan(w, h, p.closed), nil }
func (p *copyPlan) Close() error                       { p.closed.Add(1); return nil }

// closeSource counts Close on a source.
type closeSource struct {
	media.Source
	closed atomic.Int32
}

func (s *closeSource) Close() error { s.closed.Add(1); return s.Source.Close() }

// countSink counts the frames written and Close.
type countSink struct {
	frames int
	closed int
}

func (s *countSink) WriteFrame(*media.Frame) error { s.frames++; return nil }
func (s *countSink) Close() error                  { s.closed++; return nil }

// wrapSink counts the frames that go through the wrapper.
type wrapSink struct {
	media.Sink
	frames int
}

func (s *wrapSink) WriteFrame(f *media.Frame) error { s.frames++; return s.Sink.WriteFrame(f) }

func TestNew_GivenSinkWrappedRunsEveryFrame(t *testing.T) {
	var planClosed atomic.Int32
	src := &closeSource{Source: &media.Synthetic{W: 32, H: 16, N: 7}}
	out := &countSink{}
	var wrap *wrapSink
	p, err := New(Spec[*copyPlan]{
		Source: src, Plan: newCopyPlan(32, 16, &planClosed), Sink: out,
		WrapSink: func(s media.Sink) media.Sink { wrap = &wrapSink{Sink: s}; return wrap },
		Config:   executor.Config[*copyPlan]{MaxFPS: -1, Queue: executor.Block, WarmupFrames: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if wrap == nil || wrap.frames != 7 || out.frames != 7 {
		t.Fatalf("frames through the wrapper %v, to the sink %d; want 7 and 7", wrap, out.frames)
	}
	if out.closed != 1 || src.closed.Load() != 1 || planClosed.Load() < 1 {
		t.Fatalf("after Close: sink closed %d, source %d, plan %d times; want each closed",
			out.closed, src.closed.Load(), planClosed.Load())
	}
}

// A sink that cannot be created (no FFmpeg, or a folder that does not
// exist) fails New, which closes the source and the plan it was given.
func TestNew_OutputErrorClosesSourceAndPlan(t *testing.T) {
	av.SetLogLevel("error")
	var planClosed atomic.Int32
	src := &closeSource{Source: &media.Synthetic{W: 32, H: 16, N: 3}}
	out := filepath.Join(t.TempDir(), "absent", "out.mp4")
	p, err := New(Spec[*copyPlan]{
		Source: src, Plan: newCopyPlan(32, 16, &planClosed), Out: out,
		SinkOptions: av.SinkOptions{Format: "mp4"},
		Config:      executor.Config[*copyPlan]{MaxFPS: -1, Queue: executor.Block},
	})
	if err == nil {
		p.Close()
		t.Fatal("New with an output in a missing folder: no error")
	}
	if src.closed.Load() != 1 || planClosed.Load() != 1 {
		t.Fatalf("after a failed New: source closed %d, plan %d times; want 1 and 1", src.closed.Load(), planClosed.Load())
	}
}

// A bad executor configuration (no plan) fails New, which closes the
// source and the sink.
func TestNew_ConfigErrorClosesSourceAndSink(t *testing.T) {
	src := &closeSource{Source: &media.Synthetic{W: 32, H: 16, N: 3}}
	out := &countSink{}
	var none *copyPlan
	defer func() {
		if x := recover(); x != nil {
			t.Fatalf("New with a nil plan panicked: %v", x)
		}
	}()
	_, err := New(Spec[*copyPlan]{Source: src, Plan: none, Sink: out})
	if err == nil {
		t.Fatal("New without a plan: no error")
	}
	if src.closed.Load() != 1 || out.closed != 1 {
		t.Fatalf("after a failed New: source closed %d, sink %d times; want 1 and 1", src.closed.Load(), out.closed)
	}
}

func TestPipeInput(t *testing.T) {
	for in, want := range map[string]*os.File{"-": os.Stdin, "pipe:": os.Stdin, "pipe:0": os.Stdin, "out.mp4": nil, "pipe:x": nil, "pipe:-1": nil} {
		if got := PipeInput(in); got != want {
			t.Errorf("PipeInput(%q) = %v, want %v", in, got, want)
		}
	}
	if f := PipeInput("pipe:3"); f == nil || f.Name() != "pipe:3" {
		t.Errorf("PipeInput(pipe:3) = %v, want the file of descriptor 3", f)
	}
}

func TestLimit(t *testing.T) {
	count := func(src media.Source) int {
		var f media.Frame
		n := 0
		for src.ReadFrame(context.Background(), &f) == nil {
			n++
		}
		return n
	}
	if n := count(Limit(&media.Synthetic{W: 16, H: 16, N: 10}, 3, 0)); n != 3 {
		t.Errorf("--frames 3: %d frames", n)
	}
	// 30 fps: frames at 0, 33 and 67 ms are within 100 ms of the first.
	if n := count(Limit(&media.Synthetic{W: 16, H: 16, N: 10}, 0, 100*time.Millisecond)); n != 3 {
		t.Errorf("--duration 100ms at 30 fps: %d frames", n)
	}
	if n := count(Limit(&media.Synthetic{W: 16, H: 16, N: 10}, 0, 0)); n != 10 {
		t.Errorf("no limit: %d frames", n)
	}
}

func TestInputKinds(t *testing.T) {
	for in, want := range map[string]bool{"udp://1.2.3.4:5": true, "srt://h:1": true, "file:///x.mp4": false, "x.mp4": false, "-": false} {
		if IsNetwork(in) != want {
			t.Errorf("IsNetwork(%q) = %v", in, !want)
		}
	}
	f := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in, format string
		want       bool
	}{{f, "", true}, {"file:" + f, "", true}, {f, "lavfi", false}, {"-", "", false}, {"pipe:3", "", false}, {filepath.Dir(f), "", false}, {f + ".absent", "", false}} {
		if IsRegularFile(c.in, c.format) != c.want {
			t.Errorf("IsRegularFile(%q, %q) = %v", c.in, c.format, !c.want)
		}
	}
}
