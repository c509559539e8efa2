package builtin

import (
	"comfyrt/nodes/value"
	"math"
	"math/rand/v2"
	"testing"
)

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

// refGrowMask is the original GrowMask (the generic 3×3 window loop, round
// after round), the reference the row-wise version must match bit for bit.
func refGrowMask(src []float32, b, h, w int, expand int64, tapered bool) []float32 {
	erode, square := expand < 0, !tapered
	rounds := int(min(max(expand, -expand), int64(h+w)))
	cur := append([]float32(nil), src...)
	for range rounds {
		next := make([]float32, len(cur))
		for p := range b {
			s, d := cur[p*h*w:(p+1)*h*w], next[p*h*w:(p+1)*h*w]
			for y := range h {
				y0, y1 := max(y-1, 0), min(y+1, h-1)
				for x := range w {
					x0, x1 := max(x-1, 0), min(x+1, w-1)
					v := s[y*w+x]
					for yy := y0; yy <= y1; yy++ {
						for xx := x0; xx <= x1; xx++ {
							if !square && yy != y && xx != x {
								continue
							}
							if erode {
								v = min(v, s[yy*w+xx])
							} else {
								v = max(v, s[yy*w+xx])
							}
						}
					}
					d[y*w+x] = v
				}
			}
		}
		cur = next
	}
	return cur
}

// TestGrowMaskReference compares GrowMask with the original implementation
// on random masks (with NaN, ±0 and ±Inf sprinkled in), square and
// tapered, growing and shrinking, on odd sizes including single rows and
// columns.
func TestGrowMaskReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	specials := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)), 1}
	sizes := [][3]int{{1, 1, 1}, {1, 1, 7}, {1, 7, 1}, {1, 2, 2}, {2, 5, 9}, {1, 17, 13}, {3, 8, 31}, {1, 40, 3}}
	for _, sz := range sizes {
		b, h, w := sz[0], sz[1], sz[2]
		// grey; sparse binary (mostly 0, as text masks are: the binary
		// path when dilating); dense binary (mostly 1: the binary path when
		// eroding); mixed (binary and grey pictures in one batch, −0 in a
		// binary one: both paths in one Run).
		// dyadic: 0, 1 and powers of two whose bits lie within 1's (0.5,
		// 0.25…), which must not pass for binary.
		for _, kind := range []string{"grey", "sparse", "dense", "mixed", "dyadic"} {
			sparse := kind != "grey"
			m := mkMask(b, h, w, func(p, _, _ int) float32 {
				switch {
				case kind == "sparse" || kind == "mixed" && p%2 == 0:
					if r.IntN(10) != 0 {
						return 0
					}
					return 1
				case kind == "dense":
					if r.IntN(10) != 0 {
						return 1
					}
					return 0
				case kind == "mixed" && r.IntN(50) == 0:
					return float32(math.Copysign(0, -1))
				case kind == "dyadic":
					return []float32{0, 0, 0, 1, 1, 0.5, 0.25, 1.0 / 1024}[r.IntN(8)]
				}
				if r.IntN(20) == 0 {
					return specials[r.IntN(len(specials))]
				}
				return r.Float32()
			})
			for _, expand := range []int64{0, 1, 2, 3, 5, -1, -2, -3, -4, 60, -60} {
				for _, tapered := range []bool{true, false} {
					got := runKernel(t, "GrowMask", m, i64(expand), boolean(tapered))[0].Tensor.Data
					want := refGrowMask(m.Tensor.Data, b, h, w, expand, tapered)
					for i := range want {
						g, wv := got[i], want[i]
						same := math.Float32bits(g) == math.Float32bits(wv) || (g != g && wv != wv)
						if !same {
							t.Fatalf("%dx%dx%d sparse=%v expand=%d tapered=%v: [%d] = %v, want %v", b, h, w, sparse, expand, tapered, i, g, wv)
						}
					}
				}
			}
		}
	}
}

// BenchmarkGrowMask512: expand 4, tapered, at 512×512 on a grey mask (the
// rounds) and on a binary one (distances), as text-highlight runs it.
func BenchmarkGrowMask512(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, kind := range []string{"grey", "binary"} {
		m := mkMask(1, 512, 512, func(int, int, int) float32 {
			if kind == "grey" {
				return r.Float32()
			}
			if r.IntN(30) == 0 {
				return 1
			}
			return 0
		})
		b.Run(kind, func(b *testing.B) {
			k := kernel(b, "GrowMask")
			in := []value.Value{m, i64(4), boolean(true)}
			out := prepare(b, k, in)
			for b.Loop() {
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGrowMaskRef(b *testing.B) {
	m := randomMask(3, 1, 512, 512)
	for b.Loop() {
		refGrowMask(m.Tensor.Data, 1, 512, 512, 5, true)
	}
}
