package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// byteSize is a size flag: "2GiB", "512MiB", "1.5G", "64k", "1000000"
// (bytes); binary units (KiB, MiB, GiB, TiB, and K, M, G, T with or without
// B) are powers of 1024, "kB", "MB", "GB", "TB" powers of 1000. set tells
// whether the flag was given.
type byteSize struct {
	n   int64
	set bool
}

func (b *byteSize) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatInt(b.n, 10)
}

func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	b.n, b.set = n, true
	return nil
}

// parseByteSize reads a byte count with an optional unit.
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.TrimSpace(t[i:])
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	}
	m, ok := mult[strings.ToLower(unit)]
	if !ok || num == "" {
		return 0, fmt.Errorf("%q is not a size (e.g. 2GiB, 512MiB, 1000000)", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a size (e.g. 2GiB, 512MiB, 1000000)", s)
	}
	v := f * m
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	// Only a literal zero means 0 (no limit): a size that rounds down to
	// no bytes (0.5, 0.1KB) is refused rather than lifting the limit.
	if f != 0 && int64(v) == 0 {
		return 0, fmt.Errorf("%q is less than one byte (0 alone means no limit)", s)
	}
	return int64(v), nil
}

// memTotal is the RAM this process may use: the machine's from
// /proc/meminfo, or the cgroup's memory limit where that is smaller (0
// when unknown).
func memTotal() int64 {
	ram := memInfoTotal("/proc/meminfo")
	for _, p := range cgroupLimitFiles {
		if l := cgroupLimit(p); l > 0 && (ram <= 0 || l < ram) {
			ram = l
		}
	}
	return ram
}

// cgroupLimitFiles are the memory limits of the process's cgroup: v2's
// memory.max and v1's memory.limit_in_bytes.
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// cgroupLimit reads a cgroup memory limit file: a byte count, or "max"
// (v2) or a huge value (v1) for none; 0 when there is no limit or the
// file cannot be read.
func cgroupLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 { // "max", or v1's page-rounded MaxInt64
		return 0
	}
	return n
}

// memInfoTotal is MemTotal of a /proc/meminfo file (0 when unknown).
func memInfoTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				if kb, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// fallbackRAM stands in for the RAM where /proc/meminfo cannot be read.
const fallbackRAM = 8 << 30

// defaultPlanBytes is the default memory budget of one plan when n plans
// run at once: half the RAM, shared between them. serve passes two plans
// per stream (a stream holds its running plan and the one a params update
// or a replacing start compiles).
func defaultPlanBytes(n int) int64 {
	ram := memTotal()
	if ram <= 0 {
		ram = fallbackRAM
	}
	return ram / 2 / int64(max(n, 1))
}

// planBytes is the plan memory budget the flags give when n plans run at
// once: --max-plan-bytes as given (0: no limit), else defaultPlanBytes(n).
func (e *engineFlags) planBytes(n int) int64 {
	if e.maxPlan != nil && e.maxPlan.set {
		return e.maxPlan.n
	}
	return defaultPlanBytes(n)
}

const maxPlanUsage = "memory `budget` of one plan (its buffers and kernel scratch), e.g. 2GiB or 512MiB; a workflow over it\n" +
	"is refused with plan_too_large before anything is allocated (0: no limit; default half the RAM,\n" +
	"or of the cgroup's memory limit where smaller; serve divides it by 2×--capacity, as a stream may\n" +
	"hold two plans while a params update compiles)"

func maxPlanFlag(fs *flag.FlagSet) *byteSize {
	b := &byteSize{}
	fs.Var(b, "max-plan-bytes", maxPlanUsage)
	return b
}
