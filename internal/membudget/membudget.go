// Package membudget sizes the plan memory budget of `comfyrt compile`,
// `run` and `serve`: it parses byte sizes ("2GiB", "512MiB", "1.5G") and
// finds the RAM this process may use (the machine's, or its cgroup's
// memory limit where that is smaller), from which the default per-plan
// budget is derived.
//
// It is a leaf: it imports no project package.
package membudget

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ParseSize reads a byte count with an optional unit: "2GiB", "512MiB",
// "1.5G", "64k", "1000000" (bytes). Binary units (KiB, MiB, GiB, TiB, and
// K, M, G, T with or without B) are powers of 1024, "kB", "MB", "GB", "TB"
// powers of 1000. Only a literal zero is 0: a size that rounds down to no
// bytes (0.5, 0.0001KB) is an error rather than "no limit".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.TrimSpace(t[i:])
	m, ok := units[strings.ToLower(unit)]
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
	if f != 0 && int64(v) == 0 {
		return 0, fmt.Errorf("%q is less than one byte (0 alone means no limit)", s)
	}
	return int64(v), nil
}

// units are the multipliers of ParseSize's units (lower case).
var units = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
}

// The files Total reads: the machine's memory and the memory limits of
// the process's cgroup (v2's memory.max, v1's memory.limit_in_bytes).
const memInfoFile = "/proc/meminfo"

var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// FallbackRAM stands in for the RAM where it cannot be read.
const FallbackRAM = 8 << 30

// Total is the RAM this process may use: the machine's from
// /proc/meminfo, or the cgroup's memory limit where that is smaller (0
// when unknown).
func Total() int64 { return total(memInfoFile, cgroupLimitFiles) }

func total(memInfo string, cgroupFiles []string) int64 {
	ram := memInfoTotal(memInfo)
	for _, p := range cgroupFiles {
		if l := cgroupLimit(p); l > 0 && (ram <= 0 || l < ram) {
			ram = l
		}
	}
	return ram
}

// PlanBytes is the default memory budget of one plan when n plans run at
// once: half of Total (FallbackRAM when unknown), shared between them.
// serve passes two plans per stream (a stream holds its running plan and
// the one a params update or a replacing start compiles).
func PlanBytes(n int) int64 {
	ram := Total()
	if ram <= 0 {
		ram = FallbackRAM
	}
	return ram / 2 / int64(max(n, 1))
}

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
