package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/executor/media/av"
	"comfyrt/internal/bench"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
)

// needBenchTools skips a test of `comfyrt bench` that runs B2/B8 or B7's
// av path without the ffmpeg CLI, FFmpeg (cgo), ONNX Runtime or the
// PP-OCRv4 model.
func needBenchTools(t *testing.T) {
	t.Helper()
	testkit.NeedTools(t, "ffmpeg")
	if _, err := av.OpenSource(os.DevNull, av.SourceOptions{}); errors.Is(err, av.ErrUnavailable) {
		t.Skip("built without FFmpeg (no cgo)")
	}
	if err := ort.CheckInit(); err != nil {
		t.Skipf("ONNX Runtime unavailable: %v", err)
	}
	if _, err := os.Stat(filepath.Join(defaultModelsDir(), builtin.TextDetModel)); err != nil {
		t.Skip("PP-OCRv4 model absent (run scripts/setup.sh)")
	}
}

// TestBenchCommand checks the plumbing of `comfyrt bench` on tiny clips
// and one round: both figures come out, the table is printed and --json
// has its shape. It times nothing.
func TestBenchCommand(t *testing.T) {
	needBenchTools(t)
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

// runB7Cmd runs `comfyrt bench b7` with tiny frames, short windows and
// M up to 2, and returns the --json report. It times nothing: the figures
// are checked for shape, never against a speed.
func runB7Cmd(t *testing.T, extra ...string) (*bench.B7Report, string) {
	t.Helper()
	js := filepath.Join(t.TempDir(), "b7.json")
	args := append([]string{"bench", "b7", "--b7-window", "1s", "--b7-warmup", "300ms", "--b7-max", "2",
		"--b7-size", "64", "--json", js}, extra...)
	var stdout, stderr bytes.Buffer
	if code := run(args, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		B7 *bench.B7Report `json:"b7"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.B7 == nil {
		t.Fatalf("--json has no b7:\n%s", b)
	}
	return rep.B7, stdout.String()
}

// checkB7Case checks one case's points: each M's due count is M streams ×
// the window's frames, the counts are consistent, and max M agrees with
// the verdicts.
func checkB7Case(t *testing.T, c bench.B7Case, perStream int64) {
	t.Helper()
	if c.Skipped != "" {
		t.Fatalf("%s/%s skipped: %s", c.Workflow, c.Path, c.Skipped)
	}
	if len(c.Points) == 0 || c.Points[0].M != 1 {
		t.Fatalf("%s/%s: points %+v", c.Workflow, c.Path, c.Points)
	}
	maxPass := 0
	for _, p := range c.Points {
		if p.M < 1 || p.M > 2 {
			t.Errorf("M=%d tried beyond --b7-max 2", p.M)
		}
		if p.Due != int64(p.M)*perStream {
			t.Errorf("M=%d: due %d, want %d", p.M, p.Due, int64(p.M)*perStream)
		}
		if p.OnTime < 0 || p.OnTime > p.Out || p.Out > p.Due {
			t.Errorf("M=%d: on time %d, out %d, due %d", p.M, p.OnTime, p.Out, p.Due)
		}
		if p.Pass != (float64(p.OnTime) >= bench.B7Pass*float64(p.Due)) {
			t.Errorf("M=%d: pass %v with %d/%d on time", p.M, p.Pass, p.OnTime, p.Due)
		}
		if p.Out > 0 && (p.P50ms <= 0 || p.P99ms < p.P50ms) {
			t.Errorf("M=%d: latency p50 %v p99 %v", p.M, p.P50ms, p.P99ms)
		}
		if p.Pass && maxPass == p.M-1 {
			maxPass = p.M
		}
	}
	if c.MaxM != maxPass {
		t.Errorf("%s/%s: max M %d, points say %d", c.Workflow, c.Path, c.MaxM, maxPass)
	}
}

func TestBenchB7Plan(t *testing.T) {
	rep, out := runB7Cmd(t, "--b7-workflows", "identity", "--b7-paths", "plan")
	// 24 fps: frames 8..31 are due in [300ms, 1.3s).
	if rep.DeadlineMs < 83 || rep.DeadlineMs > 84 || rep.Threads != 1 || rep.FPS != 24 || rep.Size != "64x64" {
		t.Errorf("report %+v", rep)
	}
	if len(rep.Cases) != 1 {
		t.Fatalf("cases %+v", rep.Cases)
	}
	checkB7Case(t, rep.Cases[0], 24)
	for _, want := range []string{"B7 stream density", "B7 identity / plan", "on-dl %", "plan only, no decode or encode"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchB7AV(t *testing.T) {
	needBenchTools(t)
	rep, out := runB7Cmd(t, "--b7-workflows", "text-highlight", "--b7-paths", "av", "--b7-max", "1")
	if len(rep.Cases) != 1 || rep.Cases[0].Workflow != "text-highlight" || rep.Cases[0].Path != "av" {
		t.Fatalf("cases %+v", rep.Cases)
	}
	checkB7Case(t, rep.Cases[0], 24)
	if !strings.Contains(out, "libx264 ultrafast zerolatency") {
		t.Errorf("output lacks the encoder:\n%s", out)
	}
}

func TestBenchB7Usage(t *testing.T) {
	for _, args := range [][]string{
		{"--b7-workflows", "nope"},
		{"--b7-paths", "gpu"},
		{"--b7-fps", "0"},
		{"--b7-size", "48", "--b7-workflows", "text-highlight"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"bench", "b7"}, args...), nil, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, &stderr)
		}
	}
}
