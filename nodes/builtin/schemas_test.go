package builtin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"comfyrt/internal/jsonx"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
)

var wantClasses = []string{
	// ComfyStream and ComfyUI I/O.
	"LoadTensor", "SaveTensor", "PrimaryInputLoadImage", "LoadImage", "PreviewImage", "SaveImage",
	"SaveTextTensor", "LoadAudioTensor", "SaveAudioTensor", "PitchShifter",
	// Image and mask.
	"ImageInvert", "ImageScale", "ImageScaleBy", "ImageBlend", "ImageBlur", "ImageSharpen",
	"ImageCompositeMasked", "ImageCrop", "EmptyImage", "ImageToMask", "MaskToImage", "InvertMask",
	"ThresholdMask", "SolidMask", "GrowMask",
	"MaskComposite", "FeatherMask", "CropMask", "ImageColorToMask", "ImageFlip", "ImagePadForOutpaint",
	"RepeatImageBatch", "ImageBatch", "ImageFromBatch", "JoinImageWithAlpha", "SplitImageWithAlpha",
	"EmptyLatentImage",
	// Primitives.
	"PrimitiveInt", "PrimitiveFloat", "PrimitiveString", "PrimitiveStringMultiline", "PrimitiveBoolean",
	// Custom packs.
	"GaussianBlur", "Composite", "BackgroundColor", "DepthAnythingTensorrt",
	"QuickShapeMask", "TextRenderer",
	// comfyrt's own (no ComfyUI dump has them; pinned by TestSchemas_comfyrtClasses).
	"ONNXModelLoader", "ONNXImageModel", "TextDetection",
	// ComfyUI_RealTimeNodes (controllers), the Torch-Compile loaders.
	"FloatControl", "IntControl", "StringControl", "SimilarityFilter", "LazyCondition", "FPSMonitor",
	"ROINode", "IntegerMotionController",
	"TorchCompileLoadVAE", "TorchCompileLoadControlNet", "TorchCompileModel",
	// Stable Diffusion models (ONNX).
	"CheckpointLoaderSimple", "TensorRTLoader", "VAELoader", "CLIPLoader", "CLIPSetLastLayer", "ControlNetLoader",
	"VAEEncode", "VAEDecode",
	// Stable Diffusion sampling.
	"CLIPTextEncode", "ConditioningConcat", "ConditioningCombine", "ConditioningZeroOut", "KSampler", "KSamplerAdvanced",
	"SamplerCustom", "KSamplerSelect", "BasicScheduler", "ControlNetApplyAdvanced",
	"ModelSamplingDiscrete", "FeatureBankAttentionProcessor",
	// pschroedl/ComfyUI-StreamDiffusion.
	"StreamDiffusionCheckpointLoader", "StreamDiffusionLPCheckpointLoader", "StreamDiffusionTensorRTEngineLoader",
	"StreamDiffusionLoraLoader", "StreamDiffusionAdvancedConfig", "StreamDiffusionConfig", "StreamDiffusionPrebuiltConfig",
	"StreamDiffusionSampler",
	// Latent resizing.
	"LatentUpscale", "LatentUpscaleBy",
	// Stream-Pack batched denoising.
	"StreamBatchSampler", "StreamScheduler", "StreamFrameBuffer",
}

func TestSchemas_classes(t *testing.T) {
	s := builtin.Schemas()
	want := append([]string(nil), wantClasses...)
	sort.Strings(want)
	if got := s.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("classes = %q\nwant %q", got, want)
	}
	for _, n := range s.Nodes() {
		if n.Source != "builtin" {
			t.Errorf("%s: Source = %q", n.Name, n.Source)
		}
		if n.Category == "" || n.PythonModule == "" || len(n.Output) != len(n.OutputName) || len(n.Output) != len(n.OutputIsList) {
			t.Errorf("%s: incomplete class %+v", n.Name, n)
		}
		if name, _ := n.Raw.Get("name"); name != n.Name {
			t.Errorf("%s: name field %v", n.Name, name)
		}
	}
	// Each call gives a Set of its own.
	a := builtin.Schemas()
	a.Add(&schema.Node{Name: "Extra"})
	if builtin.Schemas().Lookup("Extra") != nil {
		t.Error("Schemas shares its Set between calls")
	}
}

