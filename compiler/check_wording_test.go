package compiler

import (
	"reflect"
	"strings"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/nodes/schema"
)

// TestCheck_missingKernelWording: a class with a schema but no kernel says
// what it is (ComfyUI core, a named custom pack, or a file's class) and
// never suggests installing a custom node; when validation stops at an
// unknown class, the known classes without a kernel are listed as well.
func TestCheck_missingKernelWording(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	extra, err := schema.Parse([]byte(`{
 "CoreThing": {"input": {"required": {"image": ["IMAGE"]}}, "output": ["IMAGE"], "python_module": "comfy_extras.nodes_x"},
 "PackThing": {"input": {"required": {"image": ["IMAGE"]}}, "output": ["IMAGE"], "python_module": "custom_nodes.ComfyUI-Some-Pack"},
 "FileThing": {"input": {"required": {"image": ["IMAGE"]}}, "output": ["IMAGE"], "python_module": ""}}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Schemas = schema.Merged(cfg.Schemas, extra)
	const body = `
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "a.png"}},
 "2": {"class_type": "CoreThing", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "PackThing", "inputs": {"image": ["2", 0]}},
 "4": {"class_type": "FileThing", "inputs": {"image": ["3", 0]}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["4", 0]}}`
	want := map[string]string{
		"2": "CoreThing is a ComfyUI core class (comfy_extras.nodes_x) that comfyrt has no kernel for yet",
		"3": "PackThing is a class of the custom node pack ComfyUI-Some-Pack that comfyrt has no kernel for yet",
		"4": "class FileThing is known (schema) but comfyrt has no kernel for it",
	}
	for _, tc := range []struct{ name, src, also string }{
		{"all known", `{` + body + `}`, ""},
		{"with an unknown class", `{` + body + `, "6": {"class_type": "NoSuchNode", "inputs": {}}}`, "6:missing_node_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Check(loadString(t, tc.src, cfg), cfg)
			got := map[string]string{}
			for _, d := range diags {
				if strings.Contains(d.Message+d.Details, "may not be installed") && d.Code == diag.MissingNodeImplementation {
					t.Errorf("node %s: %s: %s", d.NodeID, d.Message, d.Details)
				}
				if d.Code == diag.MissingNodeImplementation {
					got[d.NodeID] = d.Details
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("missing_node_implementation details = %q, want %q", got, want)
			}
			if tc.also != "" && !strings.Contains(codes(diags), tc.also) {
				t.Errorf("diagnostics lack %s: %s", tc.also, codes(diags))
			}
		})
	}
}
