package videorun

import (
	"os"
	"strings"
	"testing"
	"time"

	"comfyrt/executor"
	"comfyrt/executor/media"
)

// TestExecutorConfigByInput: a regular file gets every frame (Block, no
// budget, no fps cap unless given), a network input is live (latest wins,
// budget and cap), a pipe is measured (Auto, cap once live).
func TestExecutorConfigByInput(t *testing.T) {
	file := t.TempDir() + "/clip.mp4"
	if err := writeEmpty(file); err != nil {
		t.Fatal(err)
	}
	base := Options{Live: "auto", MaxFPS: 24, Budget: 50 * time.Millisecond}
	for _, c := range []struct {
		name    string
		o       Options
		queue   executor.QueuePolicy
		maxFPS  float64
		liveFPS float64
		budget  time.Duration
		rebase  bool
	}{
		{"file", with(base, func(o *Options) { o.In = file }), executor.Block, -1, 0, 0, false},
		{"file with --max-fps", with(base, func(o *Options) { o.In, o.MaxFPSSet = file, true }), executor.Block, 24, 0, 0, false},
		{"network", with(base, func(o *Options) { o.In = "udp://127.0.0.1:1234" }), executor.LatestWins, 24, 0, 50 * time.Millisecond, true},
		{"--live yes on a file", with(base, func(o *Options) { o.In, o.Live = file, "yes" }), executor.LatestWins, 24, 0, 50 * time.Millisecond, true},
		{"pipe", with(base, func(o *Options) { o.In = "-" }), executor.Auto, -1, 24, 50 * time.Millisecond, true},
		{"--live no on a pipe", with(base, func(o *Options) { o.In, o.Live = "-", "no" }), executor.Block, -1, 0, 0, true},
	} {
		m := modeOf(c.o)
		cfg := c.o.executorConfig(m, nil)
		if cfg.Queue != c.queue || cfg.MaxFPS != c.maxFPS || cfg.LiveMaxFPS != c.liveFPS || cfg.Budget != c.budget || m.rebase() != c.rebase {
			t.Errorf("%s: queue %v max %v live %v budget %v rebase %v; want %v %v %v %v %v", c.name,
				cfg.Queue, cfg.MaxFPS, cfg.LiveMaxFPS, cfg.Budget, m.rebase(), c.queue, c.maxFPS, c.liveFPS, c.budget, c.rebase)
		}
	}
	if cfg := with(base, func(o *Options) { o.OnError = "passthrough" }).executorConfig(inputMode{}, nil); cfg.OnError != executor.PassThrough {
		t.Errorf("--on-error passthrough: %v", cfg.OnError)
	}
}

func with(o Options, f func(*Options)) Options { f(&o); return o }

// TestStatusLine: counters, latency, errors, passthrough, and progress
// with an ETA for a file of known length.
func TestStatusLine(t *testing.T) {
	s := executor.Stats{FramesIn: 25, FramesOut: 24, FPSIn: 30, FPSOut: 29.5, NodeErrors: 1, SinkErrors: 2, Passthrough: true}
	s.Latency.P50, s.Latency.P99 = 12500*time.Microsecond, 40*time.Millisecond
	got := statusLine(s, media.StreamInfo{Frames: 100}, 10*time.Second)
	for _, want := range []string{"frames in 25 out 24", "fps in 30.0 out 29.5", "latency p50 12.5ms p99 40.0ms", "errors 3", "PASSTHROUGH", " 25%", "ETA 30s"} {
		if !strings.Contains(got, want) {
			t.Errorf("status line %q lacks %q", got, want)
		}
	}
	if got := statusLine(executor.Stats{FramesIn: 5}, media.StreamInfo{Frames: 100, Live: true}, time.Second); strings.Contains(got, "%") {
		t.Errorf("a live input shows progress: %q", got)
	}
}

func writeEmpty(name string) error { return os.WriteFile(name, nil, 0o644) }
