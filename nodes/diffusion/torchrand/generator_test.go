package torchrand

import "testing"

// The engine takes the low 32 bits of the seed; a negative seed is its
// two's complement (so -1 seeds as 2^32-1).
func TestSeedLow32Bits(t *testing.T) {
	a, b := New(5), New(1<<32+5)
	c, d := New(SeedFromInt64(-1)), New(1<<32-1)
	for i := 0; i < 1000; i++ {
		if x, y := a.Random(), b.Random(); x != y {
			t.Fatalf("draw %d: seed 5 gives %d, 2^32+5 gives %d", i, x, y)
		}
		if x, y := c.Random(), d.Random(); x != y {
			t.Fatalf("draw %d: seed -1 gives %d, 2^32-1 gives %d", i, x, y)
		}
	}
	if got := b.InitialSeed(); got != 1<<32+5 {
		t.Errorf("InitialSeed = %d, want the full seed", got)
	}
}

// The standard MT19937 check value: the 10000th output for seed 5489 is
// 4123659995 (C++11 [rand.predef]).
func TestMT19937Reference(t *testing.T) {
	g := New(5489)
	var v uint32
	for i := 0; i < 10000; i++ {
		v = g.Random()
	}
	if v != 4123659995 {
		t.Fatalf("10000th output = %d, want 4123659995", v)
	}
}

// ManualSeed restarts the sequence and clears the cached normal value.
func TestManualSeedResets(t *testing.T) {
	g := New(3)
	first := make([]float32, 3)
	g.Randn(first) // leaves a cached value behind
	g.ManualSeed(3)
	again := make([]float32, 3)
	g.Randn(again)
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("value %d: %v after reseed, %v before", i, again[i], first[i])
		}
	}
}

func TestFma32(t *testing.T) {
	// a·b = 2^-24 − 2^-54: c + a·b lies just below the float32 tie
	// c + 2^-24, but the float64 sum rounds onto the tie (and ties-to-even
	// would then go up). The single rounding stays at c.
	a := float32(1.0/(1<<24)) * float32(1+1.0/(1<<15))
	b := float32(1 - 1.0/(1<<15))
	c := float32(1 + 1.0/(1<<23))
	if naive := float32(float64(a)*float64(b) + float64(c)); naive == c {
		t.Fatalf("test case does not exercise the tie: naive %v", naive)
	}
	if got := fma32(a, b, c); got != c {
		t.Errorf("fma32 near a tie = %v, want %v", got, c)
	}
	if got := fma32(2, 3, 4); got != 10 {
		t.Errorf("fma32(2, 3, 4) = %v", got)
	}
}

func TestFillsDoNotAllocate(t *testing.T) {
	g := New(42)
	small, big := make([]float32, 7), make([]float32, 4*8*8+3)
	allocs := testing.AllocsPerRun(20, func() {
		g.Randn(small)
		g.Randn(big)
		g.Rand(big)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per fill, want 0", allocs)
	}
}

func benchRandn(b *testing.B, n int, path Path) {
	g := New(0)
	g.Path = path
	dst := make([]float32, n)
	b.SetBytes(int64(4 * n))
	b.ReportAllocs()
	for b.Loop() {
		g.Randn(dst)
	}
}

func BenchmarkRandn_1x4x64x64(b *testing.B)        { benchRandn(b, 4*64*64, PathAVX2) }
func BenchmarkRandn_1x4x64x64Default(b *testing.B) { benchRandn(b, 4*64*64, PathDefault) }
func BenchmarkRandn_1x4x8x8(b *testing.B)          { benchRandn(b, 4*8*8, PathAVX2) }
