package main

import "testing"

func TestBudgetParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1000000": 1000000, "2GiB": 2 << 30, "2gib": 2 << 30, "512MiB": 512 << 20, "1.5G": 3 << 29,
		"64k": 64 << 10, "1GB": 1e9, "10 MB": 1e7, "3T": 3 << 40,
	} {
		got, err := parseByteSize(in)
		if err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "GiB", "-1GiB", "2XB", "1e400", "99999999999TiB"} {
		if got, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestBudgetDefaultPlanBytes(t *testing.T) {
	ram := memTotal()
	if ram <= 0 {
		t.Skip("no /proc/meminfo")
	}
	if got := defaultPlanBytes(1); got != ram/2 {
		t.Errorf("defaultPlanBytes(1) = %d, want half of %d", got, ram)
	}
	if got := defaultPlanBytes(4); got != ram/2/4 {
		t.Errorf("defaultPlanBytes(4) = %d, want %d", got, ram/8)
	}
	e := &engineFlags{maxPlan: &byteSize{}}
	if got := e.planBytes(2); got != ram/4 {
		t.Errorf("planBytes without the flag = %d, want %d", got, ram/4)
	}
	e.maxPlan.Set("0")
	if got := e.planBytes(2); got != 0 {
		t.Errorf("--max-plan-bytes 0 gives %d, want 0 (no limit)", got)
	}
}
