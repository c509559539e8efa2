package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// This file is the one copy of the project's architecture rules (DESIGN.md
// §Layout). Each project package matches the first row of rules whose
// pattern covers it ("x/..." covers x and its subtree); a package no row
// covers fails, so a new package needs a decision. Rows may name packages
// that do not exist (yet, or any more): they match nothing and check
// nothing.
//
// A row states
//   - kind: a library, a command (package main), a test-only package
//     (imported only by _test.go files, other test-only packages and tools),
//     or a tool (a helper program beside tests or examples, which may use
//     test-only packages);
//   - may: the project packages its production files may import directly
//     (the shared leaves internal/jsonx and internal/spell are open to
//     every package; "*" allows any production package);
//   - never: the project packages its production build must never reach,
//     directly or through others (go list -deps) — DESIGN.md's "never";
//   - tests: the project packages its _test.go files may import beyond
//     may, the package itself and the test-only packages.
//
// Beside the rows: unsafe, cgo and every third-party module are confined to
// the packages listed in unsafeOwners, cgoOwners and thirdParty.

type kind int

const (
	lib      kind = iota // production library
	command              // package main: wiring, may import every production package
	testOnly             // test scaffolding: never in a production build
	tool                 // helper program (not shipped): may use test-only packages
)

type rule struct {
	pkg   string
	kind  kind
	may   []string
	never []string
	tests []string
	cause string
}

// Groups of patterns the rows share.
var (
	// shared leaves any package may import.
	shared = []string{"internal/jsonx", "internal/spell"}
	// cgo packages: only commands (and their own tests) pick them.
	cgoPkgs = []string{"executor/media/av", "nodes/engine/ort"}
	// above the executor: live streams, the HTTP server, the runners.
	upper = []string{"executor/live", "executor/stream", "internal/server", "internal/bench", "internal/wftest", "internal/videorun", "cmd/..."}
	// the engine interface, before and after its move out of compiler/.
	engineIface = []string{"nodes/engine"}
	// what graph and its subpackages never reach: kernels, engines,
	// compiler, executor, packs and anything above them.
	graphNever = cat([]string{"nodes", "nodes/value", "nodes/builtin", "nodes/engine/...", "compiler/...", "executor/...", "streampack/..."}, upper)
	// what kernels and engines never reach: workflow syntax and validation,
	// the compiler, the executor, packs, cgo and anything above.
	nodesNever = cat([]string{"graph", "graph/validate", "compiler", "executor/...", "streampack/..."}, cgoPkgs, upper)
)

