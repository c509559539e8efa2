package streampack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

// countdownCtx is a context whose Err becomes context.Canceled after it
// has answered nil n times: it cancels a load at a chosen point of the
// work, without timing.
type countdownCtx struct {
	n     atomic.Int64
	calls atomic.Int64
}

func newCountdown(n int64) *countdownCtx {
	c := &countdownCtx{}
	c.n.Store(n)
	return c
}

func (c *countdownCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *countdownCtx) Done() <-chan struct{}       { return nil }
func (c *countdownCtx) Value(any) any               { return nil }
func (c *countdownCtx) Err() error {
	c.calls.Add(1)
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestR3LoadCancelledWithinAFile: a load whose context is cancelled while
// a large archive entry is being written stops within that entry (not
// only between entries), fails with an error that wraps
// context.Canceled and names the entry, and leaves nothing in the
// extraction folder; the same for Install (nothing in the packs folder
// either), for a context cancelled before the load starts, and for the
// hashing of a large model of a pack folder.
func TestR3LoadCancelledWithinAFile(t *testing.T) {
	const big = 64 << 20 // 64 MiB of zeros: about 64 KiB compressed
	src := tarGz(t, []tarEntry{
		{name: "pack/pack.json", data: tinyManifest(tinyModel)},
		{name: "pack/models/m.onnx", data: tinyModel},
		{name: "pack/big.bin", size: big},
	})
	extractDir, packs := t.TempDir(), t.TempDir()
	opts := Options{NoWASM: true, ExtractDir: extractDir}
	empty := func(t *testing.T, dir string) {
		t.Helper()
		if ents := mustReadDir(t, dir); len(ents) > 0 {
			t.Errorf("%s holds %s", dir, ents[0].Name())
			for _, e := range ents {
				makeWritable(filepath.Join(dir, e.Name()))
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
	// Uncancelled, the archive loads (the cancellation is what refuses it
	// below).
	p, err := LoadContext(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("the archive: %v", err)
	}
	p.Close()
	empty(t, extractDir)

	// Cancelled after 100 checks: the 64 MiB entry takes about two
	// thousand 32 KiB reads, the two other entries a few.
	ctx := newCountdown(100)
	_, err = LoadContext(ctx, src, opts)
	var fe *FileError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &fe) || fe.File != "pack/big.bin" {
		t.Fatalf("LoadContext cancelled within big.bin: %v (after %d checks)", err, ctx.calls.Load())
	}
	empty(t, extractDir)

	_, err = Install(newCountdown(100), src, packs, InstallOptions{Options: opts})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "big.bin") {
		t.Fatalf("Install cancelled within big.bin: %v", err)
	}
	empty(t, extractDir)
	empty(t, packs)

	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadContext(done, src, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("LoadContext with a cancelled context: %v", err)
	}
	empty(t, extractDir)
	var l Loader
	l.Options = opts
	if _, err := l.LoadContext(done, src, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Loader.LoadContext with a cancelled context: %v", err)
	}
	if p, err := l.LoadContext(context.Background(), src, ""); err != nil {
		t.Fatalf("Loader.LoadContext after a cancelled load (nothing cached): %v", err)
	} else if p.Manifest.Name != "tiny" {
		t.Fatalf("loaded %q", p.Manifest.Name)
	}
	l.Close()
	empty(t, extractDir)

	// A pack folder whose model is large: hashing it stops within it.
	dir := filepath.Join(t.TempDir(), "pack")
	model := make([]byte, big)
	h := sha256.Sum256(model)
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	os.WriteFile(filepath.Join(dir, "models", "m.onnx"), model, 0o644)
	m := strings.Replace(string(tinyManifest(tinyModel)), hex.EncodeToString(sha256Of(tinyModel)), hex.EncodeToString(h[:]), 1)
	m = strings.Replace(m, fmt.Sprintf(`"size": %d`, len(tinyModel)), fmt.Sprintf(`"size": %d`, big), 1)
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(m), 0o644)
	if p, err := Load(dir, opts); err != nil {
		t.Fatalf("the folder with a 64 MiB model: %v", err)
	} else {
		p.Close()
	}
	if _, err := LoadContext(newCountdown(10), dir, opts); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "models/m.onnx") {
		t.Fatalf("LoadContext cancelled while hashing the model: %v", err)
	}
}

func sha256Of(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
