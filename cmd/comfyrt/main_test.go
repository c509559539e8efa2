package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
)

// cli runs the command line in-process.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const validAPI = `{"1": {"class_type": "LoadTensor", "inputs": {}}, "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}}}`

const invalidAPI = `{
  "1": {"class_type": "LoadTensor", "inputs": {}},
  "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 99, "sigma": 1.0}},
  "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}
}`

func TestValidate_ExitCodesAndText(t *testing.T) {
	good := writeFile(t, "good.json", validAPI)
	bad := writeFile(t, "bad.json", invalidAPI)

	code, out, _ := cli(t, "", "validate", good)
	if code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("valid file: code %d, out %q", code, out)
	}
	code, out, _ = cli(t, "", "validate", good, bad)
	if code != 1 {
		t.Fatalf("one invalid file: code %d, want 1", code)
	}
	want := bad + ": node 2 (ImageBlur) input blur_radius: value_bigger_than_max: Value 99 bigger than max of 31"
	if !strings.Contains(out, want) {
		t.Fatalf("text output lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "[/2/inputs/blur_radius 3:") {
		t.Errorf("text output lacks the pointer and position:\n%s", out)
	}
	code, _, errOut := cli(t, "", "validate", filepath.Join(t.TempDir(), "missing.json"))
	if code != 2 || !strings.Contains(errOut, "missing.json") {
		t.Fatalf("unreadable file: code %d, stderr %q", code, errOut)
	}
	code, _, errOut = cli(t, "", "validate")
	if code != 2 || !strings.Contains(errOut, "no workflow files") {
		t.Fatalf("no files: code %d, stderr %q", code, errOut)
	}
	code, _, _ = cli(t, "", "validate", "--format", "xml", good)
	if code != 2 {
		t.Fatalf("bad --format: code %d", code)
	}
}

func TestValidate_JSON(t *testing.T) {
	bad := writeFile(t, "bad.json", invalidAPI)
	code, out, _ := cli(t, validAPI, "validate", bad, "-", "--format", "json")
	if code != 1 {
		t.Fatalf("code %d, want 1", code)
	}
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	if res[0]["valid"] != false || res[0]["format"] != "api" || res[0]["file"] != bad {
		t.Errorf("first result: %v", res[0])
	}
	e, _ := res[0]["error"].(map[string]any)
	if e["type"] != "prompt_outputs_failed_validation" {
		t.Errorf("error.type = %v", e["type"])
	}
	ne, _ := res[0]["node_errors"].(map[string]any)
	n2, _ := ne["2"].(map[string]any)
	if n2 == nil || n2["class_type"] != "ImageBlur" {
		t.Fatalf("node_errors[2] = %v", ne)
	}
	if res[1]["valid"] != true || res[1]["file"] != "<stdin>" {
		t.Errorf("stdin result: %v", res[1])
	}
}

func TestConvert_UIExample(t *testing.T) {
	code, out, errOut := cli(t, "", "convert", filepath.Join(testkit.Root(), "workflows/ui/invert-blur-ui.json"))
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	var p map[string]struct {
		ClassType string         `json:"class_type"`
		Inputs    map[string]any `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	// The bypassed sharpen node (3) and the note (6) are gone; the invert
	// reads the blur directly.
	if _, ok := p["3"]; ok {
		t.Error("bypassed node 3 kept")
	}
	if _, ok := p["6"]; ok {
		t.Error("note 6 kept")
	}
	if got := p["4"].Inputs["image"]; !equalJSON(got, []any{"2", 0.0}) {
		t.Errorf("invert input = %v, want [\"2\", 0]", got)
	}
	if got := p["2"].Inputs["blur_radius"]; got != 5.0 {
		t.Errorf("blur_radius = %v", got)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestConvert_Errors(t *testing.T) {
	code, _, errOut := cli(t, "{not json", "convert", "-")
	if code != 1 || !strings.Contains(errOut, "<stdin>") || !strings.Contains(errOut, "1:2") {
		t.Fatalf("garbage: code %d, stderr %q", code, errOut)
	}
	code, _, _ = cli(t, "", "convert")
	if code != 2 {
		t.Fatalf("no file: code %d", code)
	}
}

func TestNodes(t *testing.T) {
	code, out, _ := cli(t, "", "nodes")
	if code != 0 || !strings.Contains(out, "SaveTensor") || !strings.Contains(out, "ImageInvert") {
		t.Fatalf("code %d, out %q", code, out)
	}
	code, out, _ = cli(t, "", "nodes", "--format", "json")
	var info map[string]map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil {
		t.Fatalf("json: code %d", code)
	}
	if info["ImageBlur"]["input_order"] == nil {
		t.Errorf("ImageBlur lacks input_order: %v", info["ImageBlur"])
	}
}

func TestNodes_ObjectInfo(t *testing.T) {
	files := testkit.CorpusObjectInfo(t)
	code, out, _ := cli(t, "", "nodes", "--object-info", files[0])
	if code != 0 || !strings.Contains(out, "KSampler") {
		t.Fatalf("code %d", code)
	}
	code, _, errOut := cli(t, "", "nodes", "--object-info", "/nonexistent.json")
	if code != 2 || !strings.Contains(errOut, "/nonexistent.json") {
		t.Fatalf("missing object_info: code %d, %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, _, _ := cli(t, ""); code != 2 {
		t.Errorf("no args: %d", code)
	}
	if code, out, _ := cli(t, "", "--help"); code != 0 || !strings.Contains(out, "validate") {
		t.Errorf("--help: %d %q", code, out)
	}
	if code, _, errOut := cli(t, "", "valdate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown: %d %q", code, errOut)
	}
	for _, c := range []string{"validate", "convert", "nodes"} {
		if code, _, errOut := cli(t, "", c, "--help"); code != 0 || !strings.Contains(errOut, "Usage: comfyrt "+c) {
			t.Errorf("%s --help: %d %q", c, code, errOut)
		}
	}
}

// TestCorpus_NeverPanics runs validate and convert on every corpus file:
// exit codes 0 or 1 only, never an internal error.
func TestCorpus_NeverPanics(t *testing.T) {
	dir := testkit.CorpusDir(t)
	oi := testkit.CorpusObjectInfo(t)
	for _, f := range testkit.CorpusWorkflows(t) {
		p := filepath.Join(dir, f)
		args := []string{"validate", "--format", "json"}
		for _, o := range oi {
			args = append(args, "--object-info", o)
		}
		code, out, errOut := cli(t, "", append(args, p)...)
		if code > 1 || strings.Contains(errOut, "internal error") {
			t.Errorf("%s: validate exit %d: %s", f, code, errOut)
		}
		var res []map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
			t.Errorf("%s: validate json: %v", f, err)
		}
		code, _, errOut = cli(t, "", "convert", p)
		if code > 1 || strings.Contains(errOut, "internal error") {
			t.Errorf("%s: convert exit %d: %s", f, code, errOut)
		}
	}
}

// FuzzCLIValidate feeds arbitrary bytes to validate through stdin.
func FuzzCLIValidate(f *testing.F) {
	f.Add([]byte(validAPI))
	f.Add([]byte(invalidAPI))
	f.Add([]byte(`{"nodes": [{"id": 1, "type": "X", "widgets_values": {"a": 1}}], "links": [[1, 1, 0, 2, 0]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errb bytes.Buffer
		code := run([]string{"validate", "--format", "json", "-"}, bytes.NewReader(data), &out, &errb)
		if code > 1 || strings.Contains(errb.String(), "internal error") {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	})
}
