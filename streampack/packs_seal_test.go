package streampack

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unsealedManifest is tinyManifest before sealing: no sha256, size 0.
func unsealedManifest(t *testing.T) []byte {
	t.Helper()
	m := tinyManifest(tinyModel)
	i := bytes.Index(m, []byte(`"sha256": "`))
	if i < 0 {
		t.Fatal("no sha256 in the manifest")
	}
	j := bytes.Index(m[i:], []byte("}"))
	return append(append(m[:i:i], []byte(`"sha256": "", "size": 0`)...), m[i+j:]...)
}

func unsealedPack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "models", "m.onnx"), tinyModel, 0o644)
	os.WriteFile(filepath.Join(dir, ManifestFile), unsealedManifest(t), 0o644)
	return dir
}

// TestPacksUnsealed: a manifest whose modules or models have no sha256 is
// refused as unsealed (ErrUnsealed, naming them), not as a list of bad
// hashes and sizes; a bad hash is still a bad hash.
func TestPacksUnsealed(t *testing.T) {
	t.Parallel()
	_, err := Load(unsealedPack(t), Options{NoWASM: true})
	if !errors.Is(err, ErrUnsealed) || !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), "models.m") {
		t.Fatalf("unsealed pack: %v", err)
	}
	if strings.Contains(err.Error(), "want 64 lower-case hex digits") || strings.Contains(err.Error(), "size must be positive") {
		t.Fatalf("unsealed pack reported as bad values: %v", err)
	}
	bad := bytes.Replace(unsealedManifest(t), []byte(`"sha256": ""`), []byte(`"sha256": "abc"`), 1)
	_, err = ParseManifest(bad)
	if err == nil || errors.Is(err, ErrUnsealed) || !strings.Contains(err.Error(), "want 64 lower-case hex digits") {
		t.Fatalf("bad sha256: %v", err)
	}
}

// TestPacksSeal: Seal writes the sizes and sha256 of the pack's files into
// pack.json, after which the pack loads; sealing again changes nothing; a
// changed file is sealed again; manifests with duplicate keys or unknown
// fields are refused, not silently rewritten.
func TestPacksSeal(t *testing.T) {
	t.Parallel()
	dir := unsealedPack(t)
	mp := filepath.Join(dir, ManifestFile)
	if err := Seal(dir); err != nil {
		t.Fatal(err)
	}
	p, err := Load(dir, Options{NoWASM: true})
	if err != nil {
		t.Fatalf("sealed pack: %v", err)
	}
	p.Close()
	sealed, _ := os.ReadFile(mp)
	sum := sha256.Sum256(tinyModel)
	if !bytes.Contains(sealed, fmt.Appendf(nil, `"sha256": "%x",`, sum)) || !bytes.Contains(sealed, fmt.Appendf(nil, `"size": %d`, len(tinyModel))) {
		t.Fatalf("sealed manifest lacks the model's sha256 and size:\n%s", sealed)
	}
	if err := Seal(dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(mp); !bytes.Equal(again, sealed) {
		t.Fatalf("sealing twice changed pack.json:\n%s\nthen\n%s", sealed, again)
	}
	// A changed model is sealed again.
	other := []byte("another model")
	os.Chmod(filepath.Join(dir, "models", "m.onnx"), 0o644)
	os.WriteFile(filepath.Join(dir, "models", "m.onnx"), other, 0o644)
	if _, err := Load(dir, Options{NoWASM: true}); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("changed model before sealing: %v", err)
	}
	if err := Seal(dir); err != nil {
		t.Fatal(err)
	}
	if p, err := Load(dir, Options{NoWASM: true}); err != nil {
		t.Fatalf("resealed pack: %v", err)
	} else {
		p.Close()
	}

	for _, tc := range []struct{ name, old, new, want string }{
		{"duplicate key", `"name": "tiny",`, `"name": "tiny", "name": "other",`, `duplicate key "name" at /name`},
		{"unknown field", `"name": "tiny",`, `"name": "tiny", "descriptoin": "typo",`, `unknown field "descriptoin"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := unsealedPack(t)
			mp := filepath.Join(dir, ManifestFile)
			before := bytes.Replace(unsealedManifest(t), []byte(tc.old), []byte(tc.new), 1)
			os.WriteFile(mp, before, 0o644)
			err := Seal(dir)
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != ManifestFile || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Seal: %v, want an error about pack.json with %s", err, tc.want)
			}
			if after, _ := os.ReadFile(mp); !bytes.Equal(after, before) {
				t.Fatalf("a refused Seal rewrote pack.json:\n%s", after)
			}
		})
	}

	// A missing file is named.
	dir = unsealedPack(t)
	os.Remove(filepath.Join(dir, "models", "m.onnx"))
	var fe *FileError
	if err := Seal(dir); !errors.As(err, &fe) || fe.File != "models/m.onnx" || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Seal without the model: %v", err)
	}
}
