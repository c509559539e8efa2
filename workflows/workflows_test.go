// Package workflows holds the example workflows written for comfyrt (API and
// UI format); this test checks that every one of them loads, converts and
// validates against the built-in node classes.
package workflows

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"comfyrt/graph"
	"comfyrt/graph/validate"
	"comfyrt/internal/jsonx"
	"comfyrt/nodes/builtin"
)

func TestExamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("*.json")
	ui, _ := filepath.Glob("ui/*.json")
	files = append(files, ui...)
	if len(files) < 3 {
		t.Fatalf("only %d example workflows found", len(files))
	}
	schemas := builtin.Schemas()
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wf, diags := graph.Load(f, data, graph.Options{Schemas: schemas, Strict: true})
			if len(diags) > 0 {
				t.Fatalf("load: %v", diags)
			}
			wantFormat := graph.FormatAPI
			if filepath.Dir(f) == "ui" {
				wantFormat = graph.FormatUI
			}
			if wf.Format != wantFormat {
				t.Errorf("format %s, want %s", wf.Format, wantFormat)
			}
			res := validate.Validate(wf.Prompt, schemas, validate.Options{Unlisted: unlisted})
			if !res.Valid || len(res.Diags) > 0 {
				t.Fatalf("not cleanly valid: %v", res.Diags)
			}
		})
	}
}

// TestUIMatchesAPI: the UI example converts to the same prompt as its API
// twin, minus the bypassed node.
func TestUIMatchesAPI(t *testing.T) {
	schemas := builtin.Schemas()
	load := func(f string) *graph.Prompt {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wf, diags := graph.Load(f, data, graph.Options{Schemas: schemas})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return wf.Prompt
	}
	api, ui := load("invert-blur-api.json"), load("ui/invert-blur-ui.json")
	for _, n := range api.Nodes {
		u := ui.Node(n.ID)
		if u == nil {
			t.Errorf("node %s missing from the converted UI workflow", n.ID)
			continue
		}
		if u.ClassType != n.ClassType {
			t.Errorf("node %s: class %s vs %s", n.ID, u.ClassType, n.ClassType)
		}
		a, _ := n.JSON().Get("inputs")
		b, _ := u.JSON().Get("inputs")
		if !sameInputs(a, b) {
			t.Errorf("node %s inputs differ: api %v, ui %v", n.ID, a, b)
		}
	}
}

// sameInputs compares two inputs objects as sets of name → JSON value.
func sameInputs(a, b any) bool {
	ma, mb := inputMap(a), inputMap(b)
	if len(ma) != len(mb) {
		return false
	}
	for k, v := range ma {
		if mb[k] != v {
			return false
		}
	}
	return true
}

func inputMap(v any) map[string]string {
	o, _ := v.(jsonx.Object)
	m := map[string]string{}
	for _, mem := range o {
		b, _ := jsonx.Marshal(mem.Value, "")
		m[mem.Key] = normNumber(string(b))
	}
	return m
}

// normNumber makes 2.0 and 2 compare equal, as JSON numbers.
func normNumber(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return s
}
