package known_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/known"
	"comfyrt/nodes/schema"
)

func TestCore(t *testing.T) {
	t.Parallel()
	c := known.Core()
	if c.Len() != known.CoreClasses || c.Len() < 400 {
		t.Fatalf("%d core classes, core_gen.go says %d", c.Len(), known.CoreClasses)
	}
	open := 0
	for _, n := range c.Nodes() {
		if n.Source != known.CoreSource || !schema.IsCoreModule(n.PythonModule) {
			t.Errorf("%s: source %q, python_module %q", n.Name, n.Source, n.PythonModule)
		}
		for _, in := range n.Inputs {
			if in.Folder() != "" {
				open++
			}
		}
	}
	if open != known.CoreOpenLists {
		t.Errorf("%d open lists, core_gen.go says %d", open, known.CoreOpenLists)
	}
	for _, name := range []string{"KSampler", "CLIPTextEncode", "VAEDecode", "EmptyLatentImage", "ControlNetApplyAdvanced", "MaskComposite"} {
		if c.Lookup(name) == nil {
			t.Errorf("core class %s missing", name)
		}
	}
}

// fileLike matches a choice naming a file.
var fileLike = regexp.MustCompile(`(?i)\.(safetensors|ckpt|pt|pth|bin|onnx|engine|gguf|png|jpe?g|webp|mp4|wav|flac|mp3)$`)

// TestPacks: every pack class names its pack; no combo of a pack lists
// files, or nothing, without naming its folder (it would refuse every
// name).
func TestPacks(t *testing.T) {
	t.Parallel()
	p := known.Packs()
	if p.Len() < 40 {
		t.Fatalf("%d pack classes", p.Len())
	}
	for _, n := range p.Nodes() {
		if n.Source != known.PackSource || schema.PackOf(n.PythonModule) == "" {
			t.Errorf("%s: source %q, python_module %q", n.Name, n.Source, n.PythonModule)
		}
		if known.Core().Lookup(n.Name) != nil {
			t.Errorf("%s: a pack class shadows a core class", n.Name)
		}
		for _, in := range n.Inputs {
			if !in.IsCombo() || in.Folder() != "" {
				continue
			}
			if len(in.Choices) == 0 {
				t.Errorf("%s.%s: empty combo with no folder", n.Name, in.Name)
			}
			for _, c := range in.Choices {
				if s, ok := c.(string); ok && fileLike.MatchString(s) {
					t.Errorf("%s.%s: lists file %q with no folder", n.Name, in.Name, s)
				}
			}
		}
	}
	for _, name := range []string{"TensorRTLoader", "TorchCompileLoadVAE", "TorchCompileLoadControlNet", "FeatureBankAttentionProcessor",
		"QuickShapeMask", "FloatControl", "StreamDiffusionSampler", "ControlNetTRTStreamingSampler", "PitchShifter"} {
		if p.Lookup(name) == nil {
			t.Errorf("pack class %s missing", name)
		}
	}
}

// TestSchemas: the one set holds core, packs and built-in classes; a class
// comfyrt runs keeps its built-in schema.
func TestSchemas(t *testing.T) {
	t.Parallel()
	s := known.Schemas()
	if s.Len() < known.CoreClasses+known.Packs().Len() {
		t.Errorf("%d classes", s.Len())
	}
	for _, c := range []struct{ class, source string }{
		{"LoadImage", builtin.Source}, {"ImageBlur", builtin.Source}, {"LoadTensor", builtin.Source},
		{"CLIPVisionEncode", known.CoreSource}, {"ControlNetTRTConfig", known.PackSource}, {"StreamDiffusionSampler", builtin.Source},
		{"TensorRTLoader", builtin.Source},
	} {
		if n := s.Lookup(c.class); n == nil || n.Source != c.source {
			t.Errorf("%s: %+v, want source %s", c.class, n, c.source)
		}
	}
	s.Add(&schema.Node{Name: "Extra"})
	if known.Schemas().Lookup("Extra") != nil {
		t.Error("Schemas shares its set between calls")
	}
}

// TestBuiltinAgreesWithCore: every built-in class that ComfyUI core also
// declares has the core table's inputs and outputs (folder-listed choices
// aside, which Differences leaves out). A difference means the hand-written
// schema (nodes/builtin/schemas.json) is wrong, or the kernel reads
// something ComfyUI does not declare.
func TestBuiltinAgreesWithCore(t *testing.T) {
	t.Parallel()
	core := known.Core()
	checked := 0
	for _, own := range builtin.Schemas().Nodes() {
		c := core.Lookup(own.Name)
		if c == nil {
			continue
		}
		checked++
		if d := own.Differences(c); len(d) > 0 {
			t.Errorf("%s: the core table differs from the built-in schema: %s", own.Name, strings.Join(d, "; "))
		}
	}
	if checked < 20 {
		t.Errorf("only %d built-in classes are core classes", checked)
	}
}

// TestPacksAgreeWithDerived: the classes of the corpus's derived
// ComfyStream/Stream-Pack schemas agree with packs.json and the built-in
// schemas, tooltips and descriptions aside (the derived file has none).
func TestPacksAgreeWithDerived(t *testing.T) {
	var derived string
	for _, f := range testkit.CorpusObjectInfo(t) {
		if strings.HasSuffix(f, ".derived.json") {
			derived = f
		}
	}
	if derived == "" {
		t.Skip("no derived schemas in the corpus")
	}
	d, err := schema.LoadFile(derived)
	if err != nil {
		t.Fatal(err)
	}
	s := known.Schemas()
	for _, n := range d.Nodes() {
		if n.Raw != nil && n.Raw.Keys() != nil && !slices.Contains(n.Raw.Keys(), "input") {
			continue // an entry that only notes the class (PrimaryInputLoadImage)
		}
		mine := s.Lookup(n.Name)
		if mine == nil {
			t.Errorf("%s: in the derived schemas, unknown here", n.Name)
			continue
		}
		var diffs []string
		for _, x := range mine.Differences(n) {
			if !strings.Contains(x, "option description") {
				diffs = append(diffs, x)
			}
		}
		if len(diffs) > 0 {
			t.Errorf("%s: %s", n.Name, strings.Join(diffs, "; "))
		}
	}
}
