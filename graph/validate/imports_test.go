package validate

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces doc.go: no kernels (nodes), compiler, executor,
// streampack, cgo or wazero.
func TestImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			bad := p == "C" || strings.Contains(p, "wazero") ||
				(strings.HasPrefix(p, "comfyrt/nodes") && p != "comfyrt/nodes/schema")
			for _, pre := range []string{"comfyrt/compiler", "comfyrt/executor", "comfyrt/streampack"} {
				bad = bad || strings.HasPrefix(p, pre)
			}
			if bad {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