var rules = []rule{
	{pkg: "graph/diag", never: []string{"*"}, cause: "leaf: diagnostics know nothing else"},
	{pkg: "nodes/value", never: []string{"*"}, cause: "leaf: runtime values"},
	{pkg: "nodes/schema", never: cat([]string{"graph/...", "nodes", "nodes/value", "nodes/builtin", "nodes/engine/...", "compiler/...", "executor/...", "streampack/..."}, upper),
		cause: "the object_info model is independent of workflow syntax"},

	{pkg: "graph", may: []string{"graph/diag", "nodes/schema"}, never: graphNever, cause: "workflow syntax and conversion: no kernels, compiler or executor"},
	{pkg: "graph/validate", may: []string{"graph", "graph/diag", "nodes/schema"}, never: graphNever, cause: "validation needs the prompt and schemas only"},
	{pkg: "graph/...", may: []string{"graph", "graph/diag", "nodes/schema"}, never: graphNever, cause: "workflow syntax"},

	{pkg: "nodes/engine", may: []string{"nodes/value"}, never: nodesNever, tests: []string{"nodes/engine/fake"}, cause: "narrow engine interface"},
	{pkg: "nodes/engine/ort", may: []string{"nodes/engine", "nodes/value"}, never: cat([]string{"graph", "graph/validate", "compiler", "executor/...", "streampack/..."}, upper),
		cause: "the only onnxruntime_go code"},
	{pkg: "nodes/engine/...", may: []string{"nodes/engine", "nodes/value"}, never: nodesNever, cause: "engine implementations (the fake)"},

	{pkg: "nodes/diffusion/torchrand", never: []string{"*"}, cause: "leaf: PyTorch's CPU generator (manual_seed, randn, rand)"},
	{pkg: "nodes/diffusion/sampling", may: []string{"nodes/diffusion/torchrand"}, never: nodesNever,
		cause: "ComfyUI's model sampling, schedulers and sampler steps over []float32: no kernels, values or engines"},
	{pkg: "nodes/diffusion/streamdiff", may: []string{"nodes/diffusion/torchrand"}, never: nodesNever,
		cause: "StreamDiffusion's stream (LCM t_index schedule, denoising batch, residual CFG, similar-image filter) over []float32: no kernels, values or engines"},
	{pkg: "nodes/diffusion/clip", never: []string{"*"}, cause: "leaf: CLIP BPE tokenizer, ComfyUI prompt weighting and chunking, the weighting math (pure Go)"},
	{pkg: "nodes/known", may: []string{"nodes/schema", "nodes/builtin"}, never: nodesNever,
		cause: "every known schema (ComfyUI core table, custom packs, built-in): data, no workflows"},
	{pkg: "nodes/known/gen", kind: tool, may: []string{"nodes/schema"}, cause: "generates the core table from an object_info dump (go generate)"},
	{pkg: "nodes", may: cat([]string{"graph/diag", "nodes/schema", "nodes/value"}, engineIface), never: nodesNever, cause: "kernel interface and registry"},
	{pkg: "nodes/diffusion/sdmodel", may: cat([]string{"nodes/value"}, engineIface), never: nodesNever,
		tests: []string{"nodes/engine/..."}, cause: "Stable Diffusion ONNX exports: layout, configs, part signatures"},
	{pkg: "nodes/builtin", may: cat([]string{"graph/diag", "nodes", "nodes/schema", "nodes/value", "nodes/diffusion/sdmodel",
		"nodes/diffusion/clip", "nodes/diffusion/sampling", "nodes/diffusion/streamdiff", "nodes/diffusion/torchrand"}, engineIface), never: nodesNever,
		tests: []string{"nodes/engine/..."}, cause: "built-in kernels; the SD nodes read exports through sdmodel, prompts through clip, sample through sampling"},
	{pkg: "nodes/...", may: cat([]string{"graph/diag", "nodes", "nodes/schema", "nodes/value"}, engineIface), never: nodesNever,
		tests: []string{"nodes/engine/..."}, cause: "kernels: never graph, compiler or executor; engines are handed in"},

	{pkg: "compiler", may: cat([]string{"graph", "graph/diag", "graph/validate", "nodes", "nodes/schema", "nodes/value"}, engineIface),
		never: cat([]string{"executor/...", "streampack/..."}, cgoPkgs, upper),
		tests: []string{"nodes/builtin", "nodes/engine/..."}, cause: "compiler: never executor, streampack or a cgo engine"},
	{pkg: "compiler/...", may: cat([]string{"compiler", "graph", "graph/diag", "graph/validate", "nodes", "nodes/schema", "nodes/value"}, engineIface),
		never: cat([]string{"executor/...", "streampack/..."}, cgoPkgs, upper), cause: "compiler internals"},

	{pkg: "executor/media", may: []string{"nodes/value"}, never: cat([]string{"graph/...", "compiler/...", "nodes", "nodes/builtin", "executor", "streampack/..."}, cgoPkgs, upper),
		cause: "media interfaces"},
	{pkg: "executor/media/mpegts", never: []string{"*"}, cause: "leaf: MPEG-TS packets, PAT and PMT (the one TS parser of live and av)"},
	{pkg: "executor/media/av", may: []string{"executor/media", "executor/media/mpegts", "nodes/value"}, never: cat([]string{"graph/...", "compiler/...", "nodes", "nodes/builtin", "executor", "streampack/..."}, upper),
		cause: "the only go-astiav code"},
	{pkg: "executor/media/...", may: []string{"executor/media", "nodes/value"}, never: cat([]string{"graph/...", "compiler/...", "nodes", "nodes/builtin", "executor", "streampack/..."}, cgoPkgs, upper),
		cause: "media back ends"},
	{pkg: "executor/live", may: []string{"executor", "executor/media", "executor/media/av", "executor/media/mpegts", "executor/stream", "compiler", "graph", "graph/diag", "nodes", "nodes/value", "internal/trickle"},
		never: []string{"streampack/...", "internal/server", "internal/bench", "internal/wftest", "cmd/..."},
		tests: []string{"*"}, cause: "live streams: load workflows (graph, compiler) and run them on the executor; the server sits above"},
	{pkg: "executor/stream", may: cat([]string{"executor", "executor/media", "executor/media/av", "compiler", "graph/diag", "nodes", "nodes/value"}, engineIface),
		never: []string{"streampack/...", "executor/live", "internal/server", "internal/bench", "internal/wftest", "cmd/..."},
		tests: []string{"*"}, cause: "stream assembly: source + executor + sink from a plan, never from a workflow (graph only through compiler)"},
	{pkg: "executor", may: cat([]string{"compiler", "nodes", "nodes/schema", "nodes/value", "executor/media", "graph/diag"}, engineIface),
		never: cat([]string{"streampack/..."}, cgoPkgs, upper),
		tests: []string{"graph", "nodes/builtin"}, cause: "executor works on plans, never on graph"},
	{pkg: "executor/...", may: cat([]string{"executor", "executor/media", "compiler", "nodes", "nodes/schema", "nodes/value", "graph/diag"}, engineIface),
		never: cat([]string{"streampack/..."}, cgoPkgs, upper), cause: "executor internals"},

	{pkg: "streampack", may: cat([]string{"nodes", "nodes/schema", "nodes/value", "graph/diag"}, engineIface),
		never: cat([]string{"graph", "graph/validate", "compiler", "executor/..."}, cgoPkgs, upper),
		tests: []string{"nodes/builtin"}, cause: "packs: never compiler or executor"},
	{pkg: "streampack/example/...", kind: tool, may: []string{"streampack", "internal/onnxgen"}, cause: "example pack builder and guest"},
	{pkg: "streampack/...", may: cat([]string{"streampack", "nodes", "nodes/schema", "nodes/value", "graph/diag"}, engineIface),
		never: cat([]string{"graph", "graph/validate", "compiler", "executor/..."}, cgoPkgs, upper),
		tests: []string{"nodes/builtin"}, cause: "pack internals (the wazero runtime)"},

	// One row per internal package.
	{pkg: "internal/jsonx", never: []string{"*"}, cause: "shared leaf: JSON decoding with positions"},
	{pkg: "internal/spell", never: []string{"*"}, cause: "shared leaf: did-you-mean"},
	{pkg: "internal/trickle", never: []string{"*"}, cause: "trickle protocol client"},
	{pkg: "internal/trickle/...", kind: testOnly, may: []string{"internal/trickle"}, cause: "the trickle test server (trickletest: an orchestrator's channels for the live, server and CLI tests)"},
	{pkg: "internal/testkit", kind: testOnly, may: []string{"*"}, cause: "shared test scaffolding"},
	{pkg: "internal/testkit/...", kind: testOnly, may: []string{"*"}, cause: "shared test scaffolding"},
	{pkg: "internal/onnxgen", kind: testOnly, cause: "generates ONNX test models"},
	{pkg: "internal/archtest", kind: testOnly, cause: "these rules (test files only)"},
	{pkg: "internal/metrics", may: []string{"executor"}, never: cat([]string{"streampack/..."}, cgoPkgs, upper),
		cause: "the Prometheus metric families of run and serve, read from executor.Stats snapshots"},
	{pkg: "internal/server", may: []string{"executor/live", "internal/metrics", "compiler", "graph", "graph/diag", "graph/validate", "nodes", "nodes/schema", "nodes/value", "internal/trickle"},
		never: []string{"streampack/...", "internal/bench", "internal/wftest", "cmd/..."},
		tests: []string{"*"}, cause: "HTTP contracts: streams through executor/live, /prompt and /object_info through compiler"},
	{pkg: "internal/preview", may: []string{"executor", "executor/media", "executor/media/av", "compiler", "graph", "graph/diag", "nodes/schema"},
		never: []string{"streampack/...", "executor/live", "internal/server", "internal/bench", "internal/wftest", "internal/videorun", "cmd/..."},
		tests: []string{"*"}, cause: "the browser preview: WHIP in, WHEP out (the only pion code), the page, workflow loads and parameter swaps on the executor"},
	{pkg: "internal/picture", may: []string{"nodes/builtin", "nodes/value"}, never: cat([]string{"graph", "graph/validate", "compiler", "executor/...", "streampack/..."}, upper),
		cause: "still pictures (PNG, JPEG) of run and test as tensors"},
	{pkg: "internal/membudget", never: []string{"*"}, cause: "leaf: byte sizes and the RAM, for the plan memory budget's default"},
	{pkg: "internal/videorun", may: []string{"*"}, never: []string{"internal/server", "executor/live", "internal/bench", "internal/wftest", "cmd/..."}, tests: []string{"*"},
		cause: "the comfyrt run logic on video: admission by input kind, stream assembly, status line, metrics, signals"},
	{pkg: "internal/bench/sdbench", may: []string{"*"}, never: []string{"internal/server", "executor/live", "executor/media/av", "internal/bench", "cmd/..."}, tests: []string{"*"},
		cause: "bench sd's logic, free of FFmpeg so that its GPU tool runs where FFmpeg's libraries are absent"},
	{pkg: "internal/bench/sdkit", kind: tool, may: []string{"*"}, never: []string{"executor/media/av"}, cause: "generated SD exports and bench sd without FFmpeg (scripts/gpu-sd.sh)"},
	{pkg: "internal/bench/stats", never: []string{"*"}, cause: "leaf: the statistics the benchmark suites share"},
	{pkg: "internal/bench", may: []string{"*"}, never: []string{"internal/server", "executor/live", "cmd/..."}, tests: []string{"*"}, cause: "the comfyrt bench logic"},
	{pkg: "internal/census", may: []string{"compiler", "graph", "graph/diag", "nodes/schema", "nodes/value"}, never: []string{"internal/server", "executor/live", "cmd/..."},
		tests: []string{"*"}, cause: "the corpus census (its test runs it)"},
	{pkg: "internal/wftest", may: []string{"*"}, never: []string{"internal/server", "executor/live", "cmd/..."}, tests: []string{"*"}, cause: "the comfyrt test logic (PSNR, JUnit)"},

	{pkg: "cmd/comfyrt", kind: command, may: []string{"*"}, tests: []string{"*"}, cause: "wiring: flag parsing and printing"},
	{pkg: "cmd/...", may: []string{"*"}, tests: []string{"*"}, cause: "the command's packages (moving out of cmd/)"},
	{pkg: "workflows", kind: testOnly, tests: []string{"*"}, cause: "example workflows: a test package"},
	{pkg: "", never: []string{"*"}, cause: "the module root: embedded files only"},
}

