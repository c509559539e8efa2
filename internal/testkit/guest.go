package testkit

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Things built once per test process (WASM guests, the example pack) go
// into one temporary folder that Main removes.

var (
	workMu   sync.Mutex
	workDir  string
	builds   = map[string]*build{}
	buildsMu sync.Mutex
)

type build struct {
	once sync.Once
	path string
	err  error
}

// work returns the process's build folder, creating it.
func work() (string, error) {
	workMu.Lock()
	defer workMu.Unlock()
	if workDir == "" {
		d, err := os.MkdirTemp("", "comfyrt-testkit-")
		if err != nil {
			return "", err
		}
		workDir = d
	}
	return workDir, nil
}

// once runs make for key the first time and returns its output path (a
// fresh path in the build folder) and error every time.
func once(tb testing.TB, key string, make func(out string) error) string {
	tb.Helper()
	buildsMu.Lock()
	b := builds[key]
	if b == nil {
		b = &build{}
		builds[key] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		dir, err := work()
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(key))
		b.err = make(b.path)
	})
	if b.err != nil {
		tb.Fatalf("building %s: %v", key, b.err)
	}
	return b.path
}

// goCmd runs the go tool in the repository root, returning its output in
// the error.
func goCmd(env []string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return errors.New("go " + args[0] + ": " + err.Error() + "\n" + string(out))
	}
	return nil
}

// WASMGuest returns the WASM module built from the Go package pkg (a
// folder relative to the repository root, e.g.
// "streampack/wasmv1/testdata/hostile") with GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared: built once per test process.
func WASMGuest(tb testing.TB, pkg string) []byte {
	tb.Helper()
	p := once(tb, "wasm:"+pkg, func(out string) error {
		return goCmd([]string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"},
			"build", "-buildmode=c-shared", "-o", out, "./"+filepath.ToSlash(pkg))
	})
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// ExamplePack returns the folder of the example stream pack built from
// source (streampack/example/mkpack: its WASM guest and ONNX model), once
// per test process. The folder is shared: tests copy it (CopyExamplePack)
// rather than change it.
func ExamplePack(tb testing.TB) string {
	tb.Helper()
	return once(tb, "streampack/example", func(out string) error {
		return goCmd(nil, "run", "./streampack/example/mkpack", "-o", out)
	})
}

// CopyExamplePack copies the built example pack into a fresh folder of
// the test and returns it.
func CopyExamplePack(tb testing.TB) string {
	tb.Helper()
	src := ExamplePack(tb)
	dir := filepath.Join(tb.TempDir(), "pack")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// removeAll removes dir, first making its folders writable (a test may
// have sealed one read-only).
func removeAll(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	_ = os.RemoveAll(dir)
}
