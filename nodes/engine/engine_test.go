package engine_test

import (
	"slices"
	"strings"
	"testing"

	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
	"comfyrt/nodes/value"
)

func TestCacheKey(t *testing.T) {
	in := []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{1, 3, 512, 512}}, {Name: "a", DType: engine.Float32, Shape: []int{1}}}
	h100 := engine.CacheTarget{Device: "tensorrt", Runtime: "1.30.0", GPU: "sm_90 NVIDIA H100 80GB HBM3", TensorRT: "100300"}
	k := engine.CacheKey("AB12", in, h100)
	if len(k) != 32 {
		t.Fatalf("key %q", k)
	}
	swapped := []engine.TensorInfo{in[1], in[0]}
	if engine.CacheKey("ab12", swapped, h100) != k {
		t.Error("key depends on input order or hex case")
	}
	with := func(f func(*engine.CacheTarget)) engine.CacheTarget {
		c := h100
		f(&c)
		return c
	}
	other := []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{1, 3, 512, 640}}, in[1]}
	for name, k2 := range map[string]string{
		"model":   engine.CacheKey("ab13", in, h100),
		"shape":   engine.CacheKey("ab12", other, h100),
		"device":  engine.CacheKey("ab12", in, with(func(c *engine.CacheTarget) { c.Device = "cuda" })),
		"version": engine.CacheKey("ab12", in, with(func(c *engine.CacheTarget) { c.Runtime = "1.29.0" })),
		// An engine built on one card is never loaded on another.
		"gpu":      engine.CacheKey("ab12", in, with(func(c *engine.CacheTarget) { c.GPU = "sm_89 NVIDIA L4" })),
		"gpu_name": engine.CacheKey("ab12", in, with(func(c *engine.CacheTarget) { c.GPU = "sm_90 NVIDIA H200" })),
		"tensorrt": engine.CacheKey("ab12", in, with(func(c *engine.CacheTarget) { c.TensorRT = "100900" })),
		// Fields do not run into each other.
		"split": engine.CacheKey("ab12", in, with(func(c *engine.CacheTarget) {
			c.GPU, c.TensorRT = "sm_90 NVIDIA H100 80GB HBM3\"\ntensorrt \"100300", ""
		})),
	} {
		if k2 == k {
			t.Errorf("a different %s gives the same key", name)
		}
	}
}

