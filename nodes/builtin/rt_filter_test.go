package builtin

import (
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// constImage is a 1×4×4×3 IMAGE of one value.
func constImage(v float32) value.Value {
	return mkImage(1, 4, 4, 3, func(_, _, _, _ int) float32 { return v })
}

// TestSimilarityFilter: a frame that differs (cosine similarity well under
// the threshold: skip probability 0) always goes through; identical frames
// (skip probability 1) are skipped, the last frame let through is output,
// until max_skip_frames are skipped; the first two frames go through.
func TestSimilarityFilter(t *testing.T) {
	k := kernel(t, "SimilarityFilter")
	a := mkImage(1, 4, 4, 3, func(_, y, x, c int) float32 { return float32((y + x + c) % 2) })
	b := mkImage(1, 4, 4, 3, func(_, y, x, c int) float32 { return float32((y + x + c + 1) % 2) }) // orthogonal to a
	in := []value.Value{a, boolean(false), f64(0.9), i64(2)}
	out := prepare(t, k, in)
	step := func(img value.Value) (bool, float32) {
		t.Helper()
		in[0] = img
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		return out[1].Bool, out[0].Tensor.Data[0]
	}
	// a ×6: frames 1, 2 pass (the node's and its inner filter's first
	// frames); identical frames (skip probability 1) are then skipped: the
	// node forces frame 5 through after 2 skips, and its inner filter
	// frame 6 once its own count (3) exceeds max_skip_frames, as in the
	// pack.
	var got []bool
	for range 6 {
		pass, _ := step(a)
		got = append(got, pass)
	}
	want := []bool{true, true, false, false, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("should_execute = %v, want %v", got, want)
		}
	}
	// b is orthogonal to a (cosine 0 < 0.9): it passes, and is output.
	if pass, v := step(b); !pass || v != b.Tensor.Data[0] {
		t.Errorf("a different frame: pass %v, out %v", pass, v)
	}
	// A skipped frame outputs the last frame let through (b), not c.
	c := mkImage(1, 4, 4, 3, func(_, y, x, ch int) float32 { return 0.999 * float32((y+x+ch+1)%2) })
	if pass, v := step(c); pass || v != b.Tensor.Data[0] {
		t.Errorf("a near-identical frame: pass %v, out %v (want b's %v)", pass, v, b.Tensor.Data[0])
	}
}

// TestSimilarityFilter_reproducible: the draws are seeded by the node id.
func TestSimilarityFilter_reproducible(t *testing.T) {
	seq := func() []bool {
		k := kernel(t, "SimilarityFilter")
		in := []value.Value{constImage(0), boolean(false), f64(0.5), i64(100)}
		out := prepare(t, k, in)
		var got []bool
		for i := range 60 {
			// Frames drift so that the skip probability is strictly between 0 and 1.
			in[0] = mkImage(1, 4, 4, 3, func(_, y, x, c int) float32 { return 0.5 + 0.4*float32((y*7+x*3+c+i)%5)/5 })
			if err := k.Run(in, out); err != nil {
				t.Fatal(err)
			}
			got = append(got, out[1].Bool)
		}
		return got
	}
	a, b := seq(), seq()
	passes := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("frame %d differs between two kernels of the same node", i)
		}
		if a[i] {
			passes++
		}
	}
	if passes == 0 || passes == len(a) {
		t.Errorf("%d of %d frames passed: the draw never decides", passes, len(a))
	}
}

func TestLazyCondition(t *testing.T) {
	k := kernel(t, "LazyCondition")
	one, two, fb := constImage(1), constImage(2), constImage(9)
	in := []value.Value{boolean(false), one, fb, boolean(false)}
	out := prepare(t, k, in)
	run := func(cond bool, ifTrue value.Value) float32 {
		t.Helper()
		in[0], in[1] = boolean(cond), ifTrue
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		return out[0].Tensor.Data[0]
	}
	if v := run(false, one); v != 9 {
		t.Errorf("false with nothing remembered: %v, want the fallback", v)
	}
	if v := run(true, one); v != 1 {
		t.Errorf("true: %v, want if_true", v)
	}
	if v := run(false, two); v != 1 {
		t.Errorf("false after true: %v, want the remembered if_true (1)", v)
	}
	in[3] = boolean(true)
	k2 := kernel(t, "LazyCondition")
	out = prepare(t, k2, in)
	k = k2
	run(true, one)
	if v := run(false, two); v != 9 {
		t.Errorf("use_fallback: %v, want the fallback", v)
	}
	if err := prepareErr(t, "LazyCondition", boolean(true), constImage(1), mkImage(1, 2, 2, 3, func(_, _, _, _ int) float32 { return 0 }), boolean(false)); err == nil {
		t.Error("if_true and fallback of different shapes accepted")
	}
}
