package streampack

import (
	"archive/tar"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
)

func TestLoadExamplePack(t *testing.T) {
	t.Parallel()
	dir := testkit.CopyExamplePack(t)
	p := mustLoad(t, dir)
	if got, want := strings.Join(p.Classes(), ","), "ColorGrade,LumaKey,Saliency,Vignette"; got != want {
		t.Fatalf("classes %s, want %s", got, want)
	}
	if p.Schemas().Lookup("ColorGrade") == nil {
		t.Fatal("no schema for ColorGrade")
	}
	registry(t, p)
	// From an archive too (pack.json inside a top folder).
	arc := tarGz(t, dirEntries(t, dir, "comfyrt-example/"))
	q, err := Load(arc, Options{ComfyrtVersion: "0.1.0-dev", WASM: fakeEngine{}})
	if err != nil {
		t.Fatal(err)
	}
	tmp := q.tmp
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("archive expansion %s left behind", tmp)
	}
}

// TestHostilePacks: each bad pack is refused with the right error, naming
// the file.
func TestHostilePacks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		make func(t *testing.T) (string, Options)
		want error
		file string
	}{
		{"tampered model byte", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			f := filepath.Join(dir, "models", "saliency.onnx")
			b, _ := os.ReadFile(f)
			b[len(b)/2] ^= 1
			os.WriteFile(f, b, 0o644)
			return dir, Options{NoWASM: true}
		}, ErrIntegrity, "models/saliency.onnx"},
		{"truncated module", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			f := filepath.Join(dir, "guest.wasm")
			b, _ := os.ReadFile(f)
			os.WriteFile(f, b[:len(b)-1], 0o644)
			return dir, Options{}
		}, ErrIntegrity, "guest.wasm"},
		{"../ path in manifest", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			m := readManifestMap(t, dir)
			m["workflows"] = []any{"../outside.json"}
			testkit.WriteJSON(t, filepath.Join(dir, ManifestFile), m)
			return dir, Options{NoWASM: true}
		}, ErrPathEscape, ManifestFile},
		{"absolute path in manifest", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			m := readManifestMap(t, dir)
			m["models"].(map[string]any)["saliency"].(map[string]any)["file"] = "/etc/passwd"
			testkit.WriteJSON(t, filepath.Join(dir, ManifestFile), m)
			return dir, Options{NoWASM: true}
		}, ErrPathEscape, ManifestFile},
		{"../ entry in archive", func(t *testing.T) (string, Options) {
			return tarGz(t, []tarEntry{{name: "pack.json", data: []byte("{}")}, {name: "../evil", data: []byte("x")}}), Options{}
		}, ErrPathEscape, "../evil"},
		{"symlink out of the folder", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			os.Remove(filepath.Join(dir, "tests", "grade.png"))
			if err := os.Symlink("/etc/passwd", filepath.Join(dir, "tests", "grade.png")); err != nil {
				t.Skip(err)
			}
			return dir, Options{NoWASM: true}
		}, ErrPathEscape, "tests/grade.png"},
		{"symlink entry in archive", func(t *testing.T) (string, Options) {
			return tarGz(t, []tarEntry{{name: "pack.json", data: []byte("{}")}, {name: "models/m.onnx", typ: tar.TypeSymlink, link: "../../../etc/passwd"}}), Options{}
		}, ErrPathEscape, "models/m.onnx"},
		{"size bomb", func(t *testing.T) (string, Options) {
			return tarGz(t, []tarEntry{{name: "pack.json", data: []byte("{}")}, {name: "models/big.onnx", size: 8 << 20}}), Options{MaxBytes: 1 << 20}
		}, ErrTooLarge, "models/big.onnx"},
		{"too many entries", func(t *testing.T) (string, Options) {
			var es []tarEntry
			for i := range 20 {
				es = append(es, tarEntry{name: "f" + strings.Repeat("x", i), data: []byte("x")})
			}
			return tarGz(t, es), Options{MaxFiles: 10}
		}, ErrTooLarge, "fxxxxxxxxxx"},
		{"wrong ABI version in manifest", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			m := readManifestMap(t, dir)
			m["modules"].(map[string]any)["guest"].(map[string]any)["abi"] = 2
			testkit.WriteJSON(t, filepath.Join(dir, ManifestFile), m)
			return dir, Options{}
		}, ErrABIVersion, ManifestFile},
		{"wrong manifest version", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			m := readManifestMap(t, dir)
			m["manifest_version"] = 7
			testkit.WriteJSON(t, filepath.Join(dir, ManifestFile), m)
			return dir, Options{}
		}, ErrManifestVersion, ManifestFile},
		{"needs another comfyrt", func(t *testing.T) (string, Options) {
			return testkit.CopyExamplePack(t), Options{ComfyrtVersion: "2.0.0", NoWASM: true}
		}, ErrIncompatible, ManifestFile},
		{"unknown manifest field", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			m := readManifestMap(t, dir)
			m["modles"] = map[string]any{}
			testkit.WriteJSON(t, filepath.Join(dir, ManifestFile), m)
			return dir, Options{NoWASM: true}
		}, ErrInvalidManifest, ManifestFile},
		{"model not installed", func(t *testing.T) (string, Options) {
			dir := testkit.CopyExamplePack(t)
			m := readManifestMap(t, dir)
			m["models"].(map[string]any)["saliency"].(map[string]any)["url"] = "https://example.com/saliency.onnx"
			testkit.WriteJSON(t, filepath.Join(dir, ManifestFile), m)
			os.Remove(filepath.Join(dir, "models", "saliency.onnx"))
			return dir, Options{NoWASM: true}
		}, ErrNotInstalled, "models/saliency.onnx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, opts := tc.make(t)
			opts.WASM = fakeEngine{}
			p, err := Load(src, opts)
			if err == nil {
				p.Close()
				t.Fatal("loaded, want an error")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != tc.file {
				t.Fatalf("error %v does not name %q", err, tc.file)
			}
			t.Log(err)
		})
	}
}

