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

// TestR3ManifestCaseKeys: encoding/json matches struct fields ignoring
// case, so a key that repeats another with another case ("Name" after
// "name", "File" after "file", "ſha256" after "sha256") would silently
// replace it; such a manifest is refused as a duplicate key, and a field
// spelled with another case alone is refused too. Keys of maps (class
// names) that differ only in case are refused as well; different keys
// and the schema's own spelling are fine.
func TestR3ManifestCaseKeys(t *testing.T) {
	base := tinyManifest(tinyModel)
	if _, err := ParseManifest(base); err != nil {
		t.Fatalf("the manifest without duplicates: %v", err)
	}
	cases := []struct {
		name, old, new string
		want           string
	}{
		{"top level", `"name": "tiny",`, `"name": "tiny", "Name": "evil",`,
			`duplicate key "Name" at /Name (line 3, column 19, the same as "name" ignoring case; first given at line 3, column 3)`},
		{"top level, upper first", `"name": "tiny",`, `"NAME": "evil", "name": "tiny",`,
			`key "NAME" at /NAME (line 3, column 3): the field is "name"`},
		{"repeated field, lower first", `"name": "tiny",`, `"name": "tiny", "nodes": {}, "NODES": {},`,
			`duplicate key "NODES" at /NODES (line 3, column 32, the same as "nodes" ignoring case`},
		{"escaped", `"name": "tiny",`, `"name": "tiny", "N\u0061me": "evil",`,
			`duplicate key "Name" at /Name (line 3`},
		{"model file", `"file": "models/m.onnx",`, `"file": "models/m.onnx", "File": "../../evil.onnx",`,
			`duplicate key "File" at /models/m/File (line 7`},
		{"model sha256 with a long s", `"sha256":`, `"sha256": "` + strings.Repeat("0", 64) + `", "\u017fha256":`,
			`duplicate key "ſha256" at /models/m/ſha256 (line 7`},
		{"implementation", `{"onnx": {"model": "m"}}`, `{"onnx": {"model": "m", "Model": "x"}}`,
			`duplicate key "Model" at /implementations/Tiny/onnx/Model (line 6`},
		{"nested in nodes", `"output": ["MASK"],`, `"output": ["MASK"], "OUTPUT": ["IMAGE"],`,
			`duplicate key "OUTPUT" at /nodes/Tiny/OUTPUT (line 5`},
		{"class names", `"nodes": {"Tiny": {`, `"nodes": {"TINY": {}, "Tiny": {`,
			`duplicate key "Tiny" at /nodes/Tiny (line 5`},
		{"module file", `"models":`, `"modules": {"w": {"file": "a.wasm", "FILE": "b.wasm", "sha256": "", "size": 0, "abi": 1}},` + "\n" + `"models":`,
			`duplicate key "FILE" at /modules/w/FILE (line 7`},
		{"test in an array", `"models":`, `"tests": [{"name": "a", "Name": "b"}],` + "\n" + `"models":`,
			`duplicate key "Name" at /tests/0/Name (line 7`},
		{"tolerance", `"models":`, `"tests": [{"name": "a", "tolerance": {"psnr": 40, "PSNR": 0}}],` + "\n" + `"models":`,
			`duplicate key "PSNR" at /tests/0/tolerance/PSNR (line 7`},
		// One key, not repeated, with the wrong case.
		{"field case alone", `"name": "tiny",`, `"Name": "tiny",`,
			`key "Name" at /Name (line 3, column 3): the field is "name" (keys are case-sensitive)`},
		{"field case alone, nested", `"file": "models/m.onnx",`, `"File": "models/m.onnx",`,
			`key "File" at /models/m/File (line 7, column 20): the field is "file"`},
		{"field case alone, Kelvin sign", `"nodes": {`, `"wor\u212aflows": [], "nodes": {`,
			"key \"wor\u212aflows\" at /wor\u212aflows (line 5, column 3): the field is \"workflows\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Replace(base, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(data, base) {
				t.Fatalf("%q is not in the manifest", tc.old)
			}
			m, err := ParseManifest(data)
			if !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), tc.want) {
				if m != nil {
					t.Fatalf("accepted (name %q, models %+v)\nwant an error with %s", m.Name, m.Models, tc.want)
				}
				t.Fatalf("error %v\nwant one with %s", err, tc.want)
			}
		})
	}
	// Keys that differ by more than case, in maps and in free-form
	// objects, stay fine.
	ok := bytes.Replace(base, []byte(`"nodes": {"Tiny": {`), []byte(`"nodes": {"Tin": {"input": {"required": {"image": ["IMAGE"], "imagf": ["IMAGE"]}}, "output": ["MASK"], "name": "Tin"}, "Tiny": {`), 1)
	ok = bytes.Replace(ok, []byte(`"implementations": {`), []byte(`"implementations": {"Tin": {"onnx": {"model": "m"}}, `), 1)
	if _, err := ParseManifest(ok); err != nil {
		t.Fatalf("two classes Tin and Tiny: %v", err)
	}
	// Load (what pack validate runs) refuses it naming pack.json, and Seal
	// refuses to rewrite it (which would keep only one of the two).
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	os.WriteFile(filepath.Join(dir, "models", "m.onnx"), tinyModel, 0o644)
	evil := bytes.Replace(base, []byte(`"name": "tiny",`), []byte(`"name": "tiny", "Name": "evil",`), 1)
	os.WriteFile(filepath.Join(dir, ManifestFile), evil, 0o644)
	_, err := Load(dir, Options{NoWASM: true})
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != ManifestFile || !strings.Contains(err.Error(), `duplicate key "Name"`) {
		t.Fatalf("Load: %v", err)
	}
	if err := Seal(dir); err == nil || !strings.Contains(err.Error(), `duplicate key "Name"`) {
		t.Fatalf("Seal: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ManifestFile)); !bytes.Equal(got, evil) {
		t.Fatalf("Seal rewrote the refused pack.json:\n%s", got)
	}
}
