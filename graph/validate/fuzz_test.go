package validate

import (
	"os"
	"path/filepath"
	"testing"

	"comfyrt/graph"
	"comfyrt/internal/jsonx"
	"comfyrt/internal/testkit"
)

// FuzzValidate: random prompt bytes → jsonx.Decode → graph.ParseAPI →
// Validate against testSchema. It must not panic, its response must
// marshal, and two validations of two parses give the same sorted
// diagnostics and the same response.
func FuzzValidate(f *testing.F) {
	s := testSet(f)
	seeds := []string{
		`{}`,
		`{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0]}}}`,
		`{"1": {"class_type": "Any", "inputs": {"value": ["2", 0]}}, "2": {"class_type": "Any", "inputs": {"value": ["1", 0]}}, "3": {"class_type": "Out", "inputs": {"value": ["2", 0]}}}`,
		`{"a": {"class_type": "Num", "inputs": {"value": " 7 "}}, "b": {"class_type": "Flt", "inputs": {"value": "1e400"}}, "c": {"class_type": "Bool", "inputs": {"value": "false"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}, "p": {"class_type": "Out", "inputs": {"value": ["b", 0]}}, "q": {"class_type": "Out", "inputs": {"value": ["c", 0]}}}`,
		`{"a": {"class_type": "Pick", "inputs": {"choice": {"__value__": [1]}, "v3": 3, "multi": {"__value__": ["p", 2]}}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`,
		`{"1": {"inputs": {}}, "2": {"class_type": "Outt", "inputs": {}}}`,
		`{"prompt": {"1": {"class_type": "Out", "inputs": {"value": [1, 99]}}}}`,
	}
	for _, sd := range seeds {
		f.Add([]byte(sd))
	}
	paths, _ := filepath.Glob(filepath.Join(testkit.Root(), "testdata", "diag", "*.txtar"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			if wf, ok := parseTxtar(data).get("workflow.json"); ok {
				f.Add(wf)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func() string {
			v, err := jsonx.Decode(data)
			if err != nil {
				return ""
			}
			p, _ := graph.ParseAPI(v)
			r := Validate(p, s, Options{})
			if (r.Error == nil) != r.Valid {
				t.Fatalf("Error %v with Valid %v", r.Error, r.Valid)
			}
			for i := 1; i < len(r.Diags); i++ {
				a, b := r.Diags[i-1], r.Diags[i]
				if a.NodeID != "" && b.NodeID == "" {
					t.Fatalf("prompt-level diagnostic after a node's")
				}
			}
			b, err := jsonx.Marshal(r.Response(), "")
			if err != nil {
				t.Fatalf("response does not marshal: %v", err)
			}
			if _, err := jsonx.Decode(b); err != nil {
				t.Fatalf("response is not JSON: %v\n%s", err, b)
			}
			// The coerced prompt still marshals as JSON.
			pb, err := jsonx.Marshal(p.JSON(), "")
			if err != nil {
				t.Fatalf("prompt does not marshal: %v", err)
			}
			if _, err := jsonx.Decode(pb); err != nil {
				t.Fatalf("written-back prompt is not JSON: %v\n%s", err, pb)
			}
			return renderDiags(r.Diags) + string(b)
		}
		if a, b := run(), run(); a != b {
			t.Fatalf("not deterministic:\n%s\nvs\n%s", a, b)
		}
	})
}
