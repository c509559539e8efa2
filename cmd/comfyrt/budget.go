package main

import (
	"flag"
	"strconv"

	"comfyrt/internal/membudget"
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
	n, err := membudget.ParseSize(s)
	if err != nil {
		return err
	}
	b.n, b.set = n, true
	return nil
}

// planBytes is the plan memory budget the flags give when n plans run at
// once: --max-plan-bytes as given (0: no limit), else membudget.PlanBytes(n).
func (e *engineFlags) planBytes(n int) int64 {
	if e.maxPlan != nil && e.maxPlan.set {
		return e.maxPlan.n
	}
	return membudget.PlanBytes(n)
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
