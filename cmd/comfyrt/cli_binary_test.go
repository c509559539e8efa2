package main

// Every subcommand through the built binary in a real process (serve and
// run have more: e2e_test.go, cli_run_test.go).

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/bench"
	"comfyrt/internal/testkit"
)

// repoFile is a file of the checkout (examples are part of the repository).
func repoFile(rel string) string { return filepath.Join(testkit.Root(), filepath.FromSlash(rel)) }

// TestBinary_CommandTypo: a mistyped command gets the project's
// did-you-mean suggestion and exit 2.
func TestBinary_CommandTypo(t *testing.T) {
	for typo, want := range map[string]string{"valdate": "validate", "complie": "compile", "serv": "serve", "nodse": "nodes"} {
		r := testkit.Run(t, "", nil, time.Minute, typo, "x.json")
		if r.Code != 2 || !strings.Contains(r.Stderr, "unknown command") || !strings.Contains(r.Stderr, "did you mean "+want+"?") {
			t.Errorf("comfyrt %s: exit %d, want 2 and a suggestion of %s:\n%s", typo, r.Code, want, r.Stderr)
		}
	}
	r := testkit.Run(t, "", nil, time.Minute, "xyzzy")
	if r.Code != 2 || strings.Contains(r.Stderr, "did you mean") {
		t.Errorf("comfyrt xyzzy: exit %d, want 2 and no suggestion:\n%s", r.Code, r.Stderr)
	}
}

// TestBinary_Version: --version prints the version and exits 0.
func TestBinary_Version(t *testing.T) {
	r := testkit.Run(t, "", nil, time.Minute, "--version")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "comfyrt "+version {
		t.Errorf("--version: exit %d, %q", r.Code, r.Stdout)
	}
}

// TestBinary_Validate: the examples are valid (exit 0); a workflow with a
// wrong input is invalid (exit 1) and the message names the node and the
// input; a missing file is exit 2.
func TestBinary_Validate(t *testing.T) {
	r := testkit.Run(t, "", nil, time.Minute, "validate", repoFile("workflows/default-api.json"), repoFile("workflows/ui/invert-blur-ui.json"))
	if r.Code != 0 {
		t.Fatalf("valid examples: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": "wide", "sigma": 1.0}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`), 0o644)
	r = testkit.Run(t, dir, nil, time.Minute, "validate", bad)
	if r.Code != 1 || !strings.Contains(r.Stdout, "node 2 (ImageBlur)") || !strings.Contains(r.Stdout, "blur_radius") {
		t.Errorf("bad input: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// Standard input, JSON report.
	r = testkit.Run(t, dir, []byte(`{"1": {"class_type": "Nope", "inputs": {}}}`), time.Minute, "validate", "--format", "json", "-")
	var rep any
	if r.Code != 1 || json.Unmarshal([]byte(r.Stdout), &rep) != nil {
		t.Errorf("stdin, json: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "validate", filepath.Join(dir, "none.json"))
	if r.Code != 2 || !strings.Contains(r.Stdout+r.Stderr, "none.json") {
		t.Errorf("missing file: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_Convert: a UI workflow becomes an API prompt (JSON whose
// nodes have class_type and inputs).
func TestBinary_Convert(t *testing.T) {
	r := testkit.Run(t, "", nil, time.Minute, "convert", repoFile("workflows/ui/invert-blur-ui.json"))
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	var p map[string]struct {
		ClassType string         `json:"class_type"`
		Inputs    map[string]any `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil || len(p) == 0 {
		t.Fatalf("not an API prompt: %v\n%s", err, r.Stdout)
	}
	classes := map[string]bool{}
	for _, n := range p {
		classes[n.ClassType] = true
	}
	if !classes["ImageInvert"] && !classes["ImageBlur"] {
		t.Errorf("classes %v lack the workflow's ImageInvert/ImageBlur", classes)
	}
	r = testkit.Run(t, "", []byte("{not json"), time.Minute, "convert", "-")
	if r.Code == 0 {
		t.Errorf("broken JSON converted: exit 0\n%s", r.Stdout)
	}
}

// TestBinary_Nodes: the built-in classes are listed, as text and JSON.
func TestBinary_Nodes(t *testing.T) {
	r := testkit.Run(t, "", nil, time.Minute, "nodes")
	if r.Code != 0 || !strings.Contains(r.Stdout, "ImageBlur") || !strings.Contains(r.Stdout, "LoadTensor") {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, "", nil, time.Minute, "nodes", "--format", "json")
	var info map[string]any
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &info) != nil || info["ImageBlur"] == nil {
		t.Errorf("--format json: exit %d\n%.300s", r.Code, r.Stdout)
	}
}

