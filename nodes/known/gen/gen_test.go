package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

// dump reads the corpus dump the committed table comes from.
func dump(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(testkit.CorpusFile(t, "_schemas/"+dumpName))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCommittedTableIsFresh: the committed core.json.gz and core_gen.go
// are what the generator makes from the corpus dump today, and making them
// twice gives the same bytes.
func TestCommittedTableIsFresh(t *testing.T) {
	data := dump(t)
	a, err := generate(data, dumpName, defaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	b, err := generate(data, dumpName, defaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.gz, b.gz) || !bytes.Equal(a.goSrc, b.goSrc) {
		t.Fatal("two generations differ")
	}
	gz, err := os.ReadFile(filepath.Join("..", tableFile))
	if err != nil {
		t.Fatal(err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, a.json) {
		t.Errorf("%s is stale: run go generate ./nodes/known", tableFile)
	}
	src, err := os.ReadFile(filepath.Join("..", factsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, a.goSrc) {
		t.Errorf("%s is stale: run go generate ./nodes/known\n got %s\nwant %s", factsFile, src, a.goSrc)
	}
	t.Logf("%d core classes, %d open lists, %d bytes gzipped", a.classes, a.openLists, len(a.gz))
}

// TestGenerate_table: only ComfyUI's own classes, folder combos open with
// the folder named, other combos kept.
func TestGenerate_table(t *testing.T) {
	tb, err := generate(dump(t), dumpName, "v")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Parse(tb.json, "gen")
	if err != nil {
		t.Fatal(err)
	}
	if s.Lookup("SaveImageWebsocket") != nil {
		t.Error("custom_nodes.websocket_image_save class in the core table")
	}
	for _, n := range s.Nodes() {
		if !schema.IsCoreModule(n.PythonModule) {
			t.Errorf("%s: python_module %q", n.Name, n.PythonModule)
		}
	}
	for _, c := range []struct{ class, input, folder string }{
		{"CheckpointLoaderSimple", "ckpt_name", "checkpoints"}, {"VAELoader", "vae_name", "vae"},
		{"LoadImage", "image", "input"}, {"LoadImageOutput", "image", "output"}, {"KSampler", "sampler_name", ""},
	} {
		in := s.Lookup(c.class).Input(c.input)
		if in.Folder() != c.folder {
			t.Errorf("%s.%s: folder %q, want %q", c.class, c.input, in.Folder(), c.folder)
		}
		if c.folder != "" && len(in.Choices) != 0 {
			t.Errorf("%s.%s: open list keeps the dump's choices %v", c.class, c.input, in.Choices)
		}
	}
	if n := len(s.Lookup("KSampler").Input("sampler_name").Choices); n < 10 {
		t.Errorf("KSampler sampler_name: %d choices", n)
	}
	if !strings.Contains(string(tb.goSrc), `CoreComfyUIVersion = "v"`) || !strings.Contains(string(tb.goSrc), "DO NOT EDIT.") {
		t.Errorf("core_gen.go:\n%s", tb.goSrc)
	}
}

// TestGenerate_refusesGaps: a combo listing files with no folders.go row,
// a row the dump lacks, and a module that is neither ComfyUI's nor a
// custom pack's each fail the generation, naming what is wrong.
func TestGenerate_refusesGaps(t *testing.T) {
	const doc = `{"L": {"input": {"required": {"m": [["a.safetensors", "b.pt"]], "k": [["x", "y"]]}}, "output": ["MODEL"], "python_module": "nodes"},
  "C": {"input": {"required": {"m": [["c.onnx"]]}}, "output": [], "python_module": "custom_nodes.p"}}`
	saved := folderInputs
	defer func() { folderInputs = saved }()
	folderInputs = nil
	if _, err := generate([]byte(doc), "d", "v"); err == nil || !strings.Contains(err.Error(), `L.m ("a.safetensors")`) {
		t.Errorf("unlisted file combo: %v", err)
	}
	folderInputs = []folderInput{{"L", "m", "checkpoints"}}
	if _, err := generate([]byte(doc), "d", "v"); err != nil {
		t.Errorf("with a row: %v", err)
	}
	folderInputs = []folderInput{{"L", "m", "checkpoints"}, {"L", "k2", "loras"}, {"Gone", "x", "vae"}}
	if _, err := generate([]byte(doc), "d", "v"); err == nil || !strings.Contains(err.Error(), "Gone (no such class)") || !strings.Contains(err.Error(), `"k2"`) {
		t.Errorf("stale rows: %v", err)
	}
	folderInputs = []folderInput{{"L", "m", "checkpoints"}}
	bad := strings.Replace(doc, `"python_module": "nodes"`, `"python_module": "elsewhere"`, 1)
	if _, err := generate([]byte(bad), "d", "v"); err == nil || !strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("unknown module: %v", err)
	}
}
