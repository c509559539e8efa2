package bench

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("64x32, 1280x720")
	if err != nil || !slices.Equal(got, []Size{{64, 32}, {1280, 720}}) {
		t.Fatalf("ParseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"7x7", "64", "64x", "x64", "65x64", "8x8"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q): no error", bad)
		}
	}
}

func TestB7ConfigParse(t *testing.T) {
	b := B7Config{Window: time.Second, FPS: 25, MaxM: 4, Threads: 1, Size: 64}
	if msg := b.Parse("identity, text-highlight", "plan,av"); msg != "" {
		t.Fatal(msg)
	}
	if b.Deadline != 80*time.Millisecond || !slices.Equal(b.Workflows, []string{"identity", "text-highlight"}) || !slices.Equal(b.Paths, []string{"plan", "av"}) {
		t.Fatalf("parsed %+v", b)
	}
	for _, c := range []struct{ wf, paths, want string }{
		{"blur", "plan", "unknown workflow"},
		{"identity", "gpu", "unknown path"},
	} {
		if msg := b.Parse(c.wf, c.paths); !strings.Contains(msg, c.want) {
			t.Errorf("Parse(%q, %q) = %q, want %q", c.wf, c.paths, msg, c.want)
		}
	}
	odd := B7Config{Window: time.Second, FPS: 25, MaxM: 4, Threads: 1, Size: 66}
	if msg := odd.Parse("text-highlight", "plan"); !strings.Contains(msg, "multiple of 32") {
		t.Errorf("size 66 for text-highlight: %q", msg)
	}
}

// measure counts the frames after the warm-up from the warm-th output to
// the end of the output.
func TestTimedSinkMeasure(t *testing.T) {
	t0 := time.Unix(100, 0)
	s := &timedSink{}
	for i := range 5 {
		s.at = append(s.at, t0.Add(time.Duration(i)*100*time.Millisecond))
	}
	s.end = t0.Add(500 * time.Millisecond)
	side, err := s.measure(1)
	if err != nil {
		t.Fatal(err)
	}
	if side.Frames != 4 || side.Seconds != 0.5 || side.FPS != 8 || side.P50ms != 100 {
		t.Fatalf("measure(1) = %+v, want 4 frames over 0.5 s, 8 fps, p50 100 ms", side)
	}
	if _, err := s.measure(5); err == nil {
		t.Error("measure with warm-up ≥ frames: no error")
	}
}

func TestDilateCross(t *testing.T) {
	src := []uint8{
		0, 0, 0, 0,
		0, 0, 1, 0,
		0, 0, 0, 0,
	}
	want := []uint8{
		0, 0, 1, 0,
		0, 1, 1, 1,
		0, 0, 1, 0,
	}
	dst := make([]uint8, len(src))
	dilateCross(dst, src, 4, 3)
	if !slices.Equal(dst, want) {
		t.Fatalf("dilateCross = %v, want %v", dst, want)
	}
}

func TestQuantile(t *testing.T) {
	if q := quantile([]float64{1, 2, 3, 4, 5}, 0.5); q != 3 {
		t.Errorf("quantile 0.5 = %v, want 3", q)
	}
}
