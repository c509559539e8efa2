package builtin

import (
	"math"
	"math/rand/v2"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

// registry returns a registry holding the built-in kernels.
func registry(t testing.TB) *nodes.Registry {
	t.Helper()
	r := nodes.NewRegistry()
	Register(r)
	return r
}

// kernel makes the kernel of class.
func kernel(t testing.TB, class string) nodes.Kernel {
	t.Helper()
	k, err := registry(t).New(nodes.Config{NodeID: "1", Class: class, InputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// specsOf builds Prepare's specs from run-time values: tensors by shape,
// scalars as constants, None as absent.
func specsOf(in []value.Value) []value.Spec {
	s := make([]value.Spec, len(in))
	for i, v := range in {
		switch {
		case v.Kind.IsTensor():
			s[i] = value.TensorSpec(v.Kind, v.Tensor.Shape...)
		case v.Kind == value.None:
		default:
			s[i] = value.ConstSpec(v)
		}
	}
	return s
}

// prepare calls Prepare with specs derived from in and allocates outputs.
func prepare(t testing.TB, k nodes.Kernel, in []value.Value) []value.Value {
	t.Helper()
	specs, err := nodes.SafePrepare(k, specsOf(in))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	out := make([]value.Value, len(specs))
	for i, s := range specs {
		out[i] = value.New(s)
	}
	return out
}

// runKernel prepares and runs class on in, checks that a second Run
// allocates nothing, and returns the outputs.
func runKernel(t testing.TB, class string, in ...value.Value) []value.Value {
	t.Helper()
	k := kernel(t, class)
	out := prepare(t, k, in)
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if allocs := testing.AllocsPerRun(3, func() {
		if err := k.Run(in, out); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%s: Run allocates %v times per call, want 0", class, allocs)
	}
	return out
}

// prepareErr returns the error Prepare gives for in.
func prepareErr(t testing.TB, class string, in ...value.Value) error {
	t.Helper()
	_, err := nodes.SafePrepare(kernel(t, class), specsOf(in))
	return err
}

// image returns an IMAGE [b,h,w,c] filled by f.
func mkImage(b, h, w, c int, f func(b, y, x, ch int) float32) value.Value {
	t := value.NewTensor(b, h, w, c)
	i := 0
	for bb := range b {
		for y := range h {
			for x := range w {
				for ch := range c {
					t.Data[i] = f(bb, y, x, ch)
					i++
				}
			}
		}
	}
	return value.OfTensor(value.Image, t)
}

// mask returns a MASK [b,h,w] filled by f.
func mkMask(b, h, w int, f func(b, y, x int) float32) value.Value {
	t := value.NewTensor(b, h, w)
	i := 0
	for bb := range b {
		for y := range h {
			for x := range w {
				t.Data[i] = f(bb, y, x)
				i++
			}
		}
	}
	return value.OfTensor(value.Mask, t)
}

// randomImage returns a reproducible image of values in [0,1).
func randomImage(seed uint64, b, h, w, c int) value.Value {
	r := rand.New(rand.NewPCG(seed, 1))
	return mkImage(b, h, w, c, func(int, int, int, int) float32 { return r.Float32() })
}

func randomMask(seed uint64, b, h, w int) value.Value {
	r := rand.New(rand.NewPCG(seed, 2))
	return mkMask(b, h, w, func(int, int, int) float32 { return r.Float32() })
}

// maxAbsDiff returns the largest |a−b|, or +Inf when lengths differ.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// wantShape fails unless v has the given shape.
func wantShape(t testing.TB, v value.Value, shape ...int) {
	t.Helper()
	if !value.EqualShapes(v.Tensor.Shape, shape) || len(v.Tensor.Data) != value.NumElems(shape) {
		t.Fatalf("shape %v (%d elements), want %v", v.Tensor.Shape, len(v.Tensor.Data), shape)
	}
}

func i64(v int64) value.Value    { return value.OfInt(v) }
func f64(v float64) value.Value  { return value.OfFloat(v) }
func str(v string) value.Value   { return value.OfString(v) }
func boolean(v bool) value.Value { return value.OfBool(v) }
func schemasOrNil() *schema.Set  { return Schemas() }
