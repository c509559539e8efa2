package streampack

import (
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
