package main

import (
	"bytes"
	"strings"
	"testing"

	"comfyrt/internal/membudget"
)

// TestBudgetPlanBytesFlag: without --max-plan-bytes a plan gets its share
// of the default budget; an explicit 0 is no limit.
func TestBudgetPlanBytesFlag(t *testing.T) {
	e := &engineFlags{maxPlan: &byteSize{}}
	if got, want := e.planBytes(2), membudget.PlanBytes(2); got != want {
		t.Errorf("planBytes without the flag = %d, want %d", got, want)
	}
	if err := e.maxPlan.Set("0.5"); err == nil {
		t.Error("--max-plan-bytes 0.5 accepted")
	}
	e.maxPlan.Set("0")
	if got := e.planBytes(2); got != 0 {
		t.Errorf("--max-plan-bytes 0 gives %d, want 0 (no limit)", got)
	}
}

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
