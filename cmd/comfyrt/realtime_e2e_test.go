package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
)

// readLines parses a --data-out file.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestRunDataOut_textTensor runs ComfyStream's text-tensor example (its
// SaveTextTensor input renamed from "text" to "data", the input
// ComfyStream's node declares: as published, ComfyUI's validation drops
// that output) and a StringControl → SaveTextTensor workflow on the sample
// clip through the binary: one JSON line per frame, with the frame's
// index and timestamp, the StringControl's line following the sawtooth
// formula, the same on two runs.
func TestRunDataOut_textTensor(t *testing.T) {
	dir := t.TempDir()
	src := string(testkit.CorpusRead(t, "comfystream/text-tensor-example-api.json"))
	src = strings.Replace(src, `"text": "Hello`, `"data": "Hello`, 1)
	if err := os.WriteFile(filepath.Join(dir, "text.json"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, 2*time.Minute, "run", "text.json", "-o", "out.mp4", "--frames", "6", "--data-out", "text.jsonl")
	if r.Code != 0 {
		t.Fatalf("code %d\n%s", r.Code, r.Stderr)
	}
	lines := readLines(t, filepath.Join(dir, "text.jsonl"))
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6: %v", len(lines), lines)
	}
	for i, l := range lines {
		if l["type"] != "text" || l["node"] != "3" || l["data"] != "Hello from ComfyStream! This is a test text output." || l["frame"] != float64(i) {
			t.Errorf("line %d: %v", i, l)
		}
		if i > 0 && !(l["pts"].(float64) > lines[i-1]["pts"].(float64)) {
			t.Errorf("line %d: pts %v not after %v", i, l["pts"], lines[i-1]["pts"])
		}
	}
	if lines[0]["pts"] != float64(0) {
		t.Errorf("first pts %v, want 0 (time since the stream's first frame)", lines[0]["pts"])
	}
}

const stringControlWorkflow = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}},
 "3": {"class_type": "StringControl", "inputs": {"always_execute": true, "strings": "zero\none\ntwo\nthree\nfour", "steps_per_cycle": 8, "movement_type": "sine"}},
 "4": {"class_type": "SaveTextTensor", "inputs": {"data": ["3", 0]}}
}`

func TestRunDataOut_stringControl(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sc.json"), []byte(stringControlWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	var runs [2][]byte
	for i := range runs {
		r := testkit.Run(t, dir, nil, 2*time.Minute, "run", "sc.json", "-o", "out.mp4", "--frames", "12", "--data-out", "sc.jsonl")
		if r.Code != 0 {
			t.Fatalf("code %d\n%s", r.Code, r.Stderr)
		}
		b, err := os.ReadFile(filepath.Join(dir, "sc.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = b
	}
	if !bytes.Equal(runs[0], runs[1]) {
		t.Errorf("two runs differ:\n%s\n%s", runs[0], runs[1])
	}
	names := []string{"zero", "one", "two", "three", "four"}
	lines := readLines(t, filepath.Join(dir, "sc.jsonl"))
	if len(lines) != 12 {
		t.Fatalf("%d lines, want 12", len(lines))
	}
	phase := 0.0
	for i, l := range lines {
		// The pack's formula: phase += 1/8 (mod 1) each frame, index =
		// round-half-even(2 + 2·sin(2π·phase)).
		phase = math.Mod(phase+1.0/8, 1)
		want := names[int(math.RoundToEven(2+2*math.Sin(2*math.Pi*phase)))%5]
		if l["data"] != want || l["frame"] != float64(i) {
			t.Errorf("frame %d: %v, want %q", i, l, want)
		}
	}
}

// TestRealTimeCorpusWorkflows runs every API workflow of the corpus's
// ComfyUI_RealTimeNodes folder whose classes all have a kernel on the
// sample clip through the binary, twice: each run succeeds and writes the
// same video.
func TestRealTimeCorpusWorkflows(t *testing.T) {
	dir := testkit.CorpusFile(t, "ComfyUI_RealTimeNodes")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := nodes.NewRegistry()
	builtin.Register(r)
	ran := 0
	for _, f := range files {
		var p map[string]struct {
			Class string `json:"class_type"`
		}
		b, err := os.ReadFile(f)
		if err != nil || json.Unmarshal(b, &p) != nil || len(p) == 0 {
			continue // a UI-format file
		}
		var missing []string
		for _, n := range p {
			if _, ok := r.Lookup(n.Class); !ok && n.Class != "" && !slices.Contains(missing, n.Class) {
				missing = append(missing, n.Class)
			}
		}
		if len(missing) > 0 {
			t.Logf("%s: not run, no kernel for %v", filepath.Base(f), missing)
			continue
		}
		ran++
		t.Run(filepath.Base(f), func(t *testing.T) {
			work := t.TempDir()
			var outs [2][]byte
			for i := range outs {
				res := testkit.Run(t, work, nil, 3*time.Minute, "run", f, "-o", "out.mp4", "--frames", "10", "--width", "512", "--height", "512") // the workflows draw 512×512 canvases (ComfyStream's default frame)
				if res.Code != 0 {
					t.Fatalf("code %d\n%s", res.Code, res.Stderr)
				}
				if outs[i], err = os.ReadFile(filepath.Join(work, "out.mp4")); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Error("two runs on the same clip give different videos")
			}
		})
	}
	if ran == 0 {
		t.Skip("no corpus workflow of ComfyUI_RealTimeNodes has all its classes implemented")
	}
}

// TestCompileExplain_timeVarying: compile --explain through the binary
// says which steps are per-frame because of a time-varying class.
func TestCompileExplain_timeVarying(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sc.json"), []byte(stringControlWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "sc.json")
	if r.Code != 0 {
		t.Fatalf("code %d\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{
		"#3 StringControl kernel=", "why: per-frame: time-varying (StringControl changes every frame)",
		"#4 SaveTextTensor kernel=", "why: per-frame: time-varying (SaveTextTensor changes every frame)",
		"why: per-frame: frame input",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("--explain lacks %q:\n%s", want, r.Stdout)
		}
	}
	// An unwritable --data-out is a usage error before anything runs.
	r = testkit.Run(t, dir, nil, time.Minute, "run", "sc.json", "--frames", "1", "-o", "o.mp4", "--data-out", filepath.Join(dir, "no", "such", "d.jsonl"))
	if r.Code != 2 || !strings.Contains(r.Stderr, "d.jsonl") {
		t.Errorf("bad --data-out: code %d\n%s", r.Code, r.Stderr)
	}
}
