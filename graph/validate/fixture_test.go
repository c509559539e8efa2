package validate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

// The fixtures are testdata/diag/*.txtar at the repository root (the
// validation codes' fixtures; cmd/comfyrt's TestRules_EveryCodeHasFixture runs
// one fixture per diag.AllCodes() code through the binary). Each holds
//
//	-- workflow.json --           an API-format prompt
//	-- object_info.json --        the object_info excerpt it needs
//	-- out/diagnostics --         Validate's Diags, rendered by renderDiags
//	-- out/comfy_response.json -- Result.Response()
//	-- out/prompt.json --         (optional) the prompt after write-back
//
// and, in the comment before the first file, optional lines
// "partial_execution_targets: 9,10". UPDATE_GOLDEN=1 rewrites the out/
// sections.

type archive struct {
	comment string
	files   []archiveFile
}

type archiveFile struct {
	name string
	data []byte
}

// parseTxtar reads the txtar format: a comment, then files introduced by
// lines "-- name --".
func parseTxtar(data []byte) *archive {
	a := &archive{}
	var cur *archiveFile
	var comment strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			a.files = append(a.files, archiveFile{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			cur = &a.files[len(a.files)-1]
			continue
		}
		if cur == nil {
			comment.WriteString(line)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	a.comment = comment.String()
	return a
}

func (a *archive) format() []byte {
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(f.data)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func (a *archive) get(name string) ([]byte, bool) {
	for _, f := range a.files {
		if f.name == name {
			return f.data, true
		}
	}
	return nil, false
}

func (a *archive) set(name string, data []byte) {
	for i := range a.files {
		if a.files[i].name == name {
			a.files[i].data = data
			return
		}
	}
	a.files = append(a.files, archiveFile{name, data})
}

// renderDiags renders diagnostics one per line, with the JSON pointer, the
// dependent outputs and the hint on indented lines.
func renderDiags(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		fmt.Fprintf(&b, "%s %s\n", d.Severity, d.Error())
		if d.Pointer != "" {
			fmt.Fprintf(&b, "  at %s", d.Pointer)
			if pos := d.Pos(); pos != "" {
				fmt.Fprintf(&b, " (%s)", pos)
			}
			b.WriteByte('\n')
		}
		if len(d.DependentOutputs) > 0 {
			fmt.Fprintf(&b, "  dependent_outputs: %s\n", strings.Join(d.DependentOutputs, ", "))
		}
	}
	return b.String()
}

func marshalIndent(t testing.TB, v any) []byte {
	t.Helper()
	b, err := jsonx.Marshal(v, "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func fixtureDir() string { return filepath.Join(testkit.Root(), "testdata", "diag") }

type fixtureRun struct {
	res    *Result
	prompt *graph.Prompt
	diags  string
	resp   []byte
}

func runFixture(t *testing.T, a *archive) *fixtureRun {
	t.Helper()
	wf, ok := a.get("workflow.json")
	if !ok {
		t.Fatal("no workflow.json")
	}
	oi, ok := a.get("object_info.json")
	if !ok {
		t.Fatal("no object_info.json")
	}
	s, err := schema.Parse(oi, "object_info.json")
	if err != nil {
		t.Fatal(err)
	}
	w, ds := graph.Load("workflow.json", wf, graph.Options{Schemas: s})
	if ds.HasErrors() {
		t.Fatalf("load: %v", ds)
	}
	var opts Options
	for _, line := range strings.Split(a.comment, "\n") {
		if v, ok := strings.CutPrefix(line, "partial_execution_targets:"); ok {
			opts.PartialExecutionTargets = []string{}
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					opts.PartialExecutionTargets = append(opts.PartialExecutionTargets, id)
				}
			}
		}
	}
	res := Validate(w.Prompt, s, opts)
	graph.Locate(wf, res.Diags)
	return &fixtureRun{res: res, prompt: w.Prompt, diags: renderDiags(res.Diags), resp: marshalIndent(t, res.Response())}
}

func TestFixtures(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir(), "*.txtar"))
	if len(paths) == 0 {
		t.Fatal("no fixtures under testdata/diag")
	}
	update := os.Getenv("UPDATE_GOLDEN") != ""
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a := parseTxtar(data)
			r := runFixture(t, a)
			outs := map[string][]byte{
				"out/diagnostics":         []byte(r.diags),
				"out/comfy_response.json": r.resp,
			}
			if _, ok := a.get("out/prompt.json"); ok {
				outs["out/prompt.json"] = marshalIndent(t, r.prompt.JSON())
			}
			names := make([]string, 0, len(outs))
			for n := range outs {
				names = append(names, n)
			}
			sort.Strings(names)
			if update {
				for _, n := range names {
					a.set(n, outs[n])
				}
				if err := os.WriteFile(path, a.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, n := range names {
				want, ok := a.get(n)
				if !ok {
					t.Errorf("missing section %s; run with UPDATE_GOLDEN=1", n)
					continue
				}
				if got := outs[n]; !bytes.Equal(got, want) {
					t.Errorf("%s mismatch:\n--- got\n%s--- want\n%s", n, got, want)
				}
			}
			// Rendering is deterministic: a second run gives the same bytes.
			r2 := runFixture(t, a)
			if r2.diags != r.diags || !bytes.Equal(r2.resp, r.resp) {
				t.Error("second run differs")
			}
		})
	}
}