// TestSchemas_roundTrip: the embedded classes emit and re-parse to the same
// model, and their ComfyUI layout built from the model does too.
func TestSchemas_roundTrip(t *testing.T) {
	s := builtin.Schemas()
	out, err := s.Marshal("  ")
	if err != nil {
		t.Fatal(err)
	}
	again, err := schema.Parse(out, builtin.Source)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range s.Nodes() {
		if !reflect.DeepEqual(n, again.Lookup(n.Name)) {
			t.Errorf("%s: emit → parse differs", n.Name)
		}
		re, err := schema.ParseNode(n.Name, n.Layout())
		if err != nil {
			t.Fatal(err)
		}
		re.Raw, re.Source = n.Raw, n.Source
		if !reflect.DeepEqual(re, n) {
			t.Errorf("%s: Layout → parse differs", n.Name)
		}
	}
}

func TestSchemas_folderInputs(t *testing.T) {
	s := builtin.Schemas()
	for _, fi := range builtin.FolderInputs() {
		n := s.Lookup(fi.Class)
		if n == nil {
			t.Fatalf("%s missing", fi.Class)
		}
		in := n.Input(fi.Input)
		if in == nil || !in.IsCombo() || len(in.Choices) != 0 {
			t.Fatalf("%s.%s = %+v, want an empty combo", fi.Class, fi.Input, in)
		}
		filled, err := n.WithChoices(fi.Input, []any{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if got := filled.Input(fi.Input).Choices; len(got) != 2 {
			t.Errorf("%s.%s filled = %v", fi.Class, fi.Input, got)
		}
	}
	if !s.Lookup("LoadImage").Input("image").ImageUpload() {
		t.Error("LoadImage image_upload lost")
	}
}

// loadDump reads the real object_info dump of the corpus, as a model and as
// plain decoded JSON, skipping the test when it is absent.
func loadDump(t *testing.T) (*schema.Set, map[string]any) {
	t.Helper()
	var path string
	for _, p := range testkit.CorpusObjectInfo(t) {
		if strings.HasSuffix(p, "object_info.json") {
			path = p
		}
	}
	if path == "" {
		t.Skip("no object_info dump in the corpus")
	}
	s, err := schema.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	return s, decodeStd(t, data)
}

func decodeStd(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// compareInputs checks names, order, sections, types, the numeric and
// default options and the combo choices of got against want.
func compareInputs(t *testing.T, class string, got, want *schema.Node, skipChoices string) {
	t.Helper()
	if len(got.Inputs) != len(want.Inputs) {
		t.Errorf("%s: %d inputs, reference has %d", class, len(got.Inputs), len(want.Inputs))
		return
	}
	for i, w := range want.Inputs {
		g := got.Inputs[i]
		where := class + "." + w.Name
		if g.Name != w.Name || g.Section != w.Section || g.Type != w.Type {
			t.Errorf("%s: input %d = %s %s %s, reference %s %s %s", where, i, g.Section, g.Name, g.Type, w.Section, w.Name, w.Type)
			continue
		}
		for _, key := range []string{"default", "min", "max", "step", "round", "multiline", "control_after_generate", "image_upload", "forceInput", "display"} {
			gv, gok := g.Option(key)
			wv, wok := w.Option(key)
			if gok != wok || !reflect.DeepEqual(gv, wv) {
				t.Errorf("%s: option %s = %v (%v), reference %v (%v)", where, key, gv, gok, wv, wok)
			}
		}
		if w.Name != skipChoices && !reflect.DeepEqual(g.Choices, w.Choices) {
			t.Errorf("%s: choices = %v, reference %v", where, g.Choices, w.Choices)
		}
	}
}

func compareOutputs(t *testing.T, class string, got, want *schema.Node) {
	t.Helper()
	if !reflect.DeepEqual(got.Output, want.Output) || !reflect.DeepEqual(got.OutputName, want.OutputName) ||
		got.OutputNode != want.OutputNode {
		t.Errorf("%s: outputs %v %v node=%v, reference %v %v node=%v", class,
			got.Output, got.OutputName, got.OutputNode, want.Output, want.OutputName, want.OutputNode)
	}
	if want.OutputIsList != nil && !reflect.DeepEqual(got.OutputIsList, want.OutputIsList) {
		t.Errorf("%s: output_is_list %v, reference %v", class, got.OutputIsList, want.OutputIsList)
	}
}

// TestSchemas_matchDump compares every built-in class that the real dump
// also has (and PrimaryInputLoadImage with the dump's LoadImage, whose
// inputs it shares) with the dump.
func TestSchemas_matchDump(t *testing.T) {
	dump, raw := loadDump(t)
	s := builtin.Schemas()
	compared := 0
	for _, n := range s.Nodes() {
		ref := dump.Lookup(n.Name)
		if n.Name == "PrimaryInputLoadImage" {
			ref = dump.Lookup("LoadImage")
		}
		if ref == nil {
			continue
		}
		compared++
		// A combo ComfyUI lists from a folder (LoadImage's image, the
		// loaders' model names) has the dump's files as choices.
		skip := "image"
		for _, in := range n.Inputs {
			if in.Folder() != "" {
				skip = in.Name
			}
		}
		compareInputs(t, n.Name, n, ref, skip)
		compareOutputs(t, n.Name, n, ref)
		if n.Name == "PrimaryInputLoadImage" {
			continue
		}
		if n.Category != ref.Category || n.DisplayName != ref.DisplayName || n.PythonModule != ref.PythonModule || n.Description != ref.Description {
			t.Errorf("%s: category/display/module/description = %q %q %q %q, dump %q %q %q %q", n.Name,
				n.Category, n.DisplayName, n.PythonModule, n.Description, ref.Category, ref.DisplayName, ref.PythonModule, ref.Description)
		}
		// The whole class object equals the dump's, once LoadImage gets
		// the dump's file list.
		if n.Name == "LoadImage" || skip != "image" {
			var err error
			if n, err = n.WithChoices(skip, ref.Input(skip).Choices); err != nil {
				t.Fatal(err)
			}
		}
		b, err := jsonx.Marshal(n.JSON(), "")
		if err != nil {
			t.Fatal(err)
		}
		var got any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, raw[n.Name]) {
			t.Errorf("%s: class object differs from the dump\n got %s", n.Name, b)
		}
	}
	if compared < 24 {
		t.Errorf("only %d classes compared with the dump", compared)
	}
}

// TestSchemas_matchDerived compares the ComfyStream classes with the derived
// ComfyStream schemas.
func TestSchemas_matchDerived(t *testing.T) {
	var path string
	for _, p := range testkit.CorpusObjectInfo(t) {
		if strings.HasSuffix(p, ".derived.json") && strings.Contains(filepath.Base(p), "comfystream") {
			path = p
		}
	}
	if path == "" {
		t.Skip("no derived ComfyStream schemas in the corpus")
	}
	derived, err := schema.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := builtin.Schemas()
	for _, name := range []string{"LoadTensor", "SaveTensor", "SaveTextTensor", "LoadAudioTensor", "SaveAudioTensor", "PitchShifter", "PrimaryInputLoadImage"} {
		ref := derived.Lookup(name)
		if ref == nil {
			t.Errorf("%s not in %s", name, path)
			continue
		}
		n := s.Lookup(name)
		if _, hasInputs := ref.Raw.Get("input"); hasInputs {
			compareInputs(t, name, n, ref, "")
			for _, w := range ref.Inputs {
				if g := n.Input(w.Name); g != nil && g.Tooltip() != w.Tooltip() {
					t.Errorf("%s.%s: tooltip %q, derived %q", name, w.Name, g.Tooltip(), w.Tooltip())
				}
			}
		}
		if ref.OutputName == nil {
			ref.OutputName = n.OutputName // the derived file omits them for PrimaryInputLoadImage
		}
		compareOutputs(t, name, n, ref)
		if n.Category != ref.Category {
			t.Errorf("%s: category %q, derived %q", name, n.Category, ref.Category)
		}
		if ref.Description != "" && n.Description != ref.Description {
			t.Errorf("%s: description %q, derived %q", name, n.Description, ref.Description)
		}
	}
}

// TestSchemas_corpusWorkflows checks the custom-pack classes against what
// real workflows give them: every input name is declared, every literal
// combo value is a choice (engine lists are filled at run time).
func TestSchemas_corpusWorkflows(t *testing.T) {
	dir := testkit.CorpusDir(t)
	s := builtin.Schemas()
	files := []string{
		"comfystream/depth-bg-blur-gpu-api.json",
		"comfystream/sd15-tensorrt-w-depthmask-accelerated-api.json",
		"ComfyUI_RealTimeNodes/motioncontrol_example_API.json",
		"ComfyUI_RealTimeNodes/similarity_filter_example_api.json",
		"comfystream/test generative workflow-2-api-t2i.json",
	}
	classes := map[string]bool{"GaussianBlur": true, "Composite": true, "BackgroundColor": true, "DepthAnythingTensorrt": true,
		"QuickShapeMask": true, "TextRenderer": true}
	seen := 0
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Logf("skip %s: %v", f, err)
			continue
		}
		var prompt map[string]struct {
			ClassType string         `json:"class_type"`
			Inputs    map[string]any `json:"inputs"`
		}
		if err := json.Unmarshal(data, &prompt); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, node := range prompt {
			if !classes[node.ClassType] {
				continue
			}
			seen++
			n := s.Lookup(node.ClassType)
			for name, v := range node.Inputs {
				in := n.Input(name)
				if in == nil {
					t.Errorf("%s #%s %s: input %q not declared", f, id, node.ClassType, name)
					continue
				}
				if _, linked := v.([]any); linked || !in.IsCombo() || in.Name == "engine" {
					continue
				}
				found := false
				for _, c := range in.Choices {
					found = found || c == v
				}
				if !found {
					t.Errorf("%s #%s %s.%s: %v not in %v", f, id, node.ClassType, name, v, in.Choices)
				}
			}
			for _, in := range n.InputsIn(schema.Required) {
				if _, ok := node.Inputs[in.Name]; !ok {
					t.Errorf("%s #%s %s: required input %q missing", f, id, node.ClassType, in.Name)
				}
			}
		}
	}
	if seen == 0 {
		t.Skip("no workflow used the custom-pack classes")
	}
}

