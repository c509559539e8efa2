package validate

import (
	"strings"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/nodes/schema"
)

// TestValidate_openLists: a combo listed from a ComfyUI folder
// (schema.FolderOption) accepts any file name but no other value; an
// empty list without a folder stays closed, as in ComfyUI.
func TestValidate_openLists(t *testing.T) {
	s, err := schema.Parse([]byte(`{
  "Ckpt": {"input": {"required": {"ckpt_name": [[], {"comfyrt_folder": "checkpoints"}], "v3": ["COMBO", {"options": [], "comfyrt_folder": "loras"}]},
                     "optional": {"multi": ["COMBO", {"multiselect": true, "options": [], "comfyrt_folder": "input"}], "closed": [[]]}},
           "output": ["MODEL"], "output_node": false},
  "Out": {"input": {"required": {"value": ["*", {}]}}, "output": [], "output_node": true}}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, inputs string
		want         string // node:input:code, or ""
		details      string
	}{
		{"any name", `"ckpt_name": "dreamshaper_8.safetensors", "v3": "sub/folder/x.pt"`, "", ""},
		{"empty name", `"ckpt_name": "", "v3": "a"`, "", ""},
		{"multi-select names", `"ckpt_name": "a", "v3": "b", "multi": {"__value__": ["p.png", "q.png"]}`, "", ""},
		{"a number", `"ckpt_name": 5, "v3": "b"`, "a:ckpt_name:value_not_in_list",
			"ckpt_name: 5 is not a file name: the choices are the files of ComfyUI's checkpoints folder"},
		{"a number in a multi-select", `"ckpt_name": "a", "v3": "b", "multi": {"__value__": ["p.png", 3]}`, "a:multi:value_not_in_list",
			"multi: 3 is not a file name: the choices are the files of ComfyUI's input folder"},
		{"empty list without a folder is closed", `"ckpt_name": "a", "v3": "b", "closed": "x"`, "a:closed:value_not_in_list", "closed: 'x' not in []"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parse(t, `{"a": {"class_type": "Ckpt", "inputs": {`+tc.inputs+`}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`)
			r := Validate(p, s, Options{})
			want := tc.want
			if want != "" {
				want = "prompt_outputs_failed_validation " + want
			}
			if got := codes(r.Diags); got != want {
				t.Fatalf("diags = %q, want %q", got, want)
			}
			for _, d := range r.Diags {
				if d.Code == diag.ValueNotInList && !strings.Contains(d.Details, tc.details) {
					t.Errorf("details %q, want %q", d.Details, tc.details)
				}
			}
		})
	}
}
