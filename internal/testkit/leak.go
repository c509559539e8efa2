package testkit

import (
	"runtime"
	"testing"
	"time"
)

// LeakDeadline is how long CheckGoroutines waits, after a test and its
// cleanups, for the goroutines the test started to end: the one deadline
// of every leak check.
const LeakDeadline = 3 * time.Second

// CheckGoroutines fails the test when goroutines started during it are
// still running LeakDeadline after its cleanups, printing every stack.
// Call it first in the test, so that its cleanup runs after the test's
// own (cleanups run last registered first). It counts the whole process's
// goroutines, so a test that calls it does not call t.Parallel.
func CheckGoroutines(tb testing.TB) {
	tb.Helper()
	before := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(LeakDeadline)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				tb.Errorf("goroutine leak: %d before, %d after %v\n%s", before, runtime.NumGoroutine(), LeakDeadline, buf)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
