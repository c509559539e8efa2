package engine_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"comfyrt/nodes/engine"
)

// Every binary16 value decodes to a float32 that encodes back to it.
func TestFloat16RoundTripAll(t *testing.T) {
	for h := range 1 << 16 {
		f := engine.Float16Value(uint16(h))
		got := engine.Float16Bits(f)
		if f != f {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %#04x encoded back as %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x → %g → %#04x", h, f, got)
		}
	}
	for h, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: math.Ldexp(1, -24), 0x0400: math.Ldexp(1, -14), 0x3555: 0.333251953125} {
		if got := engine.Float16Value(h); float64(got) != want {
			t.Errorf("%#04x = %g, want %g", h, got, want)
		}
	}
}

// Float16Bits picks the nearest binary16 value (ties to the even
// encoding), found here by scanning the neighbours in float64.
func TestFloat16Nearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float32{0, 1, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 2.9802322e-8, 5.96e-8, 1 + 1.0/2048, 1 + 3.0/2048, -0.1}
	for range 200000 {
		vals = append(vals, float32(math.Ldexp(r.Float64()*2-1, r.IntN(40)-26)))
	}
	for _, f := range vals {
		h := engine.Float16Bits(f)
		got := float64(engine.Float16Value(h))
		if math.Abs(float64(f)) >= 65520 {
			if !math.IsInf(got, 0) {
				t.Fatalf("%g → %g, want infinity", f, got)
			}
			continue
		}
		d := math.Abs(got - float64(f))
		for _, nb := range []uint16{h - 1, h + 1} {
			v := float64(engine.Float16Value(nb))
			if math.IsInf(v, 0) || math.IsNaN(v) || (nb^h)&0x8000 != 0 {
				continue
			}
			dn := math.Abs(v - float64(f))
			if dn < d || (dn == d && nb&1 == 0) {
				t.Fatalf("%g → %#04x (%g), but %#04x (%g) is nearer or the even tie", f, h, got, nb, v)
			}
		}
	}
	if engine.Float16Bits(float32(math.NaN()))&0x7fff <= 0x7c00 {
		t.Error("NaN not encoded as NaN")
	}
	if engine.Float16Bits(float32(math.Inf(-1))) != 0xfc00 {
		t.Error("-Inf")
	}
}

func TestFloat16Slices(t *testing.T) {
	src := []float32{0.5, -3, 1000.25}
	h := make([]uint16, 3)
	engine.ToFloat16(h, src)
	back := make([]float32, 3)
	engine.FromFloat16(back, h)
	if back[0] != 0.5 || back[1] != -3 || back[2] != 1000 {
		t.Errorf("got %v", back)
	}
	if n := testing.AllocsPerRun(10, func() { engine.ToFloat16(h, src); engine.FromFloat16(back, h) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// BenchmarkFloat16 converts a 512×512 RGB picture's worth of values each
// way (what a float16 VAE encoder's input costs per frame).
func BenchmarkFloat16(b *testing.B) {
	src := make([]float32, 3*512*512)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range src {
		src[i] = r.Float32()*2 - 1
	}
	h := make([]uint16, len(src))
	back := make([]float32, len(src))
	b.Run("to", func(b *testing.B) {
		b.SetBytes(int64(4 * len(src)))
		for b.Loop() {
			engine.ToFloat16(h, src)
		}
	})
	b.Run("from", func(b *testing.B) {
		b.SetBytes(int64(4 * len(src)))
		for b.Loop() {
			engine.FromFloat16(back, h)
		}
	})
}
