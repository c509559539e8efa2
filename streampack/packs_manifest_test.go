package streampack

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPacksManifestDuplicateKeys: a key given twice in one object, at any
// depth, refuses the manifest with an error naming the key, its JSON
// pointer and both lines; the same key in different objects is fine.
func TestPacksManifestDuplicateKeys(t *testing.T) {
	t.Parallel()
	base := tinyManifest(tinyModel)
	if _, err := ParseManifest(base); err != nil {
		t.Fatalf("the manifest without duplicates: %v", err)
	}
	cases := []struct {
		name, old, new string
		want           string // the error's duplicate-key part
	}{
		{"top level", `"name": "tiny",`, `"name": "tiny", "name": "other",`,
			`duplicate key "name" at /name (line 3, column 19; first given at line 3, column 3)`},
		{"escaped spelling", `"name": "tiny",`, `"name": "tiny", "na\u006de": "other",`,
			`duplicate key "name" at /name (line 3`},
		{"manifest_version", `"manifest_version": 1,`, `"manifest_version": 2, "manifest_version": 1,`,
			`duplicate key "manifest_version" at /manifest_version (line 2`},
		{"class", `"nodes": {"Tiny": {`, `"nodes": {"Tiny": {}, "Tiny": {`,
			`duplicate key "Tiny" at /nodes/Tiny (line 5`},
		{"input of a class", `{"image": ["IMAGE"]}`, `{"image": ["IMAGE"], "image": ["MASK"]}`,
			`duplicate key "image" at /nodes/Tiny/input/required/image (line 5`},
		{"model file", `"file": "models/m.onnx",`, `"file": "models/x.onnx",` + "\n" + `"file": "models/m.onnx",`,
			`duplicate key "file" at /models/m/file (line 8, column 1; first given at line 7, column 20)`},
		{"object in an array", `"models":`, `"tests": [{"name": "a"}, {"name": "a", "name": "b"}],` + "\n" + `"models":`,
			`duplicate key "name" at /tests/1/name (line 7`},
		{"key with a slash", `"implementations": {`, `"implementations": {"A/B": {}, "A/B": {},`,
			`duplicate key "A/B" at /implementations/A~1B (line 6`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Replace(base, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(data, base) {
				t.Fatalf("%q is not in the manifest", tc.old)
			}
			_, err := ParseManifest(data)
			if !errors.Is(err, ErrInvalidManifest) || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant one with %s", err, tc.want)
			}
		})
	}
	// Load names pack.json.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	os.WriteFile(filepath.Join(dir, "models", "m.onnx"), tinyModel, 0o644)
	os.WriteFile(filepath.Join(dir, ManifestFile), bytes.Replace(base, []byte(`"name": "tiny",`), []byte(`"name": "tiny", "name": "other",`), 1), 0o644)
	_, err := Load(dir, Options{NoWASM: true})
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != ManifestFile || !strings.Contains(err.Error(), `duplicate key "name"`) {
		t.Fatalf("Load: %v", err)
	}
}
