// Package testkit holds the scaffolding shared by tests, one copy of each:
// the built comfyrt binary run as a real process (Binary, Run, Main), the
// shared corpus locator (CorpusDir, CorpusFile, ...: skips with the
// reason when absent), the goroutine-leak check with one deadline
// (CheckGoroutines), WASM guests and the example pack built once per test
// process (WASMGuest, ExamplePack), PNG and JSON writing (WritePNG,
// HeaderPNG, WriteJSON), synthetic H.264 clips made and probed with the
// ffmpeg CLI (Clip, FFprobe, ProbeFrames), an HTTP request with its body
// read (Do), `promtool check metrics` (Promtool), and the skip for missing
// command-line tools (NeedTools).
//
// It is imported by _test.go files only (the architecture test keeps
// production code from importing it), and imports only the standard
// library, so that the tests of any package, internal tests included, may
// use it without an import cycle.
package testkit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Root returns the repository root (the folder holding go.mod).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Binary builds cmd/comfyrt once per test process and returns the path of
// the executable. Tests that use it call Main from TestMain so that the
// build folder is removed at the end. It skips under -short.
func Binary(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds the comfyrt binary (not in -short)")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "comfyrt-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "comfyrt")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/comfyrt")
		cmd.Dir = Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New("go build ./cmd/comfyrt: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return binPath
}

// Main runs the tests and removes what the kit built for them (the
// binary, WASM guests, the example pack). A test package that uses Binary,
// WASMGuest or ExamplePack calls it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if workDir != "" {
		removeAll(workDir)
	}
	os.Exit(code)
}

// Result is what a finished process left.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs the built binary with args in dir (the test's own temporary
// folder when dir is ""), stdin as its standard input, and waits at most
// timeout for it; a process still running then is killed and the test fails.
func Run(tb testing.TB, dir string, stdin []byte, timeout time.Duration, args ...string) Result {
	tb.Helper()
	bin := Binary(tb)
	if dir == "" {
		dir = tb.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		tb.Fatalf("comfyrt %v: still running after %v\nstderr:\n%s", args, timeout, errb.String())
	}
	res := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
		if res.Code < 0 { // killed by a signal: a crash
			tb.Fatalf("comfyrt %v: %v\nstderr:\n%s", args, err, errb.String())
		}
	default:
		tb.Fatalf("comfyrt %v: %v", args, err)
	}
	return res
}
