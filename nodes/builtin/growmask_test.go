package builtin

import "testing"

func TestGrowMask(t *testing.T) {
	const h, w, cy, cx = 11, 13, 5, 4
	dot := mkMask(1, h, w, func(_, y, x int) float32 {
		if y == cy && x == cx {
			return 1
		}
		return 0
	})
	hole := mkMask(1, h, w, func(_, y, x int) float32 {
		if y == cy && x == cx {
			return 0
		}
		return 1
	})
	abs := func(v int) int { return max(v, -v) }
	for n := range 7 {
		for _, tapered := range []bool{true, false} {
			// n rounds of a cross reach the L1 ball of radius n, of a
			// square the L∞ ball; the image edge just cuts them off.
			inBall := func(y, x int) bool {
				dy, dx := abs(y-cy), abs(x-cx)
				if tapered {
					return dy+dx <= n
				}
				return max(dy, dx) <= n
			}
			grown := runKernel(t, "GrowMask", dot, i64(int64(n)), boolean(tapered))[0]
			shrunk := runKernel(t, "GrowMask", hole, i64(int64(-n)), boolean(tapered))[0]
			for y := range h {
				for x := range w {
					want := float32(0)
					if inBall(y, x) {
						want = 1
					}
					if got := grown.Tensor.Data[y*w+x]; got != want {
						t.Fatalf("grow %d tapered=%v (%d,%d) = %v, want %v", n, tapered, y, x, got, want)
					}
					if got := shrunk.Tensor.Data[y*w+x]; got != 1-want {
						t.Fatalf("shrink %d tapered=%v (%d,%d) = %v, want %v", n, tapered, y, x, got, 1-want)
					}
				}
			}
		}
	}
}
