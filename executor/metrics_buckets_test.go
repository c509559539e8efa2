package executor

import (
	"testing"
	"time"
)

// The histogram's Prometheus buckets are exact: a latency on a bound
// counts in that bound's bucket, one just above it in the next, and the
// buckets are cumulative.
func TestLatencyBuckets(t *testing.T) {
	var h histogram
	h.add(0)
	h.add(time.Millisecond)                        // on the first bound
	h.add(time.Millisecond + 1)                    // just above it
	h.add(33 * time.Millisecond)                   // on a bound inside
	h.add(LatencyBounds[len(LatencyBounds)-1] + 1) // above every bound: +Inf only
	l := h.summary()
	if l.Count != 5 {
		t.Fatalf("count %d", l.Count)
	}
	want := map[time.Duration]int64{
		time.Millisecond:                    2,
		2500 * time.Microsecond:             3,
		20 * time.Millisecond:               3,
		33 * time.Millisecond:               4,
		50 * time.Millisecond:               4,
		LatencyBounds[len(LatencyBounds)-1]: 4,
	}
	for i, b := range LatencyBounds {
		if w, ok := want[b]; ok && l.Buckets[i] != w {
			t.Errorf("bucket le=%v: %d, want %d", b, l.Buckets[i], w)
		}
		if i > 0 && l.Buckets[i] < l.Buckets[i-1] {
			t.Errorf("buckets not cumulative at %v: %v", b, l.Buckets)
		}
		if i > 0 && LatencyBounds[i] <= LatencyBounds[i-1] {
			t.Errorf("bounds not increasing at %d: %v", i, LatencyBounds)
		}
	}
}
