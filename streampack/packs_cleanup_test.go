package streampack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyModel is the "model" of tinyManifest: Load checks its size and
// sha256 but does not open it.
var tinyModel = []byte("not really an ONNX model, only bytes with a hash")

// tinyManifest is a small valid manifest: one ONNX-bound class whose model
// has the given bytes.
func tinyManifest(model []byte) []byte {
	h := sha256.Sum256(model)
	return fmt.Appendf(nil, `{
  "manifest_version": 1,
  "name": "tiny",
  "version": "1.0.0",
  "nodes": {"Tiny": {"input": {"required": {"image": ["IMAGE"]}}, "output": ["MASK"], "name": "Tiny"}},
  "implementations": {"Tiny": {"onnx": {"model": "m"}}},
  "models": {"m": {"file": "models/m.onnx", "sha256": %q, "size": %d}}
}
`, hex.EncodeToString(h[:]), len(model))
}

// rawTarGz writes a .tar.gz whose last header may claim more data than
// follows (tarGz refuses to write such an archive).
func rawTarGz(t *testing.T, entries []tarEntry, last *tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
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

type hostileArchive struct {
	name string
	src  string
	opts Options
	want error // nil: any error
}

// hostileArchives are archives refused at every stage: while expanding
// (path escape, link, size, entry count, truncation) and after (bad hash,
// bad manifest, no manifest). Each expands at least one file before it is
// refused.
func hostileArchives(t *testing.T) []hostileArchive {
	good := []tarEntry{{name: "pack/pack.json", data: tinyManifest(tinyModel)}, {name: "pack/models/m.onnx", data: tinyModel}}
	tampered := append([]byte(nil), tinyModel...)
	tampered[3] ^= 1
	dup := bytes.Replace(tinyManifest(tinyModel), []byte(`"name": "tiny",`), []byte(`"name": "tiny", "name": "other",`), 1)
	return []hostileArchive{
		{"path escape", tarGz(t, append(good[:2:2], tarEntry{name: "../evil", data: []byte("x")})), Options{}, ErrPathEscape},
		{"absolute path", tarGz(t, append(good[:2:2], tarEntry{name: "/tmp/evil", data: []byte("x")})), Options{}, ErrPathEscape},
		{"symlink entry", tarGz(t, append(good[:2:2], tarEntry{name: "pack/models/l.onnx", typ: tar.TypeSymlink, link: "../../../etc/passwd"})), Options{}, ErrPathEscape},
		{"size over the limit", tarGz(t, append(good[:2:2], tarEntry{name: "pack/models/big.onnx", size: 2 << 20})), Options{MaxBytes: 1 << 20}, ErrTooLarge},
		{"size claimed over the default limit", rawTarGz(t, good, &tar.Header{Name: "pack/models/huge.onnx", Typeflag: tar.TypeReg, Mode: 0o644, Size: DefaultMaxBytes + 1}), Options{}, ErrTooLarge},
		{"too many entries", tarGz(t, append(good[:2:2], tarEntry{name: "pack/a", data: []byte("a")}, tarEntry{name: "pack/b", data: []byte("b")})), Options{MaxFiles: 3}, ErrTooLarge},
		{"truncated", rawTarGz(t, good, &tar.Header{Name: "pack/models/cut.onnx", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 10}), Options{}, nil},
		{"bad hash", tarGz(t, []tarEntry{good[0], {name: "pack/models/m.onnx", data: tampered}}), Options{}, ErrIntegrity},
		{"duplicate manifest key", tarGz(t, []tarEntry{{name: "pack/pack.json", data: dup}, good[1]}), Options{}, ErrInvalidManifest},
		{"not JSON", tarGz(t, []tarEntry{{name: "pack/pack.json", data: []byte("{")}, good[1]}), Options{}, ErrInvalidManifest},
		{"no pack.json", tarGz(t, []tarEntry{good[1], {name: "other/x", data: []byte("x")}}), Options{}, nil},
	}
}

// TestPacksRefusedArchiveLeavesNothing: a refused archive leaves nothing in
// the folder it was expanded into, whether that is the system's temporary
// folder ($TMPDIR) or Options.ExtractDir, for Load and for Install.
func TestPacksRefusedArchiveLeavesNothing(t *testing.T) {
	goodSrc := tarGz(t, []tarEntry{{name: "pack/pack.json", data: tinyManifest(tinyModel)}, {name: "pack/models/m.onnx", data: tinyModel}})
	cases := hostileArchives(t)
	tmp, extractDir, packs := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	leftovers := func(t *testing.T, dir string) {
		t.Helper()
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) > 0 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
				// Removed, so that the next case starts clean.
				makeWritable(filepath.Join(dir, e.Name()))
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
			t.Errorf("%s holds %s after the refusal", dir, strings.Join(names, ", "))
		}
	}
	// The good archive loads, so each refusal below is about its flaw.
	p, err := Load(goodSrc, Options{NoWASM: true})
	if err != nil {
		t.Fatalf("the unflawed archive: %v", err)
	}
	if len(mustReadDir(t, tmp)) != 1 {
		t.Fatalf("a loaded archive is expanded in $TMPDIR")
	}
	p.Close()
	leftovers(t, tmp)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s accepted the archive", what)
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("%s: %v, want %v", what, err, tc.want)
				}
			}
			opts := tc.opts
			opts.NoWASM = true
			load := func(opts Options) error {
				p, err := Load(tc.src, opts)
				if err == nil {
					p.Close()
				}
				return err
			}
			check("Load", load(opts))
			leftovers(t, tmp)
			opts.ExtractDir = extractDir
			check("Load with ExtractDir", load(opts))
			leftovers(t, extractDir)
			_, err := Install(context.Background(), tc.src, packs, InstallOptions{Options: tc.opts})
			check("Install", err)
			leftovers(t, tmp)
			leftovers(t, packs)
			t.Log(err)
		})
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ents
}
