package preview

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// countingKernel counts its runs.
type countingKernel struct {
	nodes.Kernel
	runs *atomic.Int64
}

func (k countingKernel) Run(in, out []value.Value) error {
	k.runs.Add(1)
	return k.Kernel.Run(in, out)
}

// staticWorkflow blends the camera with a static EmptyImage.
const staticWorkflow = `{
  "1": {"class_type": "LoadImage", "inputs": {"image": "frame.png"}},
  "2": {"class_type": "EmptyImage", "inputs": {"width": 320, "height": 240, "batch_size": 1, "color": 0}},
  "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
  "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}
}`

// TestUpdateAdoptsStatic changes a per-frame input while a stream runs:
// the static EmptyImage is adopted from the running plan and does not run
// again; changing its own input runs it again.
func TestUpdateAdoptsStatic(t *testing.T) {
	needAV(t)
	cfg := testCompiler(t)
	var runs atomic.Int64
	r := nodes.NewRegistry()
	for _, c := range cfg.Registry.Classes() {
		f, _ := cfg.Registry.Lookup(c)
		if c == "EmptyImage" {
			inner := f
			f = func(kc nodes.Config) (nodes.Kernel, error) {
				k, err := inner(kc)
				if err != nil {
					return nil, err
				}
				return countingKernel{Kernel: k, runs: &runs}, nil
			}
		}
		r.MustRegister(c, f)
	}
	cfg.Registry = r
	srv, err := New(Config{Compiler: cfg, Workflow: []byte(staticWorkflow), Loopback: true, MaxFPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	rc, rpc := startReceiver(t, hs.URL+"/whep", "")
	defer rpc.Close()
	pub := startPublisher(t, hs.URL+"/whip", "", "vp8")
	defer pub.pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); pub.run(ctx, t, "vp8", 0) }()
	defer func() { cancel(); <-done }()
	for srv.Stats().FramesOut < 5 && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	before := runs.Load()
	code, body := post(t, hs.URL+"/api/params", `{"node": "3", "input": "blend_factor", "value": 0.8}`)
	if code != 200 || !strings.Contains(body, `"swapped":true`) {
		t.Fatalf("update: %d %s", code, body)
	}
	afterFactor := runs.Load()
	code, body = post(t, hs.URL+"/api/params", `{"node": "2", "input": "color", "value": 255}`)
	if code != 200 || !strings.Contains(body, `"swapped":true`) {
		t.Fatalf("update: %d %s", code, body)
	}
	afterColor := runs.Load()
	// Adopting from the plan swapped in last (seen taken by the pipeline).
	if code, body = post(t, hs.URL+"/api/params", `{"node": "3", "input": "blend_factor", "value": 0.2}`); code != 200 {
		t.Fatalf("update: %d %s", code, body)
	}
	afterFactor2 := runs.Load()
	rc.mu.Lock()
	got := len(rc.at)
	rc.mu.Unlock()
	t.Logf("EmptyImage runs: %d at start, %d after a blend_factor update, %d after a color update, %d after another blend_factor update; %d frames received; %+v",
		before, afterFactor, afterColor, afterFactor2, got, srv.Stats())
	if before < 1 || afterFactor != before {
		t.Errorf("the static step ran again for a per-frame input's change (%d → %d runs)", before, afterFactor)
	}
	if afterColor <= afterFactor {
		t.Errorf("the static step did not run again after its own input changed (%d → %d runs)", afterFactor, afterColor)
	}
	if afterFactor2 != afterColor {
		t.Errorf("the static step ran again after the second blend_factor update (%d → %d runs)", afterColor, afterFactor2)
	}
}
