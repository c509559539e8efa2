package graph

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

// archive is a txtar archive: a comment, then files "-- name --".
type archive struct {
	Comment string
	Files   []archiveFile
}

type archiveFile struct {
	Name string
	Data string
}

// parseArchive reads the txtar format (golang.org/x/tools/txtar is not a
// dependency of this module).
func parseArchive(data string) *archive {
	a := &archive{}
	cur := -1
	var b strings.Builder
	flush := func() {
		if cur < 0 {
			a.Comment = b.String()
		} else {
			a.Files[cur].Data = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) >= 6 {
			flush()
			a.Files = append(a.Files, archiveFile{Name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			cur = len(a.Files) - 1
			continue
		}
		b.WriteString(line)
	}
	flush()
	return a
}

func (a *archive) format() string {
	var b strings.Builder
	b.WriteString(a.Comment)
	for _, f := range a.Files {
		b.WriteString("-- " + f.Name + " --\n")
		b.WriteString(f.Data)
		if f.Data != "" && !strings.HasSuffix(f.Data, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (a *archive) get(name string) (string, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return "", false
}

func (a *archive) set(name, data string) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, archiveFile{Name: name, Data: data})
}

// TestConvertGolden runs testdata/convert/*.txtar: each holds
// workflow.json (a UI workflow), optionally object_info.json (the schemas;
// none when absent), and the expected out/prompt.json, out/pointers and
// out/diagnostics. A "#strict" line in the comment converts with Strict.
// UPDATE_GOLDEN=1 rewrites the out/ sections.
func TestConvertGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "convert", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	update := os.Getenv("UPDATE_GOLDEN") != ""
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(string(raw))
			wf, ok := a.get("workflow.json")
			if !ok {
				t.Fatal("no workflow.json section")
			}
			opts := Options{Strict: strings.Contains(a.Comment, "#strict")}
			if oi, ok := a.get("object_info.json"); ok {
				set, err := schema.Parse([]byte(oi), "object_info.json")
				if err != nil {
					t.Fatalf("object_info.json: %v", err)
				}
				opts.Schemas = set
			}
			w, diags := Load(name, []byte(wf), opts)
			var prompt, pointers, dl string
			if w.Prompt != nil {
				out, err := jsonx.Marshal(w.Prompt.JSON(), "  ")
				if err != nil {
					t.Fatal(err)
				}
				prompt = string(out) + "\n"
				pointers = renderPointers(w.Prompt)
			}
			var b strings.Builder
			for _, d := range diags {
				b.WriteString("[" + d.Severity.String() + "] " + d.Pointer + " " + d.Pos() + " " + d.Error() + "\n")
			}
			dl = b.String()
			got := map[string]string{"out/prompt.json": prompt, "out/pointers": pointers, "out/diagnostics": dl}
			if update {
				for _, k := range []string{"out/prompt.json", "out/pointers", "out/diagnostics"} {
					a.set(k, got[k])
				}
				if err := os.WriteFile(file, []byte(a.format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, k := range []string{"out/prompt.json", "out/pointers", "out/diagnostics"} {
				want, _ := a.get(k)
				if !bytes.Equal([]byte(strings.TrimSpace(want)), []byte(strings.TrimSpace(got[k]))) {
					t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", k, got[k], want)
				}
			}
		})
	}
}

// renderPointers lists each node's pointer and its input pointers.
func renderPointers(p *Prompt) string {
	var b strings.Builder
	for _, n := range p.Nodes {
		b.WriteString(n.ID + " " + n.Pointer + "\n")
		names := make([]string, 0, len(n.Inputs))
		for _, in := range n.Inputs {
			names = append(names, in.Name)
		}
		sort.Strings(names)
		for _, name := range names {
			b.WriteString("  " + name + " " + n.PointerTo(name) + "\n")
		}
	}
	return b.String()
}

func TestArchiveRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"comment only", "hello\n"},
		{"files", "c\n-- a --\nx\n-- b/c --\ny\nz\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseArchive(tc.in).format(); got != tc.in {
				t.Errorf("got %q, want %q", got, tc.in)
			}
		})
	}
}
