package testkit

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// LeakDeadline is how long CheckGoroutines waits, after a test and its
// cleanups, for the goroutines the test started to end: the one deadline
// of every leak check.
const LeakDeadline = 3 * time.Second

// processLifetime are goroutines that the standard library starts once and
// keeps for the life of the process (the signal watcher of
// signal.Notify): not leaks of the test that happened to start them.
var processLifetime = [][]byte{[]byte("os/signal.loop(")}

// CheckGoroutines fails the test when goroutines started during it are
// still running LeakDeadline after its cleanups, printing their stacks.
// Call it first in the test, so that its cleanup runs after the test's
// own (cleanups run last registered first). It looks at the whole
// process's goroutines, so a test that calls it does not call t.Parallel.
func CheckGoroutines(tb testing.TB) {
	tb.Helper()
	before := goroutines()
	tb.Cleanup(func() {
		deadline := time.Now().Add(LeakDeadline)
		gc := false
		for {
			leaked := leakedSince(before)
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				tb.Errorf("goroutine leak: %d goroutines started during the test still run %v after it\n%s",
					len(leaked), LeakDeadline, bytes.Join(leaked, []byte("\n\n")))
				return
			}
			if !gc {
				runtime.GC() // run finalizers that end goroutines
				gc = true
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// leakedSince returns the stacks of the goroutines running now that were
// not in before, leaving out those that live for the process.
func leakedSince(before map[int][]byte) [][]byte {
	var out [][]byte
next:
	for id, stack := range goroutines() {
		if _, ok := before[id]; ok {
			continue
		}
		for _, f := range processLifetime {
			if bytes.Contains(stack, f) {
				continue next
			}
		}
		out = append(out, stack)
	}
	return out
}

// goroutines returns every goroutine's stack by its id.
func goroutines() map[int][]byte {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	m := map[int][]byte{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		// "goroutine 12 [running]:"
		rest, ok := bytes.CutPrefix(g, []byte("goroutine "))
		if !ok {
			continue
		}
		idText, _, _ := bytes.Cut(rest, []byte(" "))
		if id, err := strconv.Atoi(string(idText)); err == nil {
			m[id] = g
		}
	}
	return m
}