func TestBindShapes(t *testing.T) {
	decl := []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{-1, 3, -1, -1}}}
	got, err := engine.BindShapes(decl, map[string][]int{"x": {2, 3, 64, 32}})
	if err != nil || got[0].String() != "x float32[2,3,64,32]" || decl[0].Shape[0] != -1 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []map[string][]int{nil, {"x": {2, 4, 64, 32}}, {"x": {2, 3, 64}}, {"x": {2, 3, 0, 4}}, {"x": {1, 3, 8, 8}, "y": {1}}} {
		if _, err := engine.BindShapes(decl, bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestParseDevices(t *testing.T) {
	if d, err := engine.ParseDevices(" CUDA, cpu"); err != nil || strings.Join(d, ",") != "cuda,cpu" {
		t.Errorf("%v %v", d, err)
	}
	for _, bad := range []string{"gpu", "cpu,cpu"} {
		if _, err := engine.ParseDevices(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if d, _ := (engine.Options{}).DeviceList(); len(d) != 1 || d[0] != "cpu" {
		t.Errorf("default devices %v", d)
	}
	if (engine.Options{}).Threads() < 1 {
		t.Error("no default threads")
	}
}

// TestFake: shapes bound, dynamic outputs follow the input, Default is
// deterministic, Run allocates nothing, Close is counted.
func TestFake(t *testing.T) {
	p := fake.New()
	p.Add("m", fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{1, 2, -1}}},
		Outputs: []engine.TensorInfo{{Name: "y", DType: engine.Float32, Shape: []int{1, -1}}},
	})
	if _, err := p.Open("n", engine.Options{}); err == nil {
		t.Error("unknown model opened")
	}
	s, err := p.Open("m", engine.Options{Shapes: map[string][]int{"x": {1, 2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Outputs()[0].String(); got != "y float32[1,2]" {
		t.Errorf("output %s", got)
	}
	in := []engine.Tensor{{Name: "x", Tensor: value.Tensor{Shape: []int{1, 2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}}}
	out := []engine.Tensor{{Tensor: value.NewTensor(1, 2)}}
	if err := s.Run(in, out); err != nil || out[0].Data[0] != 1 || out[0].Data[1] != 2 {
		t.Errorf("Run: %v %v", out[0].Data, err)
	}
	if a := testing.AllocsPerRun(10, func() { s.Run(in, out) }); a != 0 {
		t.Errorf("Run allocates %v", a)
	}
	if p.Live() != 1 {
		t.Error("not live")
	}
	s.Close()
	s.Close()
	if p.Live() != 0 || s.Run(in, out) == nil {
		t.Error("Close")
	}
}

// TestFakeTyped: int64 inputs travel in Int64, float16 tensors are
// rounded to binary16 at the boundary, unsupported types are refused, and
// element counts are checked against the typed field.
func TestFakeTyped(t *testing.T) {
	p := fake.New()
	p.Add("m", fake.Model{
		Inputs: []engine.TensorInfo{
			{Name: "ids", DType: engine.Int64, Shape: []int{1, 3}},
			{Name: "x", DType: engine.Float16, Shape: []int{1, 3}},
		},
		Outputs: []engine.TensorInfo{{Name: "y", DType: engine.Float16, Shape: []int{1, 3}}, {Name: "n", DType: engine.Int64, Shape: []int{1, 3}}},
		Fn: func(in, out []engine.Tensor) {
			for k := range 3 {
				out[0].Data[k] = float32(in[0].Int64[k]) + in[1].Data[k] + 1.0/4096
				out[1].Int64[k] = in[0].Int64[k] * 2
			}
		},
	})
	p.Add("bad", fake.Model{Inputs: []engine.TensorInfo{{Name: "b", DType: engine.Bool, Shape: []int{1}}}})
	if _, err := p.Open("bad", engine.Options{}); err == nil || !strings.Contains(err.Error(), "b bool[1]") {
		t.Errorf("bool input: %v", err)
	}
	s, err := p.Open("m", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bs := s.(engine.Buffers)
	in, out := bs.InputBuffers(), bs.OutputBuffers()
	if in[0].Int64 == nil || in[0].Data != nil || out[1].Int64 == nil {
		t.Fatalf("buffers not typed: %+v %+v", in, out)
	}
	copy(in[0].Int64, []int64{7, 49407, -2})
	copy(in[1].Data, []float32{0.1, 0.5, 2049})
	if err := s.Run(in, out); err != nil {
		t.Fatal(err)
	}
	// 0.1 → 0.0999755859375 in binary16; 2049 → 2048 (ties to even); the
	// 1/4096 added in float32 is lost by the output's rounding at 7.1.
	want := []float32{engine.Float16Value(engine.Float16Bits(7 + engine.Float16Value(engine.Float16Bits(0.1)) + 1.0/4096)), 49408, 2046}
	for k, w := range want {
		if out[0].Data[k] != w {
			t.Errorf("y[%d] = %v, want %v", k, out[0].Data[k], w)
		}
	}
	if out[1].Int64[1] != 98814 {
		t.Errorf("n = %v", out[1].Int64)
	}
	if a := testing.AllocsPerRun(10, func() { s.Run(in, out) }); a != 0 {
		t.Errorf("Run allocates %v", a)
	}
	wrong := []engine.Tensor{{Name: "ids", Tensor: value.NewTensor(1, 3)}, in[1]}
	if err := s.Run(wrong, out); err == nil || !strings.Contains(err.Error(), "ids int64[1,3]: 0 elements") {
		t.Errorf("int64 input given as float32: %v", err)
	}
}

func TestCopyData(t *testing.T) {
	src := engine.Tensor{Tensor: value.Tensor{Data: []float32{1, 2, 3}}}
	dst := engine.Tensor{Tensor: value.Tensor{Data: make([]float32, 3)}}
	engine.CopyData(dst, src)
	if !slices.Equal(dst.Data, src.Data) {
		t.Errorf("float32 copy gave %v", dst.Data)
	}
	si := engine.Tensor{Int64: []int64{7, -8}}
	di := engine.Tensor{Int64: make([]int64, 2)}
	engine.CopyData(di, si)
	if !slices.Equal(di.Int64, si.Int64) {
		t.Errorf("int64 copy gave %v", di.Int64)
	}
	engine.CopyData(src, src) // the same memory: nothing to do, nothing changes
	if !slices.Equal(src.Data, []float32{1, 2, 3}) {
		t.Errorf("self copy changed the data: %v", src.Data)
	}
}
