package testkit

// The shared corpus of real ComfyUI workflows that tests read (never
// copy): ../shared/corpus beside the repository root, or $COMFYRT_CORPUS.
// Tests skip when it is absent.
//
// Every test that reads the corpus goes through these functions: Dir,
// File, Workflows and ObjectInfo skip the test with the reason when the
// corpus (or what the test asked for) is absent, and never return an empty
// result, so a fresh clone with no ../shared passes `make test` while CI,
// which has the corpus, runs every test.

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Path returns the corpus folder (symbolic links resolved), or "" when there
// is none.
func Path() string { return find(Root()) }

// find is Path for the repository root root.
func find(root string) string {
	p := lookup(root)
	if p == "" {
		return "" // filepath.EvalSymlinks("") would be "."
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func lookup(root string) string {
	if p := os.Getenv("COMFYRT_CORPUS"); p != "" {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	p := filepath.Join(root, "..", "shared", "corpus")
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return p
	}
	return ""
}

// absent is the reason tests skip without the corpus.
const absent = "shared corpus not found (../shared/corpus beside the repository, or $COMFYRT_CORPUS): a clone without it skips the corpus tests"

// Dir returns the corpus folder, skipping the test when it is absent.
func Dir(tb testing.TB) string {
	tb.Helper()
	return dirOf(tb, Root())
}

func dirOf(tb testing.TB, root string) string {
	tb.Helper()
	p := find(root)
	if p == "" {
		tb.Skip(absent)
	}
	return p
}

// File returns the path of the corpus file rel (slash-separated, relative
// to the corpus folder), skipping the test when the corpus is absent. A
// file missing from a corpus that is there fails the test: the corpus
// changed under it.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("corpus file %s: %v", rel, err)
	}
	return p
}

// Read returns the contents of the corpus file rel, skipping the test when
// the corpus is absent (see File).
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(File(tb, rel))
	if err != nil {
		tb.Fatalf("corpus file %s: %v", rel, err)
	}
	return data
}

// Workflows returns every workflow JSON file of the corpus (relative
// paths, sorted), leaving out the _schemas folder. It skips the test when
// there is none: the result is never empty.
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
	if len(out) == 0 {
		tb.Skipf("no workflow files in the corpus folder %s", dir)
	}
	return out
}

// ObjectInfo returns the paths of the corpus's object_info files: the real
// dump first, then the derived ComfyStream/Stream-Pack schemas. It skips
// the test when there is none: the result is never empty.
func ObjectInfo(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb)
	m, _ := filepath.Glob(filepath.Join(dir, "_schemas", "*object_info.json"))
	d, _ := filepath.Glob(filepath.Join(dir, "_schemas", "*.derived.json"))
	sort.Strings(m)
	sort.Strings(d)
	out := append(m, d...)
	if len(out) == 0 {
		tb.Skipf("no object_info files in %s", filepath.Join(dir, "_schemas"))
	}
	return out
}
