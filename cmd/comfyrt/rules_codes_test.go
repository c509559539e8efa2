package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/graph/diag"
	"comfyrt/internal/testkit"
)

// Every diagnostic code has a fixture that produces it through the built
// binary: testdata/diag/<code>.txtar (validation codes, whose exact output
// graph/validate's golden test also checks) or testdata/diag/<way>/<code>.txtar
// (load: graph.Load's codes; compile: the compiler's; serve: the HTTP
// server's). Each fixture's files are written to a folder and, per the
// comment before the first file,
//
//	comfyrt: ARGS...       runs `comfyrt ARGS...` there (default:
//	                       validate [--object-info object_info.json] workflow.json)
//	post: PATH FILE        starts `comfyrt serve` and POSTs FILE to PATH
//
// and the code must be reported: as "…: <code>: …" in the command's
// diagnostics, or as a "type" in the server's JSON answer. Sections under
// out/ are golden outputs, not written.

// neverReported are ComfyUI's types that comfyrt never reports (it has no
// custom VALIDATE_INPUTS and its validation does not throw), kept in
// graph/diag for wire compatibility. They need no fixture as long as no
// production code outside graph/diag names them.
var neverReported = map[diag.Code]string{
	diag.CustomValidationFailed:         "CustomValidationFailed",
	diag.ExceptionDuringValidation:      "ExceptionDuringValidation",
	diag.ExceptionDuringInnerValidation: "ExceptionDuringInnerValidation",
}

type codeFixture struct {
	comment string
	files   []struct {
		name string
		data []byte
	}
}

// parseCodeFixture reads the txtar layout: a comment, then files
// introduced by lines "-- name --".
func parseCodeFixture(data []byte) *codeFixture {
	f := &codeFixture{}
	var comment strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			f.files = append(f.files, struct {
				name string
				data []byte
			}{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			continue
		}
		if len(f.files) == 0 {
			comment.WriteString(line)
		} else {
			last := &f.files[len(f.files)-1]
			last.data = append(last.data, line...)
		}
	}
	f.comment = comment.String()
	return f
}

func (f *codeFixture) directive(key string) (string, bool) {
	for _, line := range strings.Split(f.comment, "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// findCodeFixture returns the one fixture of code, or "".
func findCodeFixture(t *testing.T, dir string, code diag.Code) string {
	t.Helper()
	var found []string
	for _, pat := range []string{filepath.Join(dir, string(code)+".txtar"), filepath.Join(dir, "*", string(code)+".txtar")} {
		m, _ := filepath.Glob(pat)
		found = append(found, m...)
	}
	if len(found) > 1 {
		t.Fatalf("code %s has several fixtures: %v", code, found)
	}
	if len(found) == 0 {
		return ""
	}
	return found[0]
}

// jsonTypes collects the values of every "type" member in v.
func jsonTypes(v any, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "type" {
				out[s] = true
			}
			jsonTypes(x, out)
		}
	case []any:
		for _, x := range v {
			jsonTypes(x, out)
		}
	}
}

func TestRules_EveryCodeHasFixture(t *testing.T) {
	root := testkit.Root()
	dir := filepath.Join(root, "testdata", "diag")
	for _, code := range diag.AllCodes() {
		t.Run(string(code), func(t *testing.T) {
			path := findCodeFixture(t, dir, code)
			if name, ok := neverReported[code]; ok {
				if path != "" {
					t.Fatalf("%s has a fixture (%s): remove it from neverReported", code, path)
				}
				checkNeverReported(t, root, code, name)
				return
			}
			if path == "" {
				t.Fatalf("no fixture for %s: add testdata/diag/[WAY/]%s.txtar that produces it", code, code)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fx := parseCodeFixture(data)
			work := t.TempDir()
			hasObjectInfo := false
			for _, f := range fx.files {
				if strings.HasPrefix(f.name, "out/") {
					continue
				}
				hasObjectInfo = hasObjectInfo || f.name == "object_info.json"
				if err := os.WriteFile(filepath.Join(work, f.name), f.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if post, ok := fx.directive("post"); ok {
				urlPath, file, _ := strings.Cut(post, " ")
				body, err := os.ReadFile(filepath.Join(work, strings.TrimSpace(file)))
				if err != nil {
					t.Fatalf("%s: post: %v", path, err)
				}
				checkServeReports(t, urlPath, body, code)
				return
			}
			args := []string{"validate"}
			if hasObjectInfo {
				args = append(args, "--object-info", "object_info.json")
			}
			args = append(args, "workflow.json")
			if v, ok := fx.directive("comfyrt"); ok {
				args = strings.Fields(v)
			}
			res := testkit.Run(t, work, nil, 2*time.Minute, args...)
			out := res.Stdout + res.Stderr
			if !strings.Contains(out, ": "+string(code)+": ") {
				t.Errorf("comfyrt %s on %s (exit %d) does not report %s:\n%s", strings.Join(args, " "), path, res.Code, code, out)
			}
		})
	}
}

// checkServeReports POSTs body to comfyrt serve and wants code as a "type"
// in the JSON answer.
func checkServeReports(t *testing.T, urlPath string, body []byte, code diag.Code) {
	t.Helper()
	base, stop := startServe(t)
	defer stop()
	resp, err := http.Post(base+urlPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %v\n%s", urlPath, resp.StatusCode, err, b)
	}
	types := map[string]bool{}
	jsonTypes(v, types)
	if !types[string(code)] {
		t.Errorf("POST %s: %d does not report %s:\n%s", urlPath, resp.StatusCode, code, b)
	}
}

// checkNeverReported fails when a production file outside graph/diag names
// code (as diag.<name> or its wire string): then it needs a fixture.
func checkNeverReported(t *testing.T, root string, code diag.Code, name string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") || path == filepath.Join(root, "graph", "diag") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n++
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(src, []byte("diag."+name)) || bytes.Contains(src, []byte(`"`+string(code)+`"`)) {
			t.Errorf("%s reports %s: it needs a fixture (and to leave neverReported)", path, code)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("walked only %d Go files", n)
	}
}
