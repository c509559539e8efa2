package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRunVideo_ProgressWithoutTerminal: with stderr not a terminal (CI,
// containers, logs) a run prints a plain progress line every
// --progress-every, with no carriage returns or terminal escapes, and the
// final status line. The interval is shortened so the test does not wait;
// nothing is timed.
func TestRunVideo_ProgressWithoutTerminal(t *testing.T) {
	needAV(t)
	out := filepath.Join(t.TempDir(), "out.mp4")
	code, _, stderr := cli(t, "", "run", "-o", out, "--progress-every", "1ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.ContainsAny(stderr, "\r\x1b") {
		t.Errorf("stderr has terminal control characters: %q", stderr)
	}
	progress := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "comfyrt run: frames in ") {
			progress++
		}
	}
	if progress == 0 {
		t.Errorf("no progress line before the end:\n%s", stderr)
	}
	if !strings.Contains(stderr, "| 100%") {
		t.Errorf("no final status line:\n%s", stderr)
	}
}

// TestRunVideo_ProgressEveryNotPositive: --progress-every 0 or below is a
// usage error naming the flag.
func TestRunVideo_ProgressEveryNotPositive(t *testing.T) {
	for _, v := range []string{"0s", "-1s"} {
		code, _, stderr := cli(t, "", "run", "-o", filepath.Join(t.TempDir(), "out.mp4"), "--progress-every", v)
		if code != 2 || !strings.Contains(stderr, "--progress-every must be positive") {
			t.Errorf("--progress-every %s: exit %d\n%s", v, code, stderr)
		}
	}
}
