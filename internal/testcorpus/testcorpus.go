// Package testcorpus finds the shared corpus of real ComfyUI workflows that
// tests read (never copy): ../shared/corpus beside the repository root, or
// $COMFYRT_CORPUS. Tests skip when it is absent.
package testcorpus

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Root returns the repository root (the folder holding go.mod).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Path returns the corpus folder (symbolic links resolved), or "" when there
// is none.
func Path() string {
	p := path()
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func path() string {
	if p := os.Getenv("COMFYRT_CORPUS"); p != "" {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	p := filepath.Join(Root(), "..", "shared", "corpus")
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return p
	}
	return ""
}

// Dir returns the corpus folder, skipping the test when it is absent.
func Dir(tb testing.TB) string {
	tb.Helper()
	p := Path()
	if p == "" {
		tb.Skip("corpus not found (../shared/corpus or $COMFYRT_CORPUS)")
	}
	return p
}

// Workflows returns every workflow JSON file of the corpus (relative
// paths, sorted), leaving out the _schemas folder.
func Workflows(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb)
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), "_") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".json") {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// ObjectInfo returns the paths of the corpus's object_info files: the real
// dump first, then the derived ComfyStream/Stream-Pack schemas.
func ObjectInfo(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb)
	m, _ := filepath.Glob(filepath.Join(dir, "_schemas", "*object_info.json"))
	d, _ := filepath.Glob(filepath.Join(dir, "_schemas", "*.derived.json"))
	sort.Strings(m)
	sort.Strings(d)
	return append(m, d...)
}
