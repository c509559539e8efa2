package media

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

func TestSynthetic_StampRoundTrip(t *testing.T) {
	s := &Synthetic{W: 320, H: 240, N: 5}
	var f Frame
	for i := int64(0); i < 5; i++ {
		if err := s.ReadFrame(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
		if got := ReadStamp(&f, false); got != i {
			t.Fatalf("frame %d: stamp %d", i, got)
		}
		if f.Index != i || f.PTS != i*3000 {
			t.Fatalf("frame %d: index %d pts %d", i, f.Index, f.PTS)
		}
		for j := range f.RGB {
			f.RGB[j] = 255 - f.RGB[j]
		}
		if got := ReadStamp(&f, true); got != i {
			t.Fatalf("inverted frame %d: stamp %d", i, got)
		}
	}
	if err := s.ReadFrame(context.Background(), &f); !errors.Is(err, io.EOF) {
		t.Fatalf("after N frames: %v", err)
	}
}

func TestSynthetic_NoAllocSteadyState(t *testing.T) {
	s := &Synthetic{W: 64, H: 64}
	var f Frame
	ctx := context.Background()
	_ = s.ReadFrame(ctx, &f)
	if n := testing.AllocsPerRun(50, func() { _ = s.ReadFrame(ctx, &f) }); n != 0 {
		t.Fatalf("%v allocs per frame", n)
	}
}

func TestIsFatal(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false}, {io.EOF, true}, {context.Canceled, true}, {&FatalError{errors.New("x")}, true}, {errors.New("corrupt"), false},
	} {
		if got := IsFatal(tc.err); got != tc.want {
			t.Errorf("IsFatal(%v) = %v", tc.err, got)
		}
	}
}

// TestWaitUntil: a past time returns at once, a cancelled context ends
// the wait with its error, a near time is waited for.
func TestWaitUntil(t *testing.T) {
	if err := WaitUntil(context.Background(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WaitUntil(ctx, time.Now().Add(time.Hour)); err != context.Canceled {
		t.Fatalf("cancelled wait: %v", err)
	}
	due := time.Now().Add(20 * time.Millisecond)
	if err := WaitUntil(context.Background(), due); err != nil || time.Now().Before(due) {
		t.Fatalf("returned before the due time: %v", err)
	}
}
