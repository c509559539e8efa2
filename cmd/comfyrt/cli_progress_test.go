package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunVideo_ProgressWithoutTerminal: with stderr not a terminal (CI,
// containers, logs) a run prints a plain progress line every
// progressEvery, with no carriage returns or terminal escapes, and the
// final status line. The interval is shortened so the test does not wait;
// nothing is timed.
func TestRunVideo_ProgressWithoutTerminal(t *testing.T) {
	needAV(t)
	old := progressEvery
	progressEvery = time.Millisecond
	defer func() { progressEvery = old }()
	out := filepath.Join(t.TempDir(), "out.mp4")
	code, _, stderr := cli(t, "", "run", "-o", out)
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
