package builtin

import (
	"slices"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// roiOf runs ROINode on a 16×16 mask that is 1 on [y0,y1]×[x0,x1].
func roiOf(t *testing.T, y0, x0, y1, x1 int, action string, v float64, next value.Value) value.Value {
	t.Helper()
	m := mkMask(1, 16, 16, func(_, y, x int) float32 {
		if y >= y0 && y <= y1 && x >= x0 && x <= x1 {
			return 1
		}
		return 0
	})
	k := kernel(t, "ROINode")
	in := []value.Value{m, str(action), f64(v), next}
	out := prepare(t, k, in)
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatal(err)
	}
	if r := out[0].Handle.(*roi); r.bounds != (roiBounds{y0, x0, y1, x1}) {
		t.Fatalf("bounds %+v", r.bounds)
	}
	return out[0]
}

// frameWith is a 16×16 frame, black but for a white box [y0,y1]×[x0,x1].
func frameWith(y0, x0, y1, x1 int) value.Value {
	return mkImage(1, 16, 16, 3, func(_, y, x, _ int) float32 {
		if y >= y0 && y <= y1 && x >= x0 && x <= x1 {
			return 1
		}
		return 0
	})
}

// motionRun runs IntegerMotionController (blur 1: no blur) over frames
// and returns its values and the moving pixel count of each frame.
func motionRun(t *testing.T, chain value.Value, lo, hi, start int64, frames ...value.Value) (vals []int64, moving []int) {
	t.Helper()
	k := kernel(t, "IntegerMotionController")
	in := []value.Value{boolean(true), frames[0], chain, f64(0.1), i64(1), i64(lo), i64(hi), i64(start), str("round")}
	out := prepare(t, k, in)
	for _, f := range frames {
		in[1] = f
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range out[1].Tensor.Data {
			if m == 1 {
				n++
			}
		}
		vals, moving = append(vals, out[0].Int), append(moving, n)
	}
	return vals, moving
}

// TestIntegerMotionController: motion inside the ROI (the left half) adds
// once per motion event; motion outside it does nothing; the output mask
// marks the moving pixels inside the ROIs.
func TestIntegerMotionController(t *testing.T) {
	left := roiOf(t, 0, 0, 15, 7, "add", 3, value.Value{})
	black := frameWith(-1, -1, -1, -1)
	inLeft, inRight := frameWith(2, 2, 5, 5), frameWith(2, 10, 5, 13)
	vals, moving := motionRun(t, left, 0, 10, 1, black, inLeft, inLeft, black, inRight, inLeft, inLeft, black, inLeft, black, inLeft)
	// 16 of 128 ROI pixels change (12.5 % > 10 %): motion, +3 on its first
	// frame (the box appearing or going); a still frame or motion outside
	// the ROI ends the event; the value stops at the maximum.
	want := []int64{1, 4, 4, 7, 7, 10, 10, 10, 10, 10, 10}
	wantMoving := []int{0, 16, 0, 16, 0, 16, 0, 16, 16, 16, 16}
	for i := range want {
		if vals[i] != want[i] || moving[i] != wantMoving[i] {
			t.Fatalf("values %v moving %v\nwant   %v moving %v", vals, moving, want, wantMoving)
		}
	}
}

func TestIntegerMotionController_actions(t *testing.T) {
	black := frameWith(-1, -1, -1, -1)
	box := frameWith(2, 2, 5, 5)
	seq := []value.Value{black, box, box, black, black, box}
	for _, c := range []struct {
		action string
		v      float64
		want   []int64
	}{
		// As the pack: the first motion frame only arms it, and it never disarms.
		{"momentary", 0, []int64{5, 5, 0, 10, 0, 10}},
		{"toggle", 0, []int64{5, 0, 0, 10, 10, 0}},
		{"trigger", 0, []int64{5, 10, 0, 10, 0, 10}},
		{"counter", 0, []int64{5, 1, 1, 2, 2, 3}},
		{"subtract", 2, []int64{5, 3, 3, 1, 1, 0}},
		{"multiply", 1.5, []int64{5, 8, 8, 10, 10, 10}},
		{"divide", 2, []int64{5, 2, 2, 1, 1, 1}}, // 2.5 rounds to 2, 1.25 to 1, 0.625 to 1
		{"set", 7, []int64{5, 7, 7, 7, 7, 7}},
	} {
		r := roiOf(t, 0, 0, 15, 7, c.action, c.v, value.Value{})
		got, _ := motionRun(t, r, 0, 10, 5, seq...)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.action, got, c.want)
				break
			}
		}
	}
}

// A chain: each ROI acts on its own motion.
func TestIntegerMotionController_chain(t *testing.T) {
	sub := roiOf(t, 0, 8, 15, 15, "subtract", 1, value.Value{})
	chain := roiOf(t, 0, 0, 15, 7, "add", 2, sub)
	black := frameWith(-1, -1, -1, -1)
	got, _ := motionRun(t, chain, 0, 100, 50, black, frameWith(2, 2, 5, 5), black, frameWith(2, 10, 5, 13), black)
	want := []int64{50, 52, 52, 51, 51}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}

func TestIntegerMotionController_badInputs(t *testing.T) {
	left := roiOf(t, 0, 0, 15, 7, "add", 3, value.Value{})
	if err := prepareErr(t, "IntegerMotionController", boolean(true), frameWith(0, 0, 0, 0), left, f64(0.1), i64(4), i64(0), i64(9), i64(0), str("round")); err == nil {
		t.Error("an even blur_size accepted")
	}
	// An ROI mask of another size than the frame: a Run error naming the input.
	k := kernel(t, "IntegerMotionController")
	big := mkImage(1, 32, 32, 3, func(_, _, _, _ int) float32 { return 0 })
	in := []value.Value{boolean(true), big, left, f64(0.1), i64(1), i64(0), i64(9), i64(0), str("round")}
	out := prepare(t, k, in)
	if err := k.Run(in, out); err == nil {
		t.Error("an ROI of 16×16 on a 32×32 frame ran")
	}
}

func TestGaussKernel(t *testing.T) {
	// OpenCV's getGaussianKernel with sigma 0 uses fixed tables up to 7.
	for n, want := range map[int][]float32{1: {1}, 3: {0.25, 0.5, 0.25}, 5: {0.0625, 0.25, 0.375, 0.25, 0.0625},
		7: {0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125}} {
		if got := gaussKernel(n); !slices.Equal(got, want) {
			t.Errorf("n=%d: %v, want %v", n, got, want)
		}
	}
	// Larger sizes: sigma 0.3·((n−1)/2 − 1) + 0.8, normalised.
	k := gaussKernel(9)
	var sum float32
	for _, v := range k {
		sum += v
	}
	if d := sum - 1; d > 1e-6 || d < -1e-6 || k[0] != k[8] || !(k[4] > k[3] && k[3] > k[2]) {
		t.Errorf("n=9: %v", k)
	}
}
