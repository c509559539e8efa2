package main

import (
	"path/filepath"
	"strings"
	"testing"
)

const invertWorkflow = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}
}`

func TestCompile_PrintsPlan(t *testing.T) {
	f := writeFile(t, "invert.json", invertWorkflow)
	code, out, errOut := cli(t, "", "compile", f, "--width", "64", "--height", "32")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"frame: IMAGE[1,32,64,3]", "#2 ImageInvert kernel=", "in  image <- #1.0 IMAGE[1,32,64,3] 24576 B buf0", "#3 SaveTensor <- #2.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "", "compile", "--explain", f)
	if code != 0 || !strings.Contains(out, "why: per-frame: input image <- #1 (per-frame)") || !strings.Contains(out, "buffer pool:") {
		t.Errorf("--explain: code %d\n%s", code, out)
	}
	code, out, _ = cli(t, "", "compile", "--dot", f)
	if code != 0 || !strings.HasPrefix(out, "digraph plan {") || !strings.Contains(out, `"n2" -> "n3"`) {
		t.Errorf("--dot: code %d\n%s", code, out)
	}
	// Standard input, and the example workflows.
	if code, _, errOut := cli(t, invertWorkflow, "compile", "-"); code != 0 {
		t.Errorf("stdin: code %d %s", code, errOut)
	}
	for _, ex := range []string{"identity-api.json", "invert-blur-api.json", "ui/invert-blur-ui.json"} {
		if code, _, errOut := cli(t, "", "compile", filepath.Join("..", "..", "workflows", ex)); code != 0 {
			t.Errorf("%s: code %d %s", ex, code, errOut)
		}
	}
}

func TestCompile_Diagnostics(t *testing.T) {
	f := writeFile(t, "bad.json", `{
  "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "a.png"}},
  "2": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "b.png"}},
  "3": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 99, "sigma": 1.0}},
  "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}},
  "5": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}
}`)
	code, out, _ := cli(t, "", "compile", f)
	if code != 1 {
		t.Fatalf("code %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		f + ": node 3 (ImageBlur) input blur_radius: value_bigger_than_max: Value 99 bigger than max of 31: blur_radius [/3/inputs/blur_radius 4:",
		f + ": node 2 (PrimaryInputLoadImage): io_contract: too many primary inputs in prompt",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A class with a schema but no kernel (from --object-info).
	info := writeFile(t, "info.json", `{"FancyNode": {"input": {"required": {"image": ["IMAGE"]}}, "input_order": {"required": ["image"]},
  "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"], "name": "FancyNode", "output_node": false}}`)
	g := writeFile(t, "fancy.json", `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "FancyNode", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`)
	code, out, _ = cli(t, "", "compile", "--object-info", info, g)
	if code != 1 || !strings.Contains(out, "node 2 (FancyNode): missing_node_implementation: Node FancyNode #2 has no implementation") {
		t.Errorf("code %d:\n%s", code, out)
	}
	// Usage errors.
	if code, _, _ := cli(t, "", "compile"); code != 2 {
		t.Errorf("no file: code %d", code)
	}
	if code, _, _ := cli(t, "", "compile", filepath.Join(t.TempDir(), "nope.json")); code != 2 {
		t.Errorf("missing file: code %d", code)
	}
	if code, _, _ := cli(t, "", "compile", "--width", "0", f); code != 2 {
		t.Errorf("bad width: code %d", code)
	}
}