// unsafeOwners are the packages that may import unsafe (production or
// test files): the cgo seams and the WASM memory view.
var unsafeOwners = []string{"executor/media/av", "nodes/engine/ort", "streampack/wasmv1"}

// cgoOwners are the only packages with cgo files; each has a no-cgo stub.
var cgoOwners = cgoPkgs

// thirdParty lists every module the project imports, with the packages
// that may import it from production files and those that may from test
// files. A new module needs a row.
var thirdParty = []struct {
	module      string
	prod, tests []string
}{
	{"github.com/tetratelabs/wazero", []string{"streampack/..."}, nil},
	{"github.com/asticode/go-astiav", []string{"executor/media/av"}, nil},
	{"github.com/yalue/onnxruntime_go", []string{"nodes/engine/ort"}, nil},
	{"github.com/advancedclimatesystems/gonnx", []string{"internal/onnxgen"}, nil},
	{"google.golang.org/protobuf", []string{"internal/onnxgen"}, nil},
	{"github.com/bytedance/sonic", []string{"internal/jsonx"}, []string{"cmd/..."}},
	// Text drawing (TextRenderer): the Go fonts and their rasterizer.
	{"golang.org/x/image", []string{"nodes/builtin"}, nil},
	// Unicode NFC for the CLIP tokenizer (transformers normalises text).
	{"golang.org/x/text", []string{"nodes/diffusion/clip"}, nil},
	// Metrics: client_golang defines and serves them in internal/metrics
	// only; tests parse and lint the exposition (common's expfmt,
	// client_model's types, client_golang's testutil and promlint).
	// WebRTC (comfyrt preview): pion confined to internal/preview.
	{"github.com/pion/webrtc/v4", []string{"internal/preview"}, nil},
	{"github.com/pion/rtp", []string{"internal/preview"}, nil},
	{"github.com/pion/rtcp", []string{"internal/preview"}, nil},
	// The preview's real-browser test drives Chromium over the DevTools protocol.
	{"github.com/chromedp/chromedp", nil, []string{"internal/preview"}},
	{"github.com/prometheus/client_golang", []string{"internal/metrics"}, []string{"cmd/..."}},
	{"github.com/prometheus/common", nil, []string{"internal/metrics", "cmd/..."}},
	{"github.com/prometheus/client_model", nil, []string{"internal/metrics", "cmd/..."}},
}

