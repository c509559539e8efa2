package graph

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/jsonx"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

// maxSeedSize leaves out the large corpus files: the fuzzer minimizes every
// new interesting input (up to a minute each by default), which on 100 KB
// workflows leaves no time for fuzzing.
const maxSeedSize = 8 << 10

// addFuzzSeeds seeds f with the corpus workflows (when the corpus is
// present) and the workflow.json sections of the golden files. Seeds of
// our own live in testdata/fuzz/<Name>/.
func addFuzzSeeds(f *testing.F) {
	if dir := testkit.CorpusPath(); dir != "" {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
				return nil
			}
			if data, err := os.ReadFile(p); err == nil && len(data) <= maxSeedSize {
				f.Add(data)
			}
			return nil
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "convert", "*.txtar"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		if wf, ok := parseArchive(string(raw)).get("workflow.json"); ok {
			f.Add([]byte(wf))
		}
	}
}

// FuzzParseAPI: ParseAPI never panics, and parse → JSON() → parse is
// stable: the second parse re-encodes to the same bytes.
func FuzzParseAPI(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := jsonx.Decode(data)
		if err != nil {
			return
		}
		p1, _ := ParseAPI(tree)
		b1, err := jsonx.Marshal(p1.JSON(), "")
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		tree2, err := jsonx.Decode(b1)
		if err != nil {
			t.Fatalf("re-encoded prompt is not JSON: %v\n%s", err, b1)
		}
		p2, _ := ParseAPI(tree2)
		b2, err := jsonx.Marshal(p2.JSON(), "")
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("parse → JSON → parse is not stable:\n%s\n%s", b1, b2)
		}
	})
}

// FuzzParseUI: ParseUI never panics on any JSON value and returns a graph
// for every object.
func FuzzParseUI(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := jsonx.Decode(data)
		if err != nil {
			return
		}
		ui, _ := ParseUI(tree)
		if _, isObj := tree.(jsonx.Object); isObj && (ui == nil || ui.Graph == nil) {
			t.Fatal("ParseUI returned no graph for an object")
		}
	})
}

// fuzzSchemas is the schema set of the golden basic.txtar.
func fuzzSchemas(tb testing.TB) *schema.Set {
	raw, err := os.ReadFile(filepath.Join("testdata", "convert", "basic.txtar"))
	if err != nil {
		tb.Fatal(err)
	}
	oi, _ := parseArchive(string(raw)).get("object_info.json")
	set, err := schema.Parse([]byte(oi), "basic.txtar")
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// FuzzConvert: converting never panics, is deterministic, every
// diagnostic has a pointer or a node, and the prompt re-parses as an API
// prompt without diagnostics and with the same node ids.
func FuzzConvert(f *testing.F) {
	addFuzzSeeds(f)
	set := fuzzSchemas(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := jsonx.Decode(data)
		if err != nil {
			return
		}
		ui, _ := ParseUI(tree)
		if ui == nil {
			return
		}
		p, diags := Convert(ui, ConvertOptions{Schemas: set})
		for _, d := range diags {
			if d.Pointer == "" && d.NodeID == "" {
				t.Fatalf("diagnostic without pointer or node: %v", d)
			}
		}
		b1, err := jsonx.Marshal(p.JSON(), "")
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		p2, _ := Convert(ui, ConvertOptions{Schemas: set})
		b2, _ := jsonx.Marshal(p2.JSON(), "")
		if !bytes.Equal(b1, b2) {
			t.Fatalf("conversion is not deterministic:\n%s\n%s", b1, b2)
		}
		tree2, err := jsonx.Decode(b1)
		if err != nil {
			t.Fatalf("prompt is not JSON: %v", err)
		}
		back, ds := ParseAPI(tree2)
		if len(ds) > 0 {
			t.Fatalf("converted prompt does not parse cleanly: %v\n%s", ds, b1)
		}
		if len(back.Nodes) != len(p.Nodes) {
			t.Fatalf("re-parsed %d nodes, converted %d\n%s", len(back.Nodes), len(p.Nodes), b1)
		}
	})
}
