package streampack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/value"
)

// The tests copy the example pack that testkit builds once (mkpack: its
// WASM guest from source). WASM modules are compiled by fakeEngine here;
// streampack/wasmv1 tests the real runtime.

func TestMain(m *testing.M) { testkit.Main(m) }

func readManifestMap(t testing.TB, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// registry returns a registry with the built-in kernels and the pack's.
func registry(t testing.TB, p *Pack) *nodes.Registry {
	t.Helper()
	r := nodes.NewRegistry()
	builtin.Register(r)
	if err := p.Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustLoad(t testing.TB, dir string) *Pack {
	t.Helper()
	p, err := Load(dir, Options{WASM: fakeEngine{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// fakeEngine "compiles" anything that starts with the WASM magic into a
// module whose kernels copy their first input.
type fakeEngine struct{}

func (fakeEngine) Compile(_ context.Context, name string, _ Module, data []byte) (WASMModule, error) {
	if !bytes.HasPrefix(data, []byte("\x00asm")) {
		return nil, errors.New("not WASM")
	}
	return fakeModule{}, nil
}

type fakeModule struct{}

func (fakeModule) Close() error { return nil }

func (fakeModule) Factory(class string, inputs, types, outputs []string) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) { return copyKernel{}, nil }
}

type copyKernel struct{}

func (copyKernel) Prepare(in []value.Spec) ([]value.Spec, error) { return in[:1], nil }
func (copyKernel) Run(in, out []value.Value) error {
	copy(out[0].Tensor.Data, in[0].Tensor.Data)
	return nil
}

// tarGz writes a .tar.gz of the given entries.
type tarEntry struct {
	name, link string
	typ        byte
	data       []byte
	size       int64 // when data is nil: a run of zeros
}

func tarGz(t testing.TB, entries []tarEntry) string { return rawTarGz(t, entries, nil) }

// rawTarGz is tarGz with a last header that may claim more data than
// follows (tar's writer refuses to close such an archive).
func rawTarGz(t testing.TB, entries []tarEntry, last *tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		writeEntry(t, tw, e)
	}
	if last != nil {
		if err := tw.WriteHeader(last); err != nil {
			t.Fatal(err)
		}
		tw.Flush() // the claimed data never follows
	} else {
		tw.Close()
	}
	zw.Close()
	name := filepath.Join(t.TempDir(), "pack.tar.gz")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func writeEntry(t testing.TB, tw *tar.Writer, e tarEntry) {
	typ := e.typ
	if typ == 0 {
		typ = tar.TypeReg
	}
	h := &tar.Header{Name: e.name, Typeflag: typ, Linkname: e.link, Mode: 0o644}
	if typ == tar.TypeReg {
		h.Size = int64(len(e.data))
		if e.data == nil {
			h.Size = e.size
		}
	}
	if err := tw.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	if typ != tar.TypeReg {
		return
	}
	if e.data != nil {
		tw.Write(e.data)
		return
	}
	zero := make([]byte, 1<<20)
	for n := e.size; n > 0; n -= int64(len(zero)) {
		tw.Write(zero[:min(n, int64(len(zero)))])
	}
}

// dirEntries turns a pack folder into tar entries under prefix.
func dirEntries(t testing.TB, dir, prefix string) []tarEntry {
	var out []tarEntry
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{name: prefix + filepath.ToSlash(rel), data: data})
		return nil
	})
	return out
}
