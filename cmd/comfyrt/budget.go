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
	return int64(v), nil
}

// memTotal is the machine's RAM from /proc/meminfo (0 when unknown).
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
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
// run at once: half the RAM, shared between them.
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
	"divided by --capacity for serve)"

func maxPlanFlag(fs *flag.FlagSet) *byteSize {
	b := &byteSize{}
	fs.Var(b, "max-plan-bytes", maxPlanUsage)
	return b
}
