package wasmv1

import (
	"os"
	"path/filepath"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

// The tests use the WASM guests that testkit builds once from source:
// the example pack (mkpack) and the hostile guest of testdata/hostile.

func TestMain(m *testing.M) { testkit.Main(m) }

var hostileClasses = []string{"Loop", "Bomb", "OOB", "Panic", "BadRunMsg", "Escape", "BadJSON", "BadPtr", "BadCount", "BadKind", "HugeAnswer"}

// hostilePack writes a sealed pack around the hostile guest; edit may
// change the manifest first.
func hostilePack(t testing.TB, edit func(m map[string]any)) string {
	hostile := testkit.WASMGuest(t, "streampack/wasmv1/testdata/hostile")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hostile.wasm"), hostile, 0o644); err != nil {
		t.Fatal(err)
	}
	nodesObj := map[string]any{}
	impls := map[string]any{}
	for _, c := range hostileClasses {
		out := []string{"IMAGE"}
		if c == "Escape" {
			out = []string{"IMAGE", "INT", "INT"}
		}
		nodesObj[c] = map[string]any{
			"input":       map[string]any{"required": map[string]any{"image": []any{"IMAGE"}, "trigger": []any{"FLOAT", map[string]any{"default": 0}}}},
			"input_order": map[string]any{"required": []string{"image", "trigger"}},
			"output":      out,
		}
		impls[c] = map[string]any{"wasm": map[string]any{"module": "hostile"}}
	}
	m := map[string]any{
		"manifest_version": 1, "name": "hostile", "version": "1.0.0",
		"nodes": nodesObj, "implementations": impls,
		"modules": map[string]any{"hostile": map[string]any{"file": "hostile.wasm", "sha256": "", "size": 0, "abi": 1, "memory_mb": 64, "timeout_ms": 300}},
	}
	if edit != nil {
		edit(m)
	}
	testkit.WriteJSON(t, filepath.Join(dir, streampack.ManifestFile), m)
	if err := streampack.Seal(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// registry returns a registry with the built-in kernels and the pack's.
func registry(t testing.TB, p *streampack.Pack) *nodes.Registry {
	t.Helper()
	r := nodes.NewRegistry()
	builtin.Register(r)
	if err := p.Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustLoad(t testing.TB, dir string) *streampack.Pack {
	t.Helper()
	p, err := streampack.Load(dir, streampack.Options{WASM: DefaultRuntime()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// kernel makes and prepares a kernel of class with the given input specs.
func kernel(t testing.TB, r *nodes.Registry, class string, in []value.Spec) (nodes.Kernel, []value.Value) {
	t.Helper()
	k, err := r.New(nodes.Config{NodeID: "1", Class: class})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := k.(nodes.Closer); ok {
		t.Cleanup(func() { c.Close() })
	}
	outSpecs, err := nodes.SafePrepare(k, in)
	if err != nil {
		t.Fatalf("%s: Prepare: %v", class, err)
	}
	out := make([]value.Value, len(outSpecs))
	for i, s := range outSpecs {
		out[i] = value.New(s)
	}
	return k, out
}

func ramp(shape ...int) value.Tensor {
	t := value.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(i%251) / 250
	}
	return t
}
