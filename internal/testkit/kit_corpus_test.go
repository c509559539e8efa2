package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFind_AbsentCorpus: a clone with no ../shared/corpus beside it and no
// $COMFYRT_CORPUS has no corpus: findCorpus is "" (it once was ".", so corpus
// tests of a fresh clone ran on the working directory and indexed into
// empty lists), and CorpusDir skips the test instead of returning a folder.
func TestFind_AbsentCorpus(t *testing.T) {
	root := filepath.Join(t.TempDir(), "comfyrt")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMFYRT_CORPUS", "")
	if p := findCorpus(root); p != "" {
		t.Fatalf("find(%s) = %q with no corpus, want \"\"", root, p)
	}
	t.Setenv("COMFYRT_CORPUS", filepath.Join(root, "missing"))
	if p := findCorpus(root); p != "" {
		t.Fatalf("find with $COMFYRT_CORPUS naming a missing folder = %q, want \"\"", p)
	}
	var sub *testing.T
	t.Run("dir", func(t *testing.T) {
		sub = t
		corpusDirOf(t, root)
		t.Error("corpusDirOf returned without the corpus")
	})
	if !sub.Skipped() {
		t.Error("corpusDirOf did not skip the test without the corpus")
	}

	// A corpus beside the root is found.
	shared := filepath.Join(filepath.Dir(root), "shared", "corpus")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMFYRT_CORPUS", "")
	want, _ := filepath.EvalSymlinks(shared)
	if p := findCorpus(root); p != want {
		t.Fatalf("find = %q, want %q", p, want)
	}
}

// TestWorkflows_NeverEmpty: CorpusWorkflows and CorpusObjectInfo skip rather than
// return an empty list (a corpus folder with neither).
func TestWorkflows_NeverEmpty(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("COMFYRT_CORPUS", empty)
	for name, f := range map[string]func(testing.TB) []string{"CorpusWorkflows": CorpusWorkflows, "CorpusObjectInfo": CorpusObjectInfo} {
		var sub *testing.T
		t.Run(name, func(t *testing.T) {
			sub = t
			got := f(t)
			t.Errorf("%s returned %v for an empty corpus folder", name, got)
		})
		if !sub.Skipped() {
			t.Errorf("%s did not skip on an empty corpus", name)
		}
	}
}