// describe renders a class's inputs and outputs as one line.
func describe(n *schema.Node) string {
	var b strings.Builder
	for _, in := range n.Inputs {
		b.WriteString(in.Section.String() + " " + in.Name + " " + in.Type)
		if in.IsCombo() {
			b.WriteString(" " + jsonText(in.Choices))
		}
		if in.Options != nil {
			b.WriteString(" " + jsonText(in.Options))
		}
		b.WriteString("; ")
	}
	b.WriteString("-> " + strings.Join(n.Output, ",") + " " + strings.Join(n.OutputName, ","))
	if n.OutputNode {
		b.WriteString(" output_node")
	}
	b.WriteString(" | " + n.Category + " | " + n.DisplayName)
	return b.String()
}

func jsonText(v any) string {
	b, _ := jsonx.Marshal(v, "")
	return string(b)
}

// TestSchemas_customPacks pins the custom-pack classes, which no dump in
// the corpus has, to their sources: yondonfu/ComfyUI-Background-Edit
// nodes/*.py and yuvraj108c/ComfyUI-Depth-Anything-Tensorrt.
func TestSchemas_customPacks(t *testing.T) {
	want := map[string]string{
		"GaussianBlur": `required images IMAGE; required kernel_size INT {"default":61,"min":1,"step":2}; ` +
			`required sigma INT {"default":5,"min":1,"step":2}; required mode COMBO ["cuda","cpu"] {"default":"cuda"}; ` +
			`-> IMAGE IMAGE | background-edit | GaussianBlur`,
		"Composite": `required foregrounds IMAGE; required backgrounds IMAGE; required foreground_masks MASK; ` +
			`required mode COMBO ["cuda","cpu"] {"default":"cuda"}; -> IMAGE IMAGE | background-edit | Composite`,
		"BackgroundColor": `required images IMAGE; required color COMBO ["black","red","blue","green"] {"default":"black"}; ` +
			`-> IMAGE IMAGE | background-edit | BackgroundColor`,
		"DepthAnythingTensorrt": `required images IMAGE; required engine COMBO [] {"comfyrt_folder":"models/tensorrt/depth-anything"}; -> IMAGE IMAGE output_node | tensorrt | Depth Anything Tensorrt ⚡`,
	}
	s := builtin.Schemas()
	for name, w := range want {
		if got := describe(s.Lookup(name)); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}
