package diag

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAllCodes: AllCodes lists every Code constant declared in this
// package, once, in declaration order, and no two codes share a wire
// string; so a new code cannot be left out of the fixture test that
// iterates AllCodes.
func TestAllCodes(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	var declared []Code
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range af.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok {
						t.Fatalf("%s: Code constant %s is not a string literal", f, vs.Names[0])
					}
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, Code(s))
				}
			}
		}
	}
	if len(declared) < 20 {
		t.Fatalf("found only %d Code constants: the parse is broken", len(declared))
	}
	all := AllCodes()
	seen := map[Code]bool{}
	for _, c := range all {
		if seen[c] {
			t.Errorf("AllCodes lists %s twice", c)
		}
		seen[c] = true
	}
	for _, c := range declared {
		if !seen[c] {
			t.Errorf("code %s is declared but not in AllCodes", c)
		}
	}
	if !slices.Equal(all, declared) {
		t.Errorf("AllCodes order %v differs from the declaration order %v", all, declared)
	}
	if !slices.Equal(all, AllCodes()) {
		t.Error("AllCodes is not stable")
	}
}
