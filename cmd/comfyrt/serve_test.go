package main

import (
	"strings"
	"testing"
)

// TestServeFlags: bad flag values are usage errors (exit 2) naming the flag.
func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--max-restarts", "-1"},
		{"--restart-delay", "0s"},
		{"--capacity", "0"},
		{"extra"},
	} {
		code, _, stderr := cli(t, "", append([]string{"serve"}, args...)...)
		if code != 2 || !strings.Contains(stderr, strings.TrimPrefix(args[0], "--")) {
			t.Errorf("serve %v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
