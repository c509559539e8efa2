package torchrand

import "math"

// Path selects the transform torch.randn uses on float32 tensors of 16 or
// more elements; it depends on the CPU capability PyTorch dispatches to.
type Path int

const (
	// PathAVX2 is the avx_mathfun.h float32 transform torch uses on x86-64
	// CPUs with AVX2 (the common case, and the reference machine's).
	PathAVX2 Path = iota
	// PathDefault is the scalar libm transform (no AVX2: ARM, or
	// ATEN_CPU_CAPABILITY=default).
	PathDefault
)

// DefaultSeed is torch's default generator seed (67280421310721), the
// state of a Generator made with torch.Generator() and never seeded.
const DefaultSeed uint64 = 67280421310721

// Generator is PyTorch's CPU generator: an mt19937 engine plus the cached
// second value of the last double and float Box–Muller pairs.
type Generator struct {
	mt         mt19937
	seed       uint64
	nextDouble float64
	hasDouble  bool
	nextFloat  float32
	hasFloat   bool
	// Path is the float32 randn transform for 16 or more elements.
	Path Path
}

// New returns a generator seeded as torch.manual_seed(seed) seeds one.
func New(seed uint64) *Generator {
	g := &Generator{}
	g.ManualSeed(seed)
	return g
}

// SeedFromInt64 is the seed torch's Python binding passes on for a
// (possibly negative) Python int: its two's complement.
func SeedFromInt64(seed int64) uint64 { return uint64(seed) }

// ManualSeed resets the generator as torch.Generator.manual_seed(seed):
// the engine takes the low 32 bits; the normal caches are cleared.
func (g *Generator) ManualSeed(seed uint64) {
	g.seed = seed
	g.mt.seed(uint32(seed))
	g.hasDouble, g.hasFloat = false, false
	g.nextDouble, g.nextFloat = 0, 0
}

// InitialSeed is the seed last given to ManualSeed (torch's initial_seed).
func (g *Generator) InitialSeed() uint64 { return g.seed }

// Random is torch's generator->random(): one 32-bit engine output.
func (g *Generator) Random() uint32 { return g.mt.uint32() }

// Random64 is torch's generator->random64(): two engine outputs, the first
// the high word.
func (g *Generator) Random64() uint64 {
	hi := g.mt.uint32()
	lo := g.mt.uint32()
	return uint64(hi)<<32 | uint64(lo)
}

// uniformFloat is at::uniform_real_distribution<float>(0, 1): the low 24
// bits of random() times 2^-24.
func (g *Generator) uniformFloat() float32 {
	return float32(g.mt.uint32()&(1<<24-1)) * (1.0 / (1 << 24))
}

// uniformDouble is at::uniform_real_distribution<double>(0, 1): the low 53
// bits of random64() times 2^-53.
func (g *Generator) uniformDouble() float64 {
	return float64(g.Random64()&(1<<53-1)) * (1.0 / (1 << 53))
}

// normalDouble is at::normal_distribution<double>(0, 1): Box–Muller on two
// double uniforms, the sine value cached for the next call.
func (g *Generator) normalDouble() float64 {
	if g.hasDouble {
		g.hasDouble = false
		return g.nextDouble
	}
	u1 := g.uniformDouble()
	u2 := g.uniformDouble()
	r := math.Sqrt(-2 * math.Log1p(-u2))
	theta := 2 * math.Pi * u1
	g.nextDouble, g.hasDouble = r*math.Sin(theta), true
	return r * math.Cos(theta)
}

// Rand fills dst as torch.rand(len(dst)) (float32) draws from this
// generator.
func (g *Generator) Rand(dst []float32) {
	for i := range dst {
		dst[i] = g.uniformFloat()
	}
}

// Randn fills dst as torch.randn(len(dst)) (float32, contiguous) draws from
// this generator. A tensor of any shape draws as its flat element count.
func (g *Generator) Randn(dst []float32) {
	n := len(dst)
	if n < 16 {
		for i := range dst {
			dst[i] = float32(g.normalDouble())
		}
		return
	}
	g.Rand(dst)
	for i := 0; i+16 <= n; i += 16 {
		g.fill16(dst[i : i+16])
	}
	if n%16 != 0 {
		tail := dst[n-16:]
		g.Rand(tail)
		g.fill16(tail)
	}
}

func (g *Generator) fill16(b []float32) {
	if g.Path == PathDefault {
		fill16Default(b)
		return
	}
	fill16AVX2(b)
}

// fill16Default is normal_fill_16 compiled without AVX2: float32 logf,
// sqrtf, cosf and sinf; theta is 2π (double) times u2, rounded to float32.
func fill16Default(b []float32) {
	for j := 0; j < 8; j++ {
		u1 := 1 - b[j]
		u2 := b[j+8]
		radius := float32(math.Sqrt(float64(-2 * float32(math.Log(float64(u1))))))
		theta := float32(2 * math.Pi * float64(u2))
		c := float32(math.Cos(float64(theta)))
		s := float32(math.Sin(float64(theta)))
		b[j] = radius*c + 0
		b[j+8] = radius*s + 0
	}
}

// fill16AVX2 is normal_fill_16_AVX2: values j and j+8 of the block are
// radius·cos θ and radius·sin θ with u1 = 1 − b[j], θ = 2π·b[j+8], all in
// float32 with avx_mathfun.h's log and sincos.
func fill16AVX2(b []float32) {
	const twoPi = float32(2 * math.Pi)
	for j := 0; j < 8; j++ {
		u1 := 1 - b[j]
		u2 := b[j+8]
		l := log32(u1)
		radius := float32(math.Sqrt(float64(float32(-2 * l))))
		theta := float32(twoPi * u2)
		s, c := sincos32(theta)
		// fmadd(n, std=1, mean=0): n + 0 (−0 becomes +0).
		b[j] = float32(radius*c) + 0
		b[j+8] = float32(radius*s) + 0
	}
}
