package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// testOnlySymbols are test scaffolding that lives, for now, inside a
// production package: only _test.go files (and the package itself) may
// use them, and test-only packages. Today: the trickle test server, which
// internal/trickle/trickletest wraps as an orchestrator's channels for the
// live, server and CLI tests.
var testOnlySymbols = map[string][]string{
	module + "/internal/trickle": {"NewServer", "Server", "ServerConfig"},
}

// testOnlyUses returns the uses of testOnlySymbols in the Go file src.
func testOnlyUses(t *testing.T, name string, src any) []string {
	t.Helper()
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	local := map[string][]string{} // local package name → its test-only symbols
	for _, im := range af.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		syms, ok := testOnlySymbols[p]
		if !ok {
			continue
		}
		n := path.Base(p)
		if im.Name != nil {
			n = im.Name.Name
		}
		local[n] = syms
	}
	if len(local) == 0 {
		return nil
	}
	var uses []string
	ast.Inspect(af, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && slices.Contains(local[x.Name], sel.Sel.Name) {
			uses = append(uses, fset.Position(sel.Pos()).String()+": "+x.Name+"."+sel.Sel.Name)
		}
		return true
	})
	return uses
}

// TestTestOnlySymbols: no production file uses the test scaffolding that
// testOnlySymbols lists.
func TestTestOnlySymbols(t *testing.T) {
	root := repoRoot(t)
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		if r, err := filepath.Rel(root, filepath.Dir(p)); err == nil {
			pkg := filepath.ToSlash(r)
			if testOnlySymbols[module+"/"+pkg] != nil || isTestOnly(pkg) {
				return nil // the package itself, or test scaffolding (internal/trickle/trickletest)
			}
		}
		n++
		for _, u := range testOnlyUses(t, p, nil) {
			t.Errorf("%s: test scaffolding used by production code (only _test.go files may)", u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("walked only %d Go files", n)
	}
	src := "package x\nimport tr \"comfyrt/internal/trickle\"\nvar s *tr.Server\nvar c = tr.NewClient(tr.Options{})\nfunc f() { tr.NewServer(tr.ServerConfig{}) }\n"
	if got := testOnlyUses(t, "x.go", src); len(got) != 3 {
		t.Errorf("testOnlyUses on a file using the trickle server = %q, want 3 uses", got)
	}
}
