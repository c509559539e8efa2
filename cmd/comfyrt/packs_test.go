package main

// Packs through the built binary: refusals leave nothing in $TMPDIR,
// duplicate manifest keys are refused, 'pack seal' and unsealed packs.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

const packsTimeout = 2 * time.Minute

var packsModel = []byte("not really an ONNX model: pack validate checks its size and sha256 only")

// packsManifest is a small manifest: one ONNX-bound class (IMAGE in, MASK
// out) whose model is packsModel; unsealed leaves its sha256 and size out.
func packsManifest(class string, unsealed bool) []byte {
	sum, size := fmt.Sprintf("%x", sha256.Sum256(packsModel)), len(packsModel)
	if unsealed {
		sum, size = "", 0
	}
	return fmt.Appendf(nil, `{
  "manifest_version": 1,
  "name": "tiny",
  "version": "1.0.0",
  "nodes": {%[1]q: {"input": {"required": {"image": ["IMAGE"]}}, "output": ["MASK"], "name": %[1]q}},
  "implementations": {%[1]q: {"onnx": {"model": "m"}}},
  "models": {"m": {"file": "models/m.onnx", "sha256": %[2]q, "size": %[3]d}}
}
`, class, sum, size)
}

type packsEntry struct {
	name string
	data []byte
	hdr  *tar.Header // written as is, no data follows (a lying size)
	link string      // a symlink entry
}

