package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestR1_CgroupLimit: cgroup v2 and v1 memory limit files are read; "max"
// and v1's page-rounded MaxInt64 mean no limit.
func TestR1_CgroupLimit(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]int64{
		"1073741824\n":          1 << 30,
		"max\n":                 0,
		"9223372036854771712\n": 0, // v1: no limit
		"garbage":               0,
		"0\n":                   0,
	} {
		p := filepath.Join(dir, "limit")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := cgroupLimit(p); got != want {
			t.Errorf("cgroupLimit(%q) = %d, want %d", content, got, want)
		}
	}
	if got := cgroupLimit(filepath.Join(dir, "absent")); got != 0 {
		t.Errorf("cgroupLimit(absent) = %d", got)
	}
	mi := filepath.Join(dir, "meminfo")
	os.WriteFile(mi, []byte("MemTotal:       24576000 kB\nMemFree:        1000 kB\n"), 0o644)
	if got := memInfoTotal(mi); got != 24576000<<10 {
		t.Errorf("memInfoTotal = %d", got)
	}
}

// TestR1_MemTotalTakesSmallerCgroupLimit: memTotal is the cgroup's limit
// where it is under the machine's RAM, else the RAM.
func TestR1_MemTotalTakesSmallerCgroupLimit(t *testing.T) {
	ram := memInfoTotal("/proc/meminfo")
	if ram <= 0 {
		t.Skip("no /proc/meminfo")
	}
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small"), filepath.Join(dir, "big")
	os.WriteFile(small, []byte("536870912\n"), 0o644)
	os.WriteFile(big, []byte("max\n"), 0o644)
	old := cgroupLimitFiles
	defer func() { cgroupLimitFiles = old }()
	cgroupLimitFiles = []string{big, small}
	if got := memTotal(); got != 512<<20 {
		t.Errorf("memTotal with a 512 MiB cgroup limit = %d", got)
	}
	cgroupLimitFiles = []string{big, filepath.Join(dir, "absent")}
	if got := memTotal(); got != ram {
		t.Errorf("memTotal without a cgroup limit = %d, want the RAM %d", got, ram)
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
	ram := memTotal()
	if ram <= 0 {
		ram = fallbackRAM
	}
	if want := ram / 2 / 6; cfg.MaxBytes != want {
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
