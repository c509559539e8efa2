package streampack

import (
	"comfyrt/internal/testkit"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
)

// TestSummary: the example pack's summary lists its classes with their
// implementation and typed inputs, and its modules and models by name.
func TestSummary(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, testkit.CopyExamplePack(t))
	defer p.Close()
	s := p.Summary()
	if s.Name != p.Manifest.Name || s.Version != p.Manifest.Version || s.Source != p.Source {
		t.Errorf("summary header %s %s %s", s.Name, s.Version, s.Source)
	}
	impls := map[string]string{}
	for _, c := range s.Classes {
		impls[c.Class] = c.Impl
		if len(c.Inputs) == 0 || !strings.Contains(c.Inputs[0], " ") || len(c.Outputs) == 0 {
			t.Errorf("class %s: inputs %q outputs %q", c.Class, c.Inputs, c.Outputs)
		}
	}
	if len(s.Classes) != len(p.Classes()) || !strings.HasPrefix(impls["ColorGrade"], "wasm:") || !strings.HasPrefix(impls["Saliency"], "onnx:") {
		t.Errorf("classes %v", impls)
	}
	if len(s.Modules) != len(p.Manifest.Modules) || len(s.Models) != len(p.Manifest.Models) {
		t.Errorf("%d modules, %d models; manifest %d, %d", len(s.Modules), len(s.Models), len(p.Manifest.Modules), len(p.Manifest.Models))
	}
}

func TestParseSelector(t *testing.T) {
	t.Parallel()
	for arg, want := range map[string][2]string{
		"fx=./packs/fx":   {"fx", "./packs/fx"},
		"./packs/a=b":     {"", "./packs/a=b"},
		"packs/fx":        {"", "packs/fx"},
		"v1.2=pack":       {"", "v1.2=pack"},
		"=pack":           {"", "=pack"},
		`ns=C:\packs\fx`:  {"ns", `C:\packs\fx`},
		"ns=fx.tar.gz":    {"ns", "fx.tar.gz"},
		"a/b=c":           {"", "a/b=c"},
		"name=with=equal": {"name", "with=equal"},
	} {
		if ns, path := ParseSelector(arg); ns != want[0] || path != want[1] {
			t.Errorf("ParseSelector(%q) = %q, %q; want %q, %q", arg, ns, path, want[0], want[1])
		}
	}
}

// TestCheckClash: a pack class that is a built-in class is refused,
// naming the class and the namespace way out; the example pack's are not.
func TestCheckClash(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, testkit.CopyExamplePack(t))
	defer p.Close()
	if err := p.CheckClash(builtin.Schemas()); err != nil {
		t.Fatalf("example pack clashes with the built-ins: %v", err)
	}
	clash := schema.NewSet()
	clash.Merge(p.Schemas())
	err := p.CheckClash(clash)
	var fe *FileError
	if !errors.Is(err, ErrDuplicateClass) || !errors.As(err, &fe) || fe.File != ManifestFile || !strings.Contains(err.Error(), "--pack NS=PATH") {
		t.Fatalf("clash: %v", err)
	}
}

// TestSealFolderAndHint: SealFolder seals an unsealed folder (changed),
// then reports it unchanged; a file is refused as not a folder; the hint
// for an unsealed pack names the seal command.
func TestSealFolderAndHint(t *testing.T) {
	t.Parallel()
	dir := unsealedPack(t)
	_, err := Load(dir, Options{NoWASM: true})
	if hint := WithSealHint(err, dir); !errors.Is(hint, ErrUnsealed) || !strings.Contains(hint.Error(), "comfyrt pack seal "+dir) {
		t.Errorf("hint for a folder: %v", hint)
	}
	if hint := WithSealHint(err, filepath.Join(dir, "pack.tar.gz")); !strings.Contains(hint.Error(), "on the folder it was made from") {
		t.Errorf("hint for an archive: %v", hint)
	}
	if other := errors.New("other"); WithSealHint(other, dir) != other {
		t.Error("a sealed pack's error got a hint")
	}
	m, changed, err := SealFolder(dir)
	if err != nil || !changed || len(m.Models) != 1 {
		t.Fatalf("first seal: %v changed %v", err, changed)
	}
	if _, changed, err = SealFolder(dir); err != nil || changed {
		t.Fatalf("second seal: %v changed %v", err, changed)
	}
	file := filepath.Join(dir, ManifestFile)
	if _, _, err := SealFolder(file); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("sealing a file: %v", err)
	}
	if _, _, err := SealFolder(filepath.Join(dir, "absent")); err == nil {
		t.Error("sealing an absent folder succeeded")
	}
	os.WriteFile(file, []byte("{"), 0o644)
	if _, _, err := SealFolder(dir); err == nil {
		t.Error("sealing a broken manifest succeeded")
	}
}
