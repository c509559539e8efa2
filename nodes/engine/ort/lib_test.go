package ort_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"comfyrt/nodes/engine/ort"
)

func TestLibraryPathEnv(t *testing.T) {
	f := filepath.Join(t.TempDir(), "libx.so")
	os.WriteFile(f, nil, 0o644)
	t.Setenv(ort.LibEnv, f)
	if p, err := ort.LibraryPath(); err != nil || p != f {
		t.Errorf("LibraryPath = %q, %v", p, err)
	}
	t.Setenv(ort.LibEnv, f+".missing")
	if _, err := ort.LibraryPath(); !errors.Is(err, ort.ErrNoLibrary) {
		t.Errorf("missing override: %v", err)
	}
}

func TestLibraryPathCache(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "ort", ort.LibName)
	os.MkdirAll(filepath.Dir(lib), 0o755)
	os.WriteFile(lib, nil, 0o644)
	t.Setenv(ort.LibEnv, "")
	t.Setenv("COMFYRT_CACHE", dir)
	if p, err := ort.LibraryPath(); err != nil || p != lib {
		t.Errorf("LibraryPath = %q, %v", p, err)
	}
}

// TestLibraryPathWalkUp: from a package folder of the checkout, the
// repository's .cache/ort is found.
func TestLibraryPathWalkUp(t *testing.T) {
	t.Setenv(ort.LibEnv, "")
	t.Setenv("COMFYRT_CACHE", "")
	root, _ := filepath.Abs("../../..")
	want := filepath.Join(root, ".cache", "ort", ort.LibName)
	if _, err := os.Stat(want); err != nil {
		t.Skip("library not fetched (scripts/setup.sh)")
	}
	if p, err := ort.LibraryPath(); err != nil || p != want {
		t.Errorf("LibraryPath = %q, %v; want %s", p, err, want)
	}
}