func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

const module = "comfyrt"

type pkgInfo struct {
	ImportPath   string
	Name         string
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
	CgoFiles     []string
}

// listPackages runs go list -json on the module (transitive Deps included).
func listPackages(t *testing.T, env ...string) []pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = repoRoot(t)
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

// repoRoot is the module root: tests run in their package's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// rel returns path relative to the module ("" for the root package) and
// whether it is a project package.
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// matches reports whether pkg matches pattern, where "x/..." covers x and
// its subtree (as go list patterns do) and "*" covers every package.
func matches(pattern, pkg string) bool {
	if pattern == "*" {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pattern == pkg
}

func matchAny(patterns []string, pkg string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(p, pkg) })
}

func ruleFor(pkg string) (rule, bool) {
	for _, r := range rules {
		if matches(r.pkg, pkg) {
			return r, true
		}
	}
	return rule{}, false
}

// isTestOnly reports whether the project package pkg is test scaffolding.
func isTestOnly(pkg string) bool {
	r, ok := ruleFor(pkg)
	return ok && r.kind == testOnly
}

// thirdPartyModule returns the module row covering import path imp, or -1;
// std reports a standard-library (or pseudo) package.
func thirdPartyModule(imp string) (i int, std bool) {
	first, _, _ := strings.Cut(imp, "/")
	if !strings.Contains(first, ".") {
		return -1, true
	}
	for i, m := range thirdParty {
		if imp == m.module || strings.HasPrefix(imp, m.module+"/") {
			return i, false
		}
	}
	return -1, false
}

