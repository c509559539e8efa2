package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/executor/media/av"
	"comfyrt/internal/bench"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
)

// TestBenchCommand checks the plumbing of `comfyrt bench` on tiny clips
// and one round: both figures come out, the table is printed and --json
// has its shape. It times nothing.
func TestBenchCommand(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg CLI not installed")
	}
	if _, err := av.OpenSource(os.DevNull, av.SourceOptions{}); errors.Is(err, av.ErrUnavailable) {
		t.Skip("built without FFmpeg (no cgo)")
	}
	if err := ort.CheckInit(); err != nil {
		t.Skipf("ONNX Runtime unavailable: %v", err)
	}
	if _, err := os.Stat(filepath.Join(defaultModelsDir(), builtin.TextDetModel)); err != nil {
		t.Skip("PP-OCRv4 model absent (run scripts/setup.sh)")
	}
	js := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench", "all", "--frames", "6", "--warmup", "2", "--rounds", "1",
		"--sizes", "64x64", "--b8-size", "64", "--json", js}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	for _, want := range []string{"machine", "versions", "B2   64x64", "B8   64x64", "ffmpeg -nostdin", "-threads 2", "plain sequential loop"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, &stdout)
		}
	}
	if !strings.Contains(stderr.String(), "round 1/1") {
		t.Errorf("no progress on stderr:\n%s", &stderr)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Machine  string            `json:"machine"`
		CPUs     int               `json:"cpus"`
		Versions map[string]string `json:"versions"`
		B2       []bench.Case      `json:"b2"`
		B8       *bench.Case       `json:"b8"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if rep.Machine == "" || rep.CPUs < 1 {
		t.Errorf("machine %q, cpus %d", rep.Machine, rep.CPUs)
	}
	for _, k := range []string{"go", "ffmpeg", "onnxruntime"} {
		if rep.Versions[k] == "" {
			t.Errorf("versions lack %s: %v", k, rep.Versions)
		}
	}
	if len(rep.B2) != 1 || rep.B8 == nil {
		t.Fatalf("want one B2 case and B8, got %d and %v\n%s", len(rep.B2), rep.B8, b)
	}
	for _, c := range []bench.Case{rep.B2[0], *rep.B8} {
		if c.Size != "64x64" || len(c.Rounds) != 1 || c.Peer == "" || c.Ours == "" || c.Target <= 0 {
			t.Errorf("%s: bad case %+v", c.ID, c)
		}
		if c.OursFPS <= 0 || c.PeerFPS <= 0 || c.Ratio <= 0 {
			t.Errorf("%s: figures missing: ours %v peer %v ratio %v", c.ID, c.OursFPS, c.PeerFPS, c.Ratio)
		}
		if r := c.Rounds[0]; r.Ours.Frames != 6 || r.Peer.Frames < 1 {
			t.Errorf("%s: measured frames ours %d peer %d, want 6 and some", c.ID, r.Ours.Frames, r.Peer.Frames)
		}
	}
	if rep.B8.Rounds[0].Peer.ModelMs <= 0 {
		t.Errorf("B8: no model time for the plain loop")
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{{"bench", "b3"}, {"bench", "b2", "b8"}, {"bench", "--rounds", "0"},
		{"bench", "--b8-size", "100"}, {"bench", "--sizes", "7x7"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, &stderr)
		}
	}
}
