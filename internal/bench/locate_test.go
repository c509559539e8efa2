package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFindAbove: a file is found in the folder or the nearest one above
// it; an absent one is not.
func TestFindAbove(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "a", "workflows", "x.json")
	os.MkdirAll(filepath.Dir(want), 0o755)
	if err := os.WriteFile(want, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, ok := findAbove(deep, "workflows/x.json"); !ok || p != want {
		t.Errorf("findAbove = %q, %v; want %q", p, ok, want)
	}
	if p, ok := findAbove(deep, "workflows/absent.json"); ok {
		t.Errorf("absent file found at %q", p)
	}
	if got := FindUp("no/such/file.json"); got != "no/such/file.json" {
		t.Errorf("FindUp of an absent file = %q, want it as given", got)
	}
}
