package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// codesOutsideDiag returns the diagnostic codes that file src (parsed as
// name) makes outside graph/diag: constants or variables of type diag.Code
// set from a string literal, and conversions diag.Code(...) — every code lives in graph/diag, where
// AllCodes lists it for the fixture test.
func codesOutsideDiag(t *testing.T, name string, src any) []string {
	t.Helper()
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	isDiagCode := func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Code" {
			return false
		}
		x, ok := sel.X.(*ast.Ident)
		return ok && x.Name == "diag"
	}
	var bad []string
	ast.Inspect(af, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			if n.Type == nil || !isDiagCode(n.Type) {
				break
			}
			for i, v := range n.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					bad = append(bad, fset.Position(n.Pos()).String()+": "+n.Names[i].Name+" diag.Code = "+lit.Value)
				}
			}
		case *ast.CallExpr:
			if isDiagCode(n.Fun) {
				bad = append(bad, fset.Position(n.Pos()).String()+": diag.Code(...) conversion")
			}
		}
		return true
	})
	return bad
}

// TestCodesLiveInDiag: no production file outside graph/diag defines a
// diagnostic code.
func TestCodesLiveInDiag(t *testing.T) {
	root := repoRoot(t)
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "diag" && filepath.Base(filepath.Dir(path)) == "graph") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n++
		for _, b := range codesOutsideDiag(t, path, nil) {
			t.Errorf("%s: codes live in graph/diag (declare it there and add it to AllCodes)", b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("walked only %d Go files", n)
	}
	bad := codesOutsideDiag(t, "x.go", "package x\nimport \"comfyrt/graph/diag\"\nconst A diag.Code = \"a\"\nvar b = diag.Code(\"b\")\nvar ok diag.Code = diag.PlanTooLarge\n")
	if len(bad) != 2 {
		t.Errorf("codesOutsideDiag on a file declaring two codes = %q", bad)
	}
}