// TestBinary_Compile: the default workflow compiles into a plan that names
// its steps; --dot is a digraph; a workflow that does not compile is exit 1.
func TestBinary_Compile(t *testing.T) {
	wf := repoFile("workflows/default-api.json")
	r := testkit.Run(t, "", nil, time.Minute, "compile", wf)
	if r.Code != 0 || !strings.Contains(r.Stdout, "ImageBlur") || !strings.Contains(r.Stdout, "ImageSharpen") {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, "", nil, time.Minute, "compile", "--dot", wf)
	if r.Code != 0 || !strings.HasPrefix(strings.TrimSpace(r.Stdout), "digraph") {
		t.Errorf("--dot: exit %d\n%.200s", r.Code, r.Stdout)
	}
	r = testkit.Run(t, "", []byte(`{"1": {"class_type": "LoadTensor", "inputs": {}}}`), time.Minute, "compile", "-")
	if r.Code != 1 {
		t.Errorf("no outputs: exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_Test: `comfyrt test` on a workflow with its .test.json:
// --update writes the expected picture, the test then passes (exit 0,
// JUnit written), and fails (exit 1) once the expectation is wrong.
func TestBinary_Test(t *testing.T) {
	dir := t.TempDir()
	writeTestPNG(t, dir, "input.png", 16, 12)
	wf := filepath.Join(dir, "invert.json")
	os.WriteFile(wf, []byte(invertWF), 0o644)
	os.WriteFile(filepath.Join(dir, "invert.test.json"), []byte(`{"tests": [
		{"name": "inverted", "inputs": ["input.png"], "expected": ["expected.png"], "tolerance": {"psnr": 40}}]}`), 0o644)
	r := testkit.Run(t, dir, nil, time.Minute, "test", "--update", wf)
	if r.Code != 0 {
		t.Fatalf("--update: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	junit := filepath.Join(dir, "junit.xml")
	r = testkit.Run(t, dir, nil, time.Minute, "test", "--junit", junit, wf)
	if r.Code != 0 || !strings.Contains(r.Stdout, "PASS") {
		t.Fatalf("after --update: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), "<testsuite") {
		t.Errorf("junit: %v\n%s", err, b)
	}
	// The input itself is not the inverted picture: the test fails.
	in, _ := os.ReadFile(filepath.Join(dir, "input.png"))
	os.WriteFile(filepath.Join(dir, "expected.png"), in, 0o644)
	r = testkit.Run(t, dir, nil, time.Minute, "test", wf)
	if r.Code != 1 || !strings.Contains(r.Stdout, "FAIL") {
		t.Errorf("wrong expectation: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := testkit.Run(t, dir, nil, time.Minute, "test"); r.Code != 2 {
		t.Errorf("no target: exit %d", r.Code)
	}
}

// TestBinary_Pack: the example pack (built from source) validates, is
// installed into a packs folder and listed from there, and its workflow
// compiles with --pack.
func TestBinary_Pack(t *testing.T) {
	pack := builtExamplePack(t)
	r := testkit.Run(t, "", nil, time.Minute, "pack", "validate", pack)
	if r.Code != 0 || !strings.Contains(r.Stdout, "ok (comfyrt-example") {
		t.Fatalf("pack validate: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	packs := t.TempDir()
	r = testkit.Run(t, "", nil, time.Minute, "pack", "install", "--packs-dir", packs, pack)
	if r.Code != 0 {
		t.Fatalf("pack install: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, "", nil, time.Minute, "pack", "list", "--packs-dir", packs)
	if r.Code != 0 || !strings.Contains(r.Stdout, "comfyrt-example") {
		t.Errorf("pack list: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, "", nil, time.Minute, "compile", "--pack", pack, filepath.Join(pack, "workflows", "grade.json"))
	if r.Code != 0 || !strings.Contains(r.Stdout, "ColorGrade") {
		t.Errorf("compile --pack: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, "", nil, time.Minute, "pack", "validate", filepath.Join(t.TempDir(), "none"))
	if r.Code == 0 {
		t.Errorf("pack validate of a missing folder: exit 0")
	}
}

// TestBinary_Bench: bench's argument errors are exit 2 naming the
// problem; with FFmpeg and the ffmpeg CLI, a tiny B2 run (one round,
// 64×64, a few frames) prints its table. Nothing is timed.
func TestBinary_Bench(t *testing.T) {
	for _, args := range [][]string{{"bench", "b3"}, {"bench", "--rounds", "0"}, {"bench", "--sizes", "7x7"}} {
		r := testkit.Run(t, "", nil, time.Minute, args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, "comfyrt bench:") {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.Code, r.Stderr)
		}
	}
	needAV(t)
	testkit.NeedTools(t, "ffmpeg")
	// From the checkout: bench reads the example workflows from there.
	js := filepath.Join(t.TempDir(), "b2.json")
	r := testkit.Run(t, testkit.Root(), nil, 3*time.Minute, "bench", "b2", "--frames", "6", "--warmup", "2", "--rounds", "1", "--sizes", "64x64", "--json", js)
	if r.Code != 0 || !strings.Contains(r.Stdout, "B2   64x64") {
		t.Fatalf("bench b2: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	var rep struct {
		B2 []bench.Case `json:"b2"`
	}
	if b, err := os.ReadFile(js); err != nil || json.Unmarshal(b, &rep) != nil || len(rep.B2) != 1 {
		t.Errorf("--json: %v %+v", err, rep)
	}
}
