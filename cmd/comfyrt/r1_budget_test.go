package main

import (
	"bytes"
	"strings"
	"testing"

	"comfyrt/internal/membudget"
)

// TestR1_ServeDefaultBudgetTwoPlansPerStream: serve's default per-plan
// budget is half the RAM over 2×capacity (a stream may hold two plans);
// an explicit --max-plan-bytes stays the per-plan limit; help says so.
func TestR1_ServeDefaultBudgetTwoPlansPerStream(t *testing.T) {
	var stderr bytes.Buffer
	o, code := parseServeFlags([]string{"--capacity", "3"}, &stderr)
	if o == nil {
		t.Fatalf("parse: %d %s", code, stderr.String())
	}
	cfg, _, code := o.compilerConfig(&stderr)
	if code != exitOK {
		t.Fatalf("config: %d %s", code, stderr.String())
	}
	if want := membudget.PlanBytes(6); cfg.MaxBytes != want {
		t.Errorf("capacity 3: per-plan budget %d, want RAM/2/6 = %d", cfg.MaxBytes, want)
	}
	o, _ = parseServeFlags([]string{"--capacity", "3", "--max-plan-bytes", "512MiB"}, &stderr)
	if cfg, _, _ := o.compilerConfig(&stderr); cfg.MaxBytes != 512<<20 {
		t.Errorf("explicit --max-plan-bytes 512MiB: per-plan budget %d", cfg.MaxBytes)
	}
	stderr.Reset()
	parseServeFlags([]string{"--help"}, &stderr)
	if h := stderr.String(); !strings.Contains(h, "two plans") || !strings.Contains(h, "2×--capacity") {
		t.Errorf("serve --help does not explain the two plans per stream:\n%s", h)
	}
}
