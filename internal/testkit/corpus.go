package testkit

// The shared corpus of real ComfyUI workflows that tests read (never
// copy): ../shared/corpus beside the repository root, or $COMFYRT_CORPUS.
//
// Every test that reads the corpus goes through these functions:
// CorpusDir, CorpusFile, CorpusWorkflows and CorpusObjectInfo skip the
// test with the reason when the corpus (or what the test asked for) is
// absent, and never return an empty result, so a fresh clone with no
// ../shared passes `make test` while CI, which has the corpus, runs every
// test.

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// CorpusPath returns the corpus folder (symbolic links resolved), or "" when there
// is none.
func CorpusPath() string { return findCorpus(Root()) }

// findCorpus is CorpusPath for the repository root root.
func findCorpus(root string) string {
	p := lookupCorpus(root)
	if p == "" {
		return "" // filepath.EvalSymlinks("") would be "."
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func lookupCorpus(root string) string {
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

// corpusAbsent is the reason tests skip without the corpus.
const corpusAbsent = "shared corpus not found (../shared/corpus beside the repository, or $COMFYRT_CORPUS): a clone without it skips the corpus tests"

// CorpusDir returns the corpus folder, skipping the test when it is absent.
func CorpusDir(tb testing.TB) string {
	tb.Helper()
	return corpusDirOf(tb, Root())
}

func corpusDirOf(tb testing.TB, root string) string {
	tb.Helper()
	p := findCorpus(root)
	if p == "" {
		tb.Skip(corpusAbsent)
	}
	return p
}

// CorpusFile returns the path of the corpus file rel (slash-separated, relative
// to the corpus folder), skipping the test when the corpus is absent. A
// file missing from a corpus that is there fails the test: the corpus
// changed under it.
func CorpusFile(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(CorpusDir(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("corpus file %s: %v", rel, err)
	}
	return p
}

// CorpusRead returns the contents of the corpus file rel, skipping the test when
// the corpus is absent (see CorpusFile).
func CorpusRead(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(CorpusFile(tb, rel))
	if err != nil {
		tb.Fatalf("corpus file %s: %v", rel, err)
	}
	return data
}

// CorpusWorkflows returns every workflow JSON file of the corpus (relative
// paths, sorted), leaving out the _schemas folder. It skips the test when
// there is none: the result is never empty.
func CorpusWorkflows(tb testing.TB) []string {
	tb.Helper()
	dir := CorpusDir(tb)
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

// CorpusObjectInfo returns the paths of the corpus's object_info files: the real
// dump first, then the derived ComfyStream/Stream-Pack schemas. It skips
// the test when there is none: the result is never empty.
func CorpusObjectInfo(tb testing.TB) []string {
	tb.Helper()
	dir := CorpusDir(tb)
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
