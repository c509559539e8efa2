package membudget

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1000000": 1000000, "2GiB": 2 << 30, "2gib": 2 << 30, "512MiB": 512 << 20, "1.5G": 3 << 29,
		"64k": 64 << 10, "1GB": 1e9, "10 MB": 1e7, "3T": 3 << 40,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "GiB", "-1GiB", "2XB", "1e400", "99999999999TiB", "0.5", "0.0001KB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestPlanBytes(t *testing.T) {
	ram := Total()
	if ram <= 0 {
		t.Skip("no /proc/meminfo")
	}
	if got := PlanBytes(1); got != ram/2 {
		t.Errorf("PlanBytes(1) = %d, want half of %d", got, ram)
	}
	if got := PlanBytes(4); got != ram/2/4 {
		t.Errorf("PlanBytes(4) = %d, want %d", got, ram/8)
	}
}

// TestCgroupLimit: cgroup v2 and v1 memory limit files are read; "max"
// and v1's page-rounded MaxInt64 mean no limit.
func TestCgroupLimit(t *testing.T) {
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

// TestTotalTakesSmallerCgroupLimit: the total is the cgroup's limit where
// it is under the machine's RAM, else the RAM.
func TestTotalTakesSmallerCgroupLimit(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "meminfo")
	os.WriteFile(mi, []byte("MemTotal:       2097152 kB\n"), 0o644) // 2 GiB
	small, big := filepath.Join(dir, "small"), filepath.Join(dir, "big")
	os.WriteFile(small, []byte("536870912\n"), 0o644)
	os.WriteFile(big, []byte("max\n"), 0o644)
	if got := total(mi, []string{big, small}); got != 512<<20 {
		t.Errorf("total with a 512 MiB cgroup limit = %d", got)
	}
	if got := total(mi, []string{big, filepath.Join(dir, "absent")}); got != 2<<30 {
		t.Errorf("total without a cgroup limit = %d, want the RAM 2 GiB", got)
	}
	if got := total(filepath.Join(dir, "absent"), []string{small}); got != 512<<20 {
		t.Errorf("total with no meminfo but a cgroup limit = %d", got)
	}
}