// check applies every rule to pkgs (go list -json output) and returns the
// violations, one line each.
func check(pkgs []pkgInfo) []string {
	var bad []string
	report := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	for _, p := range pkgs {
		name, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		r, ok := ruleFor(name)
		if !ok {
			report("package %s has no rule in internal/archtest: add one (DESIGN.md §Layout)", name)
			continue
		}
		if r.kind == command && p.Name != "main" {
			report("%s is a command row but package %s is not main", name, p.Name)
		}
		// Direct production imports.
		for _, imp := range p.Imports {
			dep, ok := rel(imp)
			if !ok || matchAny(shared, dep) {
				continue
			}
			switch {
			case isTestOnly(dep) && r.kind != testOnly && r.kind != tool:
				report("%s imports test-only %s: only tests, test scaffolding and tools may", name, dep)
			case r.kind == command || matchAny(r.may, dep):
			case r.kind == testOnly || r.kind == tool:
				if !isTestOnly(dep) {
					report("forbidden import: %s (%s) imports %s", name, r.cause, dep)
				}
			default:
				report("forbidden import: %s imports %s (%s)", name, dep, r.cause)
			}
		}
		// Transitive production deps.
		for _, d := range p.Deps {
			dep, ok := rel(d)
			if !ok {
				continue
			}
			if matchAny(r.never, dep) {
				report("%s reaches %s (go list -deps), which it must never: %s", name, dep, r.cause)
			}
			if r.kind != testOnly && r.kind != tool && isTestOnly(dep) && !slices.Contains(p.Imports, d) {
				report("%s reaches test-only %s through its imports (go list -deps)", name, dep)
			}
		}
		// Test imports.
		for _, imp := range cat(p.TestImports, p.XTestImports) {
			dep, ok := rel(imp)
			if !ok || dep == name || matchAny(shared, dep) || isTestOnly(dep) {
				continue
			}
			if !matchAny(r.may, dep) && !matchAny(r.tests, dep) {
				report("forbidden test import: %s's tests import %s (%s)", name, dep, r.cause)
			}
		}
		// unsafe, cgo and third-party modules.
		for _, set := range []struct {
			imps []string
			test bool
		}{{p.Imports, false}, {cat(p.TestImports, p.XTestImports), true}} {
			for _, imp := range set.imps {
				if imp == "unsafe" && !matchAny(unsafeOwners, name) {
					report("%s imports unsafe; only %v may", name, unsafeOwners)
				}
				i, std := thirdPartyModule(imp)
				switch {
				case std:
				case i < 0:
					report("%s imports %s, a module with no row in thirdParty", name, imp)
				case matchAny(thirdParty[i].prod, name), set.test && matchAny(thirdParty[i].tests, name):
				default:
					report("%s imports %s; only %v may (tests: %v)", name, imp, thirdParty[i].prod, thirdParty[i].tests)
				}
			}
		}
		if len(p.CgoFiles) > 0 && !matchAny(cgoOwners, name) {
			report("%s has cgo files %v; cgo is confined to %v", name, p.CgoFiles, cgoOwners)
		}
	}
	return bad
}

