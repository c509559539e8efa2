package main

// Tests of --object-info merging and of upload widgets, through the built
// binary.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

// schemasDump is a small object_info dump as a ComfyUI server with
// ComfyStream serves it: its LoadImage lists that server's input folder,
// ComfyStream's derived PrimaryInputLoadImage entry has no "input" key,
// LoadImageMask is a class comfyrt has no kernel for, and NoInputsX is a
// custom class without inputs.
const schemasDump = `{
 "LoadImage": {"input": {"required": {"image": [["example.png"], {"image_upload": true}]}},
  "input_order": {"required": ["image"]},
  "output": ["IMAGE", "MASK"], "output_is_list": [false, false], "output_name": ["IMAGE", "MASK"],
  "name": "LoadImage", "display_name": "Load Image", "category": "image", "output_node": false},
 "PrimaryInputLoadImage": {"output": ["IMAGE", "MASK"], "name": "PrimaryInputLoadImage", "category": "image", "output_node": false},
 "LoadImageMask": {"input": {"required": {
    "image": [["example.png"], {"image_upload": true}],
    "channel": [["alpha", "red", "green", "blue"]]}},
  "input_order": {"required": ["image", "channel"]},
  "output": ["MASK"], "output_is_list": [false], "output_name": ["MASK"],
  "name": "LoadImageMask", "display_name": "Load Image (as Mask)", "category": "mask", "output_node": false},
 "NoInputsX": {"output": ["IMAGE"], "name": "NoInputsX", "category": "test", "output_node": false}
}`

// Prompts whose frame input names a picture no server lists.
const (
	schemasFrameLoadImage = `{"1": {"class_type": "LoadImage", "inputs": {"image": "sampled_frame.jpg"}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`
	schemasFramePrimary = `{"1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "sampled_frame.jpg"}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`
	// Two LoadImage nodes and no PrimaryInputLoadImage: both are static
	// pictures, whose names are checked when the folder is listed.
	schemasTwoImages = `{"1": {"class_type": "LoadImage", "inputs": {"image": "missing.png"}},
 "2": {"class_type": "LoadImage", "inputs": {"image": "missing.png"}},
 "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}}`
	schemasNoInputs = `{"1": {"class_type": "NoInputsX", "inputs": {}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}}}`
)

