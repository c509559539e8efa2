package compiler

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

// goldenCorpus lists the corpus's real-time workflows that use only
// implemented nodes; their plans are golden-tested (read from the corpus
// at test time, never copied).
var goldenCorpus = []string{
	"comfystream/inverted-color-api.json",
	"comfystream/tensor-utils-example-api.json",
	"comfystream/tensor-utils-example-workflow.json",
	"comfystream/load-preview-image-example.json",
	"ComfyUI_RealTimeNodes/simple_comfy_api.json",
	"ComfyUI_frontend/model_free_execution.json",
}

// goldenName maps a workflow path to its golden file: the path with '/'
// and spaces as '_'.
func goldenName(prefix, rel string) string {
	rel = strings.TrimSuffix(filepath.ToSlash(rel), ".json")
	r := strings.NewReplacer("/", "_", " ", "_")
	return filepath.Join("..", "testdata", "compile", prefix+"_"+r.Replace(rel)+".txtar")
}

// checkGolden compares the plan of a workflow with testdata/compile; with
// UPDATE_GOLDEN=1 it rewrites the file. A golden file is a txtar archive:
// a comment naming the source, then "-- plan --" (Plan.String) and
// "-- explain --" (Plan.Explain, which adds reasons and the buffer pool).
func checkGolden(t *testing.T, golden, source string, data []byte) {
	t.Helper()
	cfg, _ := testConfig(t)
	pl, err := Compile(load(t, source, data, cfg), cfg)
	if err != nil {
		t.Fatalf("compile %s: %v", source, err)
	}
	defer pl.Close()
	var b bytes.Buffer
	b.WriteString("Plan of " + source + " (built-in kernels, default 512×512 frame).\n")
	b.WriteString("Regenerate with UPDATE_GOLDEN=1 go test ./compiler/ -run Golden.\n")
	b.WriteString("-- plan --\n" + pl.String())
	b.WriteString("-- explain --\n" + pl.Explain())
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("plan of %s differs from %s (UPDATE_GOLDEN=1 rewrites it):\n%s", source, golden, b.String())
	}
}

func exampleWorkflows(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join("..", "workflows", "*.json"))
	ui, _ := filepath.Glob(filepath.Join("..", "workflows", "ui", "*.json"))
	files = append(files, ui...)
	if len(files) == 0 {
		t.Fatal("no example workflows")
	}
	return files
}

func TestGolden_Examples(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	for _, f := range exampleWorkflows(t) {
		rel, _ := filepath.Rel(filepath.Join("..", "workflows"), f)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if missing := missingKernels(t, f, data, cfg); len(missing) > 0 {
				t.Skipf("kernels not registered yet: %v", missing)
			}
			if m := needsModels(load(t, f, data, cfg), cfg); len(m) > 0 {
				t.Skipf("no ONNX Runtime library or models folder for %v (run scripts/setup.sh)", m)
			}
			checkGolden(t, goldenName("workflows", rel), "workflows/"+filepath.ToSlash(rel), data)
		})
	}
}

func TestGolden_Corpus(t *testing.T) {
	t.Parallel()
	dir := testkit.CorpusDir(t)
	for _, rel := range goldenCorpus {
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Skipf("corpus file missing: %v", err)
			}
			checkGolden(t, goldenName("corpus", rel), "corpus/"+rel, data)
		})
	}
}

// missingKernels returns the classes of a workflow that Check reports as
// missing_node_implementation (kernels another package has yet to add).
func missingKernels(t *testing.T, name string, data []byte, cfg Config) []string {
	t.Helper()
	_, diags := Check(load(t, name, data, cfg), cfg)
	var out []string
	for _, d := range diags {
		if d.Code == diag.MissingNodeImplementation && !slices.Contains(out, d.ClassType) {
			out = append(out, d.ClassType)
		}
	}
	return out
}

// TestExamplesCompile: every workflow in workflows/ compiles and runs one
// frame (those whose classes have no kernel yet are skipped by name).
func TestExamplesCompile(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	cfg.Width, cfg.Height = 64, 64
	for _, f := range exampleWorkflows(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if missing := missingKernels(t, f, data, cfg); len(missing) > 0 {
				t.Skipf("kernels not registered yet: %v", missing)
			}
			if m := needsModels(load(t, f, data, cfg), cfg); len(m) > 0 {
				t.Skipf("no ONNX Runtime library or models folder for %v (run scripts/setup.sh)", m)
			}
			c := cfg
			c.InputDir = filepath.Dir(f)
			pl, err := Compile(load(t, f, data, c), c)
			if err != nil {
				t.Fatal(err)
			}
			defer pl.Close()
			if err := pl.RunFrame(rampFrame(64, 64)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCorpusSweep compiles every corpus workflow with the built-in kernels
// and the corpus's schemas, and checks that the golden list is exactly the
// set that compiles among the real-time folders.
func TestCorpusSweep(t *testing.T) {
	t.Parallel()
	dir := testkit.CorpusDir(t)
	cfg, _ := testConfig(t)
	s := schema.NewSet()
	for _, f := range testkit.CorpusObjectInfo(t) {
		fs, err := schema.LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s.Merge(fs)
	}
	s.Merge(cfg.Schemas) // built-ins win: they are what the kernels implement
	cfg.Schemas = s
	var compiled []string
	for _, rel := range testkit.CorpusWorkflows(t) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			continue
		}
		p, ok := tryLoad(rel, data, cfg)
		if !ok {
			continue
		}
		pl, err := Compile(p, cfg)
		if err != nil {
			t.Logf("%s: %v", rel, firstLine(err))
			continue
		}
		pl.Close()
		compiled = append(compiled, filepath.ToSlash(rel))
	}
	t.Logf("compiled: %v", compiled)
	for _, g := range goldenCorpus {
		if !slices.Contains(compiled, g) {
			t.Errorf("%s does not compile", g)
		}
	}
}

func tryLoad(name string, data []byte, cfg Config) (*graph.Prompt, bool) {
	wf, diags := graph.Load(name, data, graph.Options{Schemas: cfg.Schemas})
	if wf.Prompt == nil || diags.HasErrors() {
		return nil, false
	}
	return wf.Prompt, true
}

func firstLine(err error) string {
	if l, ok := err.(diag.List); ok && len(l) > 0 {
		var parts []string
		for _, d := range l {
			if d.Severity == diag.Error {
				parts = append(parts, d.Error())
			}
		}
		if len(parts) > 3 {
			parts = append(parts[:3], "…")
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}