func TestDuplicateClass(t *testing.T) {
	t.Parallel()
	dir := testkit.CopyExamplePack(t)
	a, b := mustLoad(t, dir), mustLoad(t, testkit.CopyExamplePack(t))
	var s Set
	if err := s.Add(a); err != nil {
		t.Fatal(err)
	}
	err := s.Add(b)
	if !errors.Is(err, ErrDuplicateClass) || !strings.Contains(err.Error(), "ColorGrade") {
		t.Fatalf("second pack: %v, want ErrDuplicateClass naming ColorGrade", err)
	}
	// The operator's way out: a namespace.
	c, err := Load(dir, Options{Namespace: "fx", WASM: fakeEngine{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.Add(c); err != nil {
		t.Fatal(err)
	}
	if c.Schemas().Lookup("fx.ColorGrade") == nil {
		t.Fatal("no fx.ColorGrade")
	}
	r := nodes.NewRegistry()
	builtin.Register(r)
	if err := s.Register(r); err != nil {
		t.Fatal(err)
	}
	// Registering a pack twice into one registry clashes too.
	if err := a.Register(r); !errors.Is(err, ErrDuplicateClass) || !errors.Is(err, nodes.ErrDuplicateClass) {
		t.Fatalf("re-register: %v", err)
	}
}

func TestLoaderShares(t *testing.T) {
	t.Parallel()
	dir := testkit.CopyExamplePack(t)
	l := &Loader{Options: Options{WASM: fakeEngine{}}}
	defer l.Close()
	a, err := l.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("the loader loaded the pack twice")
	}
}

func TestManifestVersions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rng, v string
		ok     bool
	}{
		{"", "0.1.0", true},
		{">=0.1.0 <1.0.0", "0.1.0-dev", true},
		{">=0.1.0 <1.0.0", "1.0.0", false},
		{">0.1.0", "0.1.0", false},
		{"=0.2.3", "0.2.3", true},
		{"<=0.2.3", "0.3.0", false},
	}
	for _, c := range cases {
		m := &Manifest{Comfyrt: c.rng}
		ok, err := m.Supports(c.v)
		if err != nil || ok != c.ok {
			t.Errorf("%q admits %s: %v %v, want %v", c.rng, c.v, ok, err, c.ok)
		}
	}
	if _, err := parseRange(">=1.x"); err == nil {
		t.Error(">=1.x parsed")
	}
}

func TestInstallFetchesModels(t *testing.T) {
	t.Parallel()
	src := testkit.CopyExamplePack(t)
	model, err := os.ReadFile(filepath.Join(src, "models", "saliency.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	serve := model
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(serve) }))
	defer srv.Close()
	m := readManifestMap(t, src)
	m["models"].(map[string]any)["saliency"].(map[string]any)["url"] = srv.URL + "/saliency.onnx"
	testkit.WriteJSON(t, filepath.Join(src, ManifestFile), m)
	os.Remove(filepath.Join(src, "models", "saliency.onnx"))

	packs := t.TempDir()
	dest, err := Install(context.Background(), src, packs, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustLoad(t, dest)
	if p.Manifest.Name != "comfyrt-example" {
		t.Fatal(p.Manifest.Name)
	}
	if dirs, _ := Installed(packs); len(dirs) != 1 {
		t.Fatalf("installed %v", dirs)
	}
	// A server that serves other bytes is caught.
	serve = append([]byte(nil), model...)
	serve[10] ^= 0xff
	_, err = Install(context.Background(), src, packs, InstallOptions{Replace: true})
	if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "models/saliency.onnx") {
		t.Fatalf("tampered download: %v", err)
	}
}
