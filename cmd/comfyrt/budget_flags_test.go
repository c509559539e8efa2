package main

import (
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
