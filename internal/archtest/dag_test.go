package archtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
)

const module = "comfyrt"

// allowed lists, for each project package (a "/..." suffix covers the
// subtree), the project packages it may import directly. Rules are on
// direct imports, as DESIGN.md states them ("executor imports compiler
// (Plan only), never graph"): a package reaches what its allowed imports
// reach (compiler brings graph along) without importing it itself.
// internal/jsonx and internal/spell are shared leaves anyone may use.
// Every package must match a rule: a new package needs one.
var allowed = []struct {
	pkg   string
	may   []string
	cause string
}{
	{"graph/diag", nil, "leaf: diagnostics know nothing else"},
	{"nodes/value", nil, "leaf: runtime values"},
	{"nodes/schema", nil, "the object_info model is independent of workflow syntax"},
	{"graph", []string{"graph/diag", "nodes/schema"}, "syntax and conversion: no kernels, compiler or executor"},
	{"graph/validate", []string{"graph", "graph/diag", "nodes/schema"}, "validation needs the prompt and schemas only"},
	{"compiler/engine", []string{"nodes/value"}, "narrow engine interface"},
	{"compiler/engine/...", []string{"compiler/engine", "nodes/value"}, "engine implementations"},
	{"nodes", []string{"graph/diag", "nodes/schema", "nodes/value", "compiler/engine"}, "kernel interface and registry"},
	{"nodes/...", []string{"graph/diag", "nodes", "nodes/schema", "nodes/value", "compiler/engine"}, "kernels: never graph, compiler or executor"},
	{"compiler", []string{"graph", "graph/diag", "graph/validate", "nodes", "nodes/schema", "nodes/value", "compiler/engine"}, "compiler: never executor, streampack or a cgo engine"},
	{"compiler/...", []string{"graph", "graph/diag", "graph/validate", "nodes", "nodes/schema", "nodes/value", "compiler", "compiler/engine"}, "compiler internals"},
	{"executor/media", []string{"nodes/value"}, "media interfaces"},
	{"executor/media/...", []string{"executor/media", "nodes/value"}, "media back ends"},
	{"executor", []string{"compiler", "compiler/engine", "nodes", "nodes/schema", "nodes/value", "executor/media", "graph/diag"}, "executor works on plans, never on graph"},
	{"executor/...", []string{"executor", "executor/media", "compiler", "compiler/engine", "nodes", "nodes/schema", "nodes/value", "graph/diag"}, "executor internals"},
	{"streampack", []string{"nodes", "nodes/schema", "nodes/value", "graph/diag", "compiler/engine"}, "packs: never compiler or executor"},
	{"streampack/...", []string{"streampack", "nodes", "nodes/schema", "nodes/value", "graph/diag", "compiler/engine"}, "pack internals"},
	{"internal/...", nil, "shared leaves"},
	{"cmd/...", []string{"*"}, "wiring: may import everything"},
	{"workflows", []string{"*"}, "examples test package"},
}

// confined lists third-party imports that only one package may use.
var confined = map[string][]string{
	"github.com/tetratelabs/wazero":   {"streampack/..."},
	"github.com/asticode/go-astiav":   {"executor/media/av"},
	"github.com/yalue/onnxruntime_go": {"compiler/engine/ort"},
}

// cgoOwners are the only packages with cgo files.
var cgoOwners = []string{"executor/media/av", "compiler/engine/ort"}

type pkgInfo struct {
	ImportPath string
	Imports    []string
	Deps       []string
	CgoFiles   []string
}

func listPackages(t *testing.T, env ...string) []pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = testkit.Root()
	cmd.Env = append(cmd.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(&out)
	for dec.More() {
		var p pkgInfo
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// matches reports whether pkg matches pattern, where "x/..." covers x and
// its subtree (as go list patterns do).
func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pattern == pkg
}

func ruleFor(pkg string) (int, bool) {
	for i, r := range allowed {
		if matches(r.pkg, pkg) {
			return i, true
		}
	}
	return 0, false
}

func TestImportDirection(t *testing.T) {
	for _, p := range listPackages(t) {
		name, ok := rel(p.ImportPath)
		if !ok || name == "" {
			continue
		}
		i, ok := ruleFor(name)
		if !ok {
			t.Errorf("package %s has no import rule in internal/archtest: add one (DESIGN.md layout)", name)
			continue
		}
		r := allowed[i]
		for _, d := range p.Imports {
			dep, ok := rel(d)
			if !ok || strings.HasPrefix(dep, "internal/") {
				continue
			}
			okDep := false
			for _, m := range r.may {
				if m == "*" || m == dep {
					okDep = true
				}
			}
			if !okDep {
				t.Errorf("forbidden import: %s depends on %s (%s)", name, dep, r.cause)
			}
		}
	}
}

func TestNativeConfinement(t *testing.T) {
	for _, p := range listPackages(t) {
		name, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			for lib, owners := range confined {
				if imp != lib && !strings.HasPrefix(imp, lib+"/") {
					continue
				}
				ok := false
				for _, o := range owners {
					ok = ok || matches(o, name) || o == name
				}
				if !ok {
					t.Errorf("%s imports %s; only %v may", name, lib, owners)
				}
			}
		}
		if len(p.CgoFiles) > 0 {
			ok := false
			for _, o := range cgoOwners {
				ok = ok || o == name
			}
			if !ok {
				t.Errorf("%s has cgo files %v; cgo is confined to %v", name, p.CgoFiles, cgoOwners)
			}
		}
	}
}

// TestNoCgoBuild: every package builds without cgo (the native packages
// have stubs), so graph, compiler and executor tests run anywhere.
func TestNoCgoBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole module")
	}
	cmd := exec.Command("go", "build", "./...")
	cmd.Dir = testkit.Root()
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./...: %v\n%s", err, out)
	}
}
