package schema

import (
	"strings"
	"testing"
)

func TestSchemasDifferences(t *testing.T) {
	t.Parallel()
	const base = `{"X": {"input": {"required": {"image": ["IMAGE"], "mode": [["a", "b"], {"default": "a"}], "n": ["INT", {"default": 1, "min": 0, "tooltip": "count"}]},
  "optional": {"mask": ["MASK"]}},
 "input_order": {"required": ["image", "mode", "n"], "optional": ["mask"]},
 "output": ["IMAGE", "MASK"], "output_is_list": [false, false], "output_name": ["IMAGE", "MASK"], "output_node": false,
 "display_name": "X", "category": "c"}}`
	parse := func(src string) *Node {
		t.Helper()
		s, err := Parse([]byte(src), "test")
		if err != nil {
			t.Fatal(err)
		}
		return s.Lookup("X")
	}
	n := parse(base)
	tests := []struct {
		name string
		src  string
		want []string // substrings, one per difference
	}{
		{"same, display fields and tooltip and number spelling aside",
			strings.NewReplacer(`"display_name": "X", "category": "c"`, `"display_name": "Other", "category": "d"`,
				`"tooltip": "count"`, `"tooltip": "how many"`, `"default": 1,`, `"default": 1.0,`).Replace(base), nil},
		{"no input key", `{"X": {"output": ["IMAGE", "MASK"], "output_name": ["IMAGE", "MASK"]}}`,
			[]string{"no input image", "no input mode", "no input n", "no input mask"}},
		{"changes", strings.NewReplacer(`["a", "b"]`, `["a", "b", "c"]`, `"min": 0`, `"min": 1`, `"mask": ["MASK"]`, `"mask": ["IMAGE"], "extra": ["INT"]`,
			`["mask"]`, `["mask", "extra"]`, `"output_node": false`, `"output_node": true`).Replace(base),
			[]string{`input mode: choices ["a","b","c"] instead of ["a","b"]`, "input n: option min 1 instead of 0", "input mask: type IMAGE instead of MASK",
				"extra input extra (optional INT)", "output_node true instead of false"}},
		{"section and order", strings.NewReplacer(`"required": {"image": ["IMAGE"],`, `"required": {`, `"optional": {"mask": ["MASK"]}`, `"optional": {"mask": ["MASK"], "image": ["IMAGE"]}`,
			`["image", "mode", "n"]`, `["n", "mode"]`).Replace(base),
			[]string{"input image: optional instead of required", "required input order n, mode instead of mode, n"}},
		{"outputs", strings.NewReplacer(`"output": ["IMAGE", "MASK"]`, `"output": ["IMAGE"]`).Replace(base),
			[]string{"outputs [IMAGE] instead of [IMAGE, MASK]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := n.Differences(parse(tc.src))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d differences %q, want %d like %q", len(got), got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("difference %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
	if d := n.Differences(nil); len(d) != 1 {
		t.Errorf("against nil: %q", d)
	}
}