// TestRules checks the module's packages against the rules, with cgo (the
// native packages' cgo files) and without (their stubs).
func TestRules(t *testing.T) {
	for _, env := range [][]string{nil, {"CGO_ENABLED=0"}} {
		pkgs := listPackages(t, env...)
		if len(pkgs) < 10 {
			t.Fatalf("go list %v found only %d packages", env, len(pkgs))
		}
		for _, v := range check(pkgs) {
			t.Errorf("%v: %s", env, v)
		}
	}
}

// TestRulesCatch feeds check packages that break each kind of rule, so
// that a rule that stops checking fails here.
func TestRulesCatch(t *testing.T) {
	p := func(path string, imports, deps []string) pkgInfo {
		return pkgInfo{ImportPath: module + "/" + path, Name: filepath.Base(path), Imports: imports, Deps: deps}
	}
	c := func(s ...string) []string {
		out := make([]string, len(s))
		for i, x := range s {
			if strings.Contains(x, ".") || x == "unsafe" || x == "C" {
				out[i] = x
			} else {
				out[i] = module + "/" + x
			}
		}
		return out
	}
	tests := []struct {
		name string
		pkg  pkgInfo
		want string
	}{
		{"no rule", p("newtop/x", nil, nil), "has no rule"},
		{"direct", p("graph/validate", c("compiler"), c("compiler")), "forbidden import: graph/validate imports compiler"},
		{"transitive executor", p("graph", c("graph/diag"), c("graph/diag", "executor")), "graph reaches executor"},
		{"transitive kernels", p("nodes/builtin", c("nodes"), c("nodes", "graph/validate")), "nodes/builtin reaches graph/validate"},
		{"cgo engine from compiler", p("compiler", c("nodes"), c("nodes", "nodes/engine/ort")), "compiler reaches nodes/engine/ort"},
		{"executor never graph", p("executor", c("graph"), c("graph")), "forbidden import: executor imports graph"},
		{"diag leaf", p("graph/diag", nil, c("nodes/value")), "graph/diag reaches nodes/value"},
		{"prod imports testkit", p("executor/media", c("internal/testkit"), c("internal/testkit")), "imports test-only internal/testkit"},
		{"prod reaches onnxgen", p("nodes", c("nodes/engine"), c("nodes/engine", "internal/onnxgen")), "reaches test-only internal/onnxgen"},
		{"command imports trickle test server", p("cmd/comfyrt", c("internal/trickle/trickletest"), nil), "imports test-only internal/trickle/trickletest"},
		{"test import", pkgInfo{ImportPath: module + "/graph", TestImports: c("compiler")}, "graph's tests import compiler"},
		{"xtest import", pkgInfo{ImportPath: module + "/nodes/value", XTestImports: c("executor")}, "nodes/value's tests import executor"},
		{"unsafe", p("nodes/builtin", c("unsafe"), nil), "nodes/builtin imports unsafe"},
		{"unsafe in tests", pkgInfo{ImportPath: module + "/graph", TestImports: c("unsafe")}, "graph imports unsafe"},
		{"cgo", pkgInfo{ImportPath: module + "/nodes/builtin", CgoFiles: []string{"x.go"}}, "cgo is confined"},
		{"wazero", p("nodes/builtin", c("github.com/tetratelabs/wazero/api"), nil), "nodes/builtin imports github.com/tetratelabs/wazero/api"},
		{"astiav", p("executor", c("github.com/asticode/go-astiav"), nil), "executor imports github.com/asticode/go-astiav"},
		{"sonic outside jsonx", p("graph", c("github.com/bytedance/sonic/ast"), nil), "graph imports github.com/bytedance/sonic/ast"},
		{"new module", p("graph", c("example.org/new"), nil), "no row in thirdParty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := check([]pkgInfo{tc.pkg})
			if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("check(%s) = %q, want a violation containing %q", tc.pkg.ImportPath, got, tc.want)
			}
		})
	}
	// Rows for packages other trees create (or that no longer exist) match
	// nothing; allowed shapes pass.
	ok := []pkgInfo{
		p("nodes/engine/ort", c("nodes/engine", "nodes/value", "unsafe", "C", "github.com/yalue/onnxruntime_go"), c("nodes/engine", "nodes/value")),
		p("internal/server", c("executor/live", "graph/diag", "internal/trickle"), c("executor/live", "executor", "compiler", "graph", "graph/diag", "internal/trickle")),
		p("executor/live", c("executor", "graph", "compiler", "executor/media/av"), c("executor", "graph", "compiler", "executor/media", "executor/media/av", "nodes/value")),
		{ImportPath: module + "/executor", Imports: c("compiler"), Deps: c("compiler", "graph"), TestImports: c("internal/testkit", "graph")},
		{ImportPath: module + "/cmd/comfyrt", Name: "main", Imports: c("internal/server", "nodes/engine/ort"), XTestImports: c("github.com/bytedance/sonic")},
	}
	if got := check(ok); len(got) != 0 {
		t.Errorf("allowed shapes reported: %q", got)
	}
}

// TestNoCgoBuild: every package builds without cgo (the native packages
// have stubs), so graph, compiler and executor tests run anywhere.
func TestNoCgoBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole module")
	}
	cmd := exec.Command("go", "build", "./...")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./...: %v\n%s", err, out)
	}
}