// schemasFiles writes name → content into a new folder and returns it.
func schemasFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBinary_SchemasObjectInfoKeepsKernelClasses: a dump passed with
// --object-info does not replace the schema of classes comfyrt runs with its
// own kernel. The frame LoadImage is not checked against the dump's file
// list, PrimaryInputLoadImage keeps its image input although the dump's
// entry has no "input" key (a warning names the class), and a class without
// a kernel whose entry has no "input" is a class with no inputs.
func TestBinary_SchemasObjectInfoKeepsKernelClasses(t *testing.T) {
	dir := schemasFiles(t, map[string]string{
		"dump.json": schemasDump, "frame.json": schemasFrameLoadImage, "primary.json": schemasFramePrimary,
		"noinputs.json": schemasNoInputs,
	})
	r := testkit.Run(t, dir, nil, 2*time.Minute, "validate", "--object-info", "dump.json", "frame.json", "primary.json", "noinputs.json")
	if r.Code != 0 {
		t.Errorf("validate: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, f := range []string{"frame.json", "primary.json", "noinputs.json"} {
		if !strings.Contains(r.Stdout, f+": valid") {
			t.Errorf("%s not reported valid:\n%s", f, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "not in") || strings.Contains(r.Stdout, "unknown_input") {
		t.Errorf("the dump's schema was used for a built-in class:\n%s", r.Stdout)
	}
	// The dump's PrimaryInputLoadImage differs (no inputs): a warning on
	// stderr naming the class. Its LoadImage differs only in the folder's
	// file list: no warning.
	if !strings.Contains(r.Stderr, "warning") || !strings.Contains(r.Stderr, "class PrimaryInputLoadImage") || !strings.Contains(r.Stderr, "no input image") {
		t.Errorf("no warning naming PrimaryInputLoadImage's difference on stderr:\n%s", r.Stderr)
	}
	if strings.Contains(r.Stderr, "class LoadImage:") {
		t.Errorf("warning for LoadImage, whose only difference is the folder's file list:\n%s", r.Stderr)
	}

	// The schemas listed: built-in PrimaryInputLoadImage with its image
	// input, NoInputsX with none.
	r = testkit.Run(t, dir, nil, 2*time.Minute, "nodes", "--object-info", "dump.json", "--format", "json")
	if r.Code != 0 {
		t.Fatalf("nodes: exit %d\n%s", r.Code, r.Stderr)
	}
	var info map[string]struct {
		Input map[string]map[string]any `json:"input"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		t.Fatal(err)
	}
	if _, ok := info["PrimaryInputLoadImage"].Input["required"]["image"]; !ok {
		t.Errorf("PrimaryInputLoadImage lost its image input: %v", info["PrimaryInputLoadImage"])
	}
	if ni, ok := info["NoInputsX"]; !ok || len(ni.Input["required"])+len(ni.Input["optional"]) != 0 {
		t.Errorf("NoInputsX: present %v, inputs %v; want present without inputs", ok, ni.Input)
	}
}

// TestBinary_SchemasObjectInfoWarnsOnDifference: a dump that declares a
// kernel class differently gets a warning naming the class and the input,
// and the kernel's schema is used (the extra required input is not asked
// for).
func TestBinary_SchemasObjectInfoWarnsOnDifference(t *testing.T) {
	dump := `{"ImageInvert": {"input": {"required": {"image": ["IMAGE"], "strength": ["FLOAT", {"default": 1.0}]}},
  "input_order": {"required": ["image", "strength"]}, "output": ["IMAGE"], "name": "ImageInvert", "output_node": false}}`
	wf := `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`
	dir := schemasFiles(t, map[string]string{"dump.json": dump, "wf.json": wf})
	r := testkit.Run(t, dir, nil, 2*time.Minute, "validate", "--object-info", "dump.json", "wf.json")
	if r.Code != 0 {
		t.Errorf("validate: exit %d, want 0\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "class ImageInvert") || !strings.Contains(r.Stderr, "extra input strength") {
		t.Errorf("no warning naming ImageInvert and its extra input:\n%s", r.Stderr)
	}
}

// TestBinary_SchemasFrameInputNotChecked: with --input-dir the static
// pictures' names are checked against the folder, the frame input's never.
func TestBinary_SchemasFrameInputNotChecked(t *testing.T) {
	dir := schemasFiles(t, map[string]string{
		"frame.json": schemasFrameLoadImage, "primary.json": schemasFramePrimary, "two.json": schemasTwoImages,
	})
	if err := os.Mkdir(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, 2*time.Minute, "validate", "--input-dir", "in", "frame.json", "primary.json")
	if r.Code != 0 || !strings.Contains(r.Stdout, "frame.json: valid") || !strings.Contains(r.Stdout, "primary.json: valid") {
		t.Errorf("frame inputs checked against the input folder: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, 2*time.Minute, "validate", "--input-dir", "in", "two.json")
	if r.Code != 1 || !strings.Contains(r.Stdout, "node 1 (LoadImage) input image: value_not_in_list") {
		t.Errorf("static LoadImage with a missing file: exit %d, want 1 and value_not_in_list\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_SchemasRealObjectInfo: the corpus's real object_info dump and
// ComfyStream's derived schemas keep the frame inputs valid.
func TestBinary_SchemasRealObjectInfo(t *testing.T) {
	dumps := testkit.CorpusObjectInfo(t)
	if len(dumps) == 0 {
		t.Skip("no object_info files in the corpus")
	}
	dir := schemasFiles(t, map[string]string{"frame.json": schemasFrameLoadImage, "primary.json": schemasFramePrimary})
	args := []string{"validate"}
	for _, d := range dumps {
		args = append(args, "--object-info", d)
	}
	r := testkit.Run(t, dir, nil, 2*time.Minute, append(args, "frame.json", "primary.json")...)
	if r.Code != 0 || strings.Count(r.Stdout, ": valid") != 2 {
		t.Errorf("validate with %v: exit %d\n%s%s", dumps, r.Code, r.Stdout, r.Stderr)
	}
}

// TestBinary_SchemasConvertUploadWidget: LoadImageMask's upload value is
// stored after its channel, so channel is "red", not the upload button's
// "image".
func TestBinary_SchemasConvertUploadWidget(t *testing.T) {
	ui := `{"last_node_id": 1, "last_link_id": 0, "version": 0.4, "links": [],
 "nodes": [{"id": 1, "type": "LoadImageMask", "pos": [0, 0], "size": [300, 300], "flags": {}, "order": 0, "mode": 0,
   "inputs": [], "outputs": [{"name": "MASK", "type": "MASK", "links": null}],
   "properties": {"Node name for S&R": "LoadImageMask"}, "widgets_values": ["example.png", "red", "image"]}]}`
	dir := schemasFiles(t, map[string]string{"dump.json": schemasDump, "mask.json": ui})
	dumps := map[string]string{"small dump": filepath.Join(dir, "dump.json")}
	if testkit.CorpusPath() != "" {
		for _, d := range testkit.CorpusObjectInfo(t) {
			if strings.HasSuffix(d, "object_info.json") {
				dumps["real dump"] = d
			}
		}
	}
	for name, dump := range dumps {
		t.Run(name, func(t *testing.T) {
			r := testkit.Run(t, dir, nil, 2*time.Minute, "convert", "--strict", "--object-info", dump, "mask.json")
			if r.Code != 0 {
				t.Fatalf("convert: exit %d\n%s", r.Code, r.Stderr)
			}
			var p map[string]struct {
				Inputs map[string]any `json:"inputs"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
				t.Fatalf("%v\n%s", err, r.Stdout)
			}
			in := p["1"].Inputs
			if in["image"] != "example.png" || in["channel"] != "red" || len(in) != 2 {
				t.Errorf("inputs %v, want image example.png, channel red", in)
			}
			if strings.Contains(r.Stderr, "LoadImageMask") {
				t.Errorf("conversion warnings:\n%s", r.Stderr)
			}
		})
	}
}
