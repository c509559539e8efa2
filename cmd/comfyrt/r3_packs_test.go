package main

// R3 (packs) through the built binary: case-folded duplicate manifest
// keys, interrupted archive extraction, pack subcommand typos and
// 'comfyrt help CMD'.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
)

// TestR3BinaryCaseFoldedKeys: encoding/json matches manifest fields
// ignoring case, so "Name" after "name" (or "File" after "file") would
// silently replace the reviewed value; pack validate, inspect and install
// refuse it naming both spellings and where, and nothing is installed. A
// field spelled with another case alone is refused too.
func TestR3BinaryCaseFoldedKeys(t *testing.T) {
	dir := t.TempDir()
	base := packsManifest("Tiny", false)
	cases := []struct {
		name, old, new, want string
	}{
		{"name", `"name": "tiny",`, `"name": "tiny",` + "\n" + `  "Name": "evil-pack",`,
			`pack.json: invalid manifest: duplicate key "Name" at /Name (line 4, column 3, the same as "name" ignoring case; first given at line 3, column 3)`},
		{"model file", `"file": "models/m.onnx",`, `"file": "models/m.onnx", "File": "models/evil.onnx",`,
			`pack.json: invalid manifest: duplicate key "File" at /models/m/File (line 7`},
		{"field case", `"name": "tiny",`, `"Name": "tiny",`,
			`pack.json: invalid manifest: key "Name" at /Name (line 3, column 3): the field is "name"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := bytes.Replace(base, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(m, base) {
				t.Fatalf("%q is not in the manifest", tc.old)
			}
			pack := packsDir(t, filepath.Join(dir, tc.name, "pack"), m)
			os.WriteFile(filepath.Join(pack, "models", "evil.onnx"), packsModel, 0o644)
			if r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack); r.Code != exitInvalid || !strings.Contains(r.Stdout, tc.want) {
				t.Errorf("pack validate: %d, want %d and %s\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
			}
			if r := testkit.Run(t, "", nil, packsTimeout, "pack", "inspect", pack); r.Code != exitInvalid || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("pack inspect: %d, want %d and %s\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
			}
			packs := filepath.Join(dir, tc.name, "packs")
			if r := testkit.Run(t, "", nil, packsTimeout, "pack", "install", "--packs-dir", packs, pack); r.Code != exitInvalid || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("pack install: %d, want %d and %s\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
			}
			if left := packsEntries(t, packs); len(left) > 0 {
				t.Errorf("a refused install left %v", left)
			}
		})
	}
	// The same pack without the second spelling is valid.
	pack := packsDir(t, filepath.Join(dir, "plain"), base)
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack); r.Code != exitOK || !strings.Contains(r.Stdout, "ok (tiny 1.0.0") {
		t.Fatalf("pack validate of the plain manifest: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