// packsTarGz writes a .tar.gz of entries into dir.
func packsTarGz(t *testing.T, dir, name string, entries ...packsEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		var err error
		switch {
		case e.hdr != nil:
			err = tw.WriteHeader(e.hdr)
			tw.Flush()
		case e.link != "":
			err = tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeSymlink, Linkname: e.link, Mode: 0o777})
		default:
			if err = tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data))}); err == nil {
				_, err = tw.Write(e.data)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if last := entries[len(entries)-1]; last.hdr == nil {
		tw.Close()
	}
	zw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// packsDir writes a pack folder.
func packsDir(t *testing.T, dir string, manifest []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "m.onnx"), packsModel, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pack.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func packsEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestPacksBinaryRefusalsLeaveNothingInTMPDIR: 'pack validate', 'pack
// install' and '--pack' refuse hostile archives (bad hash, path escape,
// link, size over the limit, bad or duplicate-key manifest, a class that
// is a built-in one) and leave nothing in $TMPDIR or the packs folder; an
// accepted archive leaves nothing either once the command ends.
func TestPacksBinaryRefusalsLeaveNothingInTMPDIR(t *testing.T) {
	testkit.Binary(t) // built before $TMPDIR changes
	src, work, tmp, packs := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	good := []packsEntry{{name: "tiny/pack.json", data: packsManifest("Tiny", false)}, {name: "tiny/models/m.onnx", data: packsModel}}
	with := func(extra ...packsEntry) []packsEntry { return append(good[:2:2], extra...) }
	tampered := bytes.ToUpper(packsModel)
	dup := bytes.Replace(packsManifest("Tiny", false), []byte(`"name": "tiny",`), []byte(`"name": "tiny", "name": "other",`), 1)
	wf := filepath.Join(work, "wf.json")
	os.WriteFile(wf, []byte(`{}`), 0o644)

	goodSrc := packsTarGz(t, src, "good.tar.gz", good...)
	cases := []struct {
		name, src, want string
	}{
		{"bad hash", packsTarGz(t, src, "hash.tar.gz", good[0], packsEntry{name: "tiny/models/m.onnx", data: tampered}), "models/m.onnx: integrity check failed"},
		{"path escape", packsTarGz(t, src, "escape.tar.gz", with(packsEntry{name: "../evil", data: []byte("x")})...), "path escapes the pack"},
		{"symlink", packsTarGz(t, src, "link.tar.gz", with(packsEntry{name: "tiny/models/l.onnx", link: "../../../etc/passwd"})...), "path escapes the pack"},
		{"size over the limit", packsTarGz(t, src, "bomb.tar.gz", with(packsEntry{hdr: &tar.Header{Name: "tiny/models/huge.onnx", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5 << 30}})...), "pack archive too large"},
		{"bad manifest", packsTarGz(t, src, "json.tar.gz", packsEntry{name: "tiny/pack.json", data: []byte(`{"manifest_version": 1,`)}, good[1]), "pack.json: invalid manifest"},
		{"duplicate key", packsTarGz(t, src, "dup.tar.gz", packsEntry{name: "tiny/pack.json", data: dup}, good[1]), `duplicate key "name" at /name`},
		{"built-in class", packsTarGz(t, src, "clash.tar.gz", packsEntry{name: "tiny/pack.json", data: packsManifest("ImageInvert", false)}, good[1]), "ImageInvert is a built-in class"},
	}
	t.Setenv("TMPDIR", tmp)
	run := func(t *testing.T, args ...string) testkit.Result {
		t.Helper()
		return testkit.Run(t, work, nil, packsTimeout, args...)
	}
	clean := func(t *testing.T, what string) {
		t.Helper()
		for _, d := range []string{tmp, packs} {
			if left := packsEntries(t, d); len(left) > 0 {
				t.Errorf("%s left %s in %s", what, strings.Join(left, ", "), d)
				for _, n := range left {
					os.RemoveAll(filepath.Join(d, n)) // the next case starts clean
				}
			}
		}
	}
	// The unflawed archive is valid (so each refusal is about its flaw) and
	// leaves nothing once the command ends, the pack loaded or not.
	if r := run(t, "pack", "validate", goodSrc); r.Code != exitOK {
		t.Fatalf("pack validate of the unflawed archive: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	clean(t, "pack validate (accepted)")
	run(t, "validate", "--pack", goodSrc, wf)
	clean(t, "validate --pack (accepted pack)")

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "built-in class" { // a valid pack, refused only with the built-ins
				r := run(t, "pack", "validate", tc.src)
				if r.Code != exitInvalid || !strings.Contains(r.Stdout, tc.want) {
					t.Errorf("pack validate: %d, want %d and %q\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
				}
				clean(t, "pack validate")
				r = run(t, "pack", "install", "--packs-dir", packs, tc.src)
				if r.Code != exitInvalid || !strings.Contains(r.Stderr, tc.want) {
					t.Errorf("pack install: %d, want %d and %q\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
				}
				clean(t, "pack install")
			}
			r := run(t, "validate", "--pack", tc.src, wf)
			if r.Code != exitUsage || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("validate --pack: %d, want %d and %q\n%s%s", r.Code, exitUsage, tc.want, r.Stdout, r.Stderr)
			}
			clean(t, "validate --pack")
		})
	}
}

// TestPacksBinaryDuplicateKey: a manifest that gives a key twice is refused
// by validate, inspect and install, naming the key, its JSON pointer and
// both lines; nothing is installed.
func TestPacksBinaryDuplicateKey(t *testing.T) {
	dir := t.TempDir()
	m := bytes.Replace(packsManifest("Tiny", false), []byte(`{"model": "m"}`), []byte(`{"model": "m",`+"\n"+`   "model": "other"}`), 1)
	pack := packsDir(t, filepath.Join(dir, "pack"), m)
	want := `pack.json: invalid manifest: duplicate key "model" at /implementations/Tiny/onnx/model (line 7, column 4; first given at line 6, column 41)`
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack); r.Code != exitInvalid || !strings.Contains(r.Stdout, want) {
		t.Fatalf("pack validate: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "inspect", pack); r.Code != exitInvalid || !strings.Contains(r.Stderr, want) {
		t.Fatalf("pack inspect: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	packs := filepath.Join(dir, "packs")
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "install", "--packs-dir", packs, pack); r.Code != exitInvalid || !strings.Contains(r.Stderr, want) {
		t.Fatalf("pack install: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if left := packsEntries(t, packs); len(left) > 0 {
		t.Fatalf("a refused install left %v", left)
	}
	// Without the duplicate the same pack is valid.
	os.WriteFile(filepath.Join(pack, "pack.json"), packsManifest("Tiny", false), 0o644)
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack); r.Code != exitOK {
		t.Fatalf("pack validate without the duplicate: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestPacksBinarySeal: 'pack validate' on an unsealed source says it is
// unsealed and how to seal it; 'pack seal DIR' writes the sizes and sha256
// (the pack then validates), and again changes nothing; archives and
// missing files are refused, naming them.
func TestPacksBinarySeal(t *testing.T) {
	dir := t.TempDir()
	pack := packsDir(t, filepath.Join(dir, "pack"), packsManifest("Tiny", true))
	r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack)
	if r.Code != exitInvalid || !strings.Contains(r.Stdout, "pack is not sealed: models.m have no sha256 and size yet") ||
		!strings.Contains(r.Stdout, "run 'comfyrt pack seal "+pack+"'") {
		t.Fatalf("pack validate of an unsealed pack: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// An archive of it: seal the folder it was made from.
	arch := packsTarGz(t, dir, "unsealed.tar.gz", packsEntry{name: "pack.json", data: packsManifest("Tiny", true)}, packsEntry{name: "models/m.onnx", data: packsModel})
	r = testkit.Run(t, "", nil, packsTimeout, "pack", "validate", arch)
	if r.Code != exitInvalid || !strings.Contains(r.Stdout, "run 'comfyrt pack seal DIR' on the folder it was made from") {
		t.Fatalf("pack validate of an unsealed archive: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, "", nil, packsTimeout, "pack", "seal", arch)
	if r.Code != exitInvalid || !strings.Contains(r.Stderr, "not a folder") {
		t.Fatalf("pack seal of an archive: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	r = testkit.Run(t, "", nil, packsTimeout, "pack", "seal", pack)
	if r.Code != exitOK || !strings.Contains(r.Stdout, pack+": sealed (tiny 1.0.0: 0 modules, 1 models)") {
		t.Fatalf("pack seal: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	sealed, _ := os.ReadFile(filepath.Join(pack, "pack.json"))
	if !bytes.Contains(sealed, fmt.Appendf(nil, `"sha256": "%x"`, sha256.Sum256(packsModel))) {
		t.Fatalf("sealed pack.json lacks the model's sha256:\n%s", sealed)
	}
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack); r.Code != exitOK || !strings.Contains(r.Stdout, "ok (tiny 1.0.0") {
		t.Fatalf("pack validate of the sealed pack: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = testkit.Run(t, "", nil, packsTimeout, "pack", "seal", pack)
	if r.Code != exitOK || !strings.Contains(r.Stdout, pack+": already sealed") {
		t.Fatalf("pack seal again: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(pack, "pack.json")); !bytes.Equal(again, sealed) {
		t.Fatalf("sealing twice changed pack.json:\n%s\nthen\n%s", sealed, again)
	}

	// A missing file is named; nothing is written.
	bad := packsDir(t, filepath.Join(dir, "bad"), packsManifest("Tiny", true))
	os.Remove(filepath.Join(bad, "models", "m.onnx"))
	r = testkit.Run(t, "", nil, packsTimeout, "pack", "seal", bad)
	if r.Code != exitInvalid || !strings.Contains(r.Stderr, "models/m.onnx: models.m: open") {
		t.Fatalf("pack seal without the model: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(bad, "pack.json")); !bytes.Equal(after, packsManifest("Tiny", true)) {
		t.Fatalf("a refused seal rewrote pack.json:\n%s", after)
	}
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "seal"); r.Code != exitUsage {
		t.Fatalf("pack seal without a folder: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "--help"); r.Code != exitOK || !strings.Contains(r.Stdout, "seal DIR...") {
		t.Fatalf("pack --help: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
