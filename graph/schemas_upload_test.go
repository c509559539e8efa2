package graph

import (
	"fmt"
	"strings"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/nodes/schema"
)

// uploadSchemas are classes with an upload button, as ComfyUI serves them
// (LoadImageMask and LoadAudio from nodes.py and comfy_extras), plus a
// made-up class whose upload combo is followed by an optional widget.
const uploadSchemas = `{
 "LoadImageMask": {"input": {"required": {
    "image": [["example.png", "red.png"], {"image_upload": true}],
    "channel": [["alpha", "red", "green", "blue"]]}},
  "input_order": {"required": ["image", "channel"]},
  "output": ["MASK"], "output_name": ["MASK"], "name": "LoadImageMask", "display_name": "Load Image (as Mask)"},
 "LoadAudio": {"input": {"required": {"audio": [["a.wav"], {"audio_upload": true}]}},
  "input_order": {"required": ["audio"]}, "output": ["AUDIO"], "name": "LoadAudio"},
 "LoadClipX": {"input": {"required": {"file": [["clip.mp4"], {"video_upload": true}], "frames": ["INT", {"default": 8}]},
    "optional": {"skip": ["INT", {"default": 0}]}},
  "input_order": {"required": ["file", "frames"], "optional": ["skip"]}, "output": ["IMAGE"], "name": "LoadClipX"}
}`

// uploadUI is a UI workflow with one node of class typ and the given
// widgets_values.
func uploadUI(typ string, values string) []byte {
	return []byte(fmt.Sprintf(`{"last_node_id": 1, "last_link_id": 0, "version": 0.4, "links": [],
 "nodes": [{"id": 1, "type": %q, "pos": [0, 0], "size": [300, 300], "flags": {}, "order": 0, "mode": 0,
   "inputs": [], "outputs": [], "properties": {}, "widgets_values": %s}]}`, typ, values))
}

// TestSchemasUploadWidgetAfterOthers: the upload button's value is stored
// after the values of all of the node's other widgets, and it is never
// emitted or taken for another widget's value.
func TestSchemasUploadWidgetAfterOthers(t *testing.T) {
	t.Parallel()
	set, err := schema.Parse([]byte(uploadSchemas), "test")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		class, values string
		want          map[string]string // input → JSON-ish rendering
	}{
		{"LoadImageMask", `["example.png", "red", "image"]`, map[string]string{"image": "example.png", "channel": "red"}},
		{"LoadImageMask", `["red.png", "blue"]`, map[string]string{"image": "red.png", "channel": "blue"}},
		{"LoadAudio", `["a.wav", "Audio"]`, map[string]string{"audio": "a.wav"}},
		{"LoadClipX", `["clip.mp4", 16, 3, "video"]`, map[string]string{"file": "clip.mp4", "frames": "16", "skip": "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.class+tc.values, func(t *testing.T) {
			wf, diags := Load("ui.json", uploadUI(tc.class, tc.values), Options{Schemas: set, Strict: true})
			for _, d := range diags {
				t.Errorf("diagnostic: %v", d)
			}
			if wf.Prompt == nil {
				t.Fatal("no prompt")
			}
			n := wf.Prompt.Node("1")
			if n == nil {
				t.Fatal("node 1 missing")
			}
			got := map[string]string{}
			for _, in := range n.Inputs {
				got[in.Name] = fmt.Sprint(in.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("inputs %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSchemasUploadWidgetExtraValue: a value beyond the upload slot is still
// reported, not silently named.
func TestSchemasUploadWidgetExtraValue(t *testing.T) {
	t.Parallel()
	set, err := schema.Parse([]byte(uploadSchemas), "test")
	if err != nil {
		t.Fatal(err)
	}
	wf, diags := Load("ui.json", uploadUI("LoadImageMask", `["example.png", "green", "image", "zzz"]`), Options{Schemas: set})
	n := wf.Prompt.Node("1")
	if in := n.Input("channel"); in == nil || fmt.Sprint(in.Value) != "green" {
		t.Errorf("channel = %+v, want green", in)
	}
	found := false
	for _, d := range diags {
		if d.Code == diag.ConversionWarning && strings.Contains(d.Details, `3="zzz"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning naming the extra value; diagnostics: %v", diags)
	}
}
