//go:build cgo

package ort_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
	"comfyrt/nodes/value"
)

// needORT skips the test when the ONNX Runtime library is absent.
func needORT(t testing.TB) {
	t.Helper()
	if err := ort.CheckInit(); err != nil {
		if errors.Is(err, engine.ErrUnavailable) {
			t.Skipf("ONNX Runtime unavailable: %v", err)
		}
		t.Fatal(err)
	}
}

func writeModel(t testing.TB, b *onnxgen.Builder) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.onnx")
	if err := b.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func randData(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	d := make([]float32, n)
	for i := range d {
		d[i] = r.Float32()
	}
	return d
}

func maxAbs(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func open(t testing.TB, path string, opts engine.Options) engine.Session {
	t.Helper()
	s, err := ort.New().Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConvNet: a generated Conv/Relu/Sigmoid model with dynamic H and W,
// bound to 2×3×20×24, matches the plain-Go reference to 1e-5, through the
// copying path and the in-place buffers, and Run allocates nothing.
func TestConvNet(t *testing.T) {
	needORT(t)
	net := onnxgen.NewConvNet()
	path := writeModel(t, net.Model(-1, -1, -1))
	const n, h, w = 2, 20, 24
	s := open(t, path, engine.Options{Shapes: map[string][]int{"x": {n, 3, h, w}}, IntraOpThreads: 2})
	if got := s.Inputs(); len(got) != 1 || got[0].String() != "x float32[2,3,20,24]" {
		t.Errorf("Inputs = %v", got)
	}
	if got := s.Outputs(); len(got) != 1 || got[0].String() != "y float32[2,1,20,24]" {
		t.Errorf("Outputs = %v (the probe run should fix the dynamic dims)", got)
	}
	x := randData(n*3*h*w, 1)
	want := net.Reference(x, n, h, w)
	in := []engine.Tensor{{Name: "x", Tensor: value.Tensor{Shape: []int{n, 3, h, w}, Data: x}}}
	out := []engine.Tensor{{Tensor: value.NewTensor(n, 1, h, w)}}
	if err := s.Run(in, out); err != nil {
		t.Fatal(err)
	}
	if d := maxAbs(out[0].Data, want); d > 1e-5 {
		t.Errorf("max-abs difference %g > 1e-5", d)
	}
	if a := testing.AllocsPerRun(20, func() {
		if err := s.Run(in, out); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Run (copying) allocates %v times", a)
	}
	// In place: write the session's input buffer, read its output buffer.
	bs := s.(engine.Buffers)
	bin, bout := bs.InputBuffers(), bs.OutputBuffers()
	x2 := randData(len(x), 2)
	copy(bin[0].Data, x2)
	if err := s.Run(bin, bout); err != nil {
		t.Fatal(err)
	}
	if d := maxAbs(bout[0].Data, net.Reference(x2, n, h, w)); d > 1e-5 {
		t.Errorf("in place: max-abs difference %g", d)
	}
	if a := testing.AllocsPerRun(20, func() {
		if err := s.Run(bin, bout); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Run (in place) allocates %v times", a)
	}
}

// TestDepthLike: a model with Depth Anything's shapes [1,3,518,518] →
// [1,518,518] matches its reference.
func TestDepthLike(t *testing.T) {
	needORT(t)
	d := onnxgen.DepthLike{W: [3]float32{0.5, -0.25, 0.75}, B: 0.1}
	s := open(t, writeModel(t, d.Model("input", "output")), engine.Options{NoSpin: true})
	if got := s.Outputs()[0].String(); got != "output float32[1,518,518]" {
		t.Fatalf("output %s", got)
	}
	x := randData(3*518*518, 3)
	out := []engine.Tensor{{Name: "output", Tensor: value.NewTensor(1, 518, 518)}}
	if err := s.Run([]engine.Tensor{{Name: "input", Tensor: value.Tensor{Shape: []int{1, 3, 518, 518}, Data: x}}}, out); err != nil {
		t.Fatal(err)
	}
	if m := maxAbs(out[0].Data, d.Reference(x)); m > 1e-5 {
		t.Errorf("max-abs difference %g", m)
	}
}

func TestOpenErrors(t *testing.T) {
	needORT(t)
	path := writeModel(t, onnxgen.NewConvNet().Model(1, -1, -1))
	cases := []struct {
		opts engine.Options
		want []string
	}{
		{engine.Options{}, []string{"dynamic dimensions", "Options.Shapes"}},
		{engine.Options{Shapes: map[string][]int{"x": {2, 3, 8, 8}}}, []string{"does not fit"}},
		{engine.Options{Shapes: map[string][]int{"x": {1, 3, 8, 8}, "z": {1}}}, []string{`"z"`}},
		{engine.Options{Devices: []string{"npu"}, Shapes: map[string][]int{"x": {1, 3, 8, 8}}}, []string{`unknown device "npu"`}},
		{engine.Options{Devices: []string{"cuda"}, Shapes: map[string][]int{"x": {1, 3, 8, 8}}},
			[]string{"cuda", "libonnxruntime_providers_cuda.so"}},
		{engine.Options{Devices: []string{"tensorrt", "cpu"}, Shapes: map[string][]int{"x": {1, 3, 8, 8}}},
			[]string{"tensorrt", "libonnxruntime_providers_tensorrt.so"}},
	}
	for _, c := range cases {
		_, err := ort.New().Open(path, c.opts)
		if err == nil {
			t.Errorf("%+v: no error", c.opts)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q lacks %q", c.opts, err, w)
			}
		}
		t.Logf("%v", err)
	}
	if _, err := ort.New().Open(filepath.Join(t.TempDir(), "none.onnx"), engine.Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(bad, []byte("not a model"), 0o644)
	if _, err := ort.New().Open(bad, engine.Options{}); err == nil {
		t.Error("garbage model opened")
	}
}

func TestRunErrors(t *testing.T) {
	needORT(t)
	s, err := ort.New().Open(writeModel(t, onnxgen.NewConvNet().Model(1, 4, 4)), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := []engine.Tensor{{Tensor: value.NewTensor(1, 3, 4, 4)}}
	out := []engine.Tensor{{Tensor: value.NewTensor(1, 1, 4, 4)}}
	if err := s.Run(in, nil); err == nil {
		t.Error("missing output accepted")
	}
	if err := s.Run([]engine.Tensor{{Name: "y", Tensor: in[0].Tensor}}, out); err == nil || !strings.Contains(err.Error(), `"y"`) {
		t.Errorf("wrong name: %v", err)
	}
	if err := s.Run([]engine.Tensor{{Tensor: value.NewTensor(1, 3, 4, 5)}}, out); err == nil {
		t.Error("wrong size accepted")
	}
	s.Close()
	s.Close()
	if err := s.Run(in, out); err == nil {
		t.Error("Run after Close succeeded")
	}
}

// TestConcurrentSessions runs two sessions of one model on two goroutines
// (for -race) and checks both against the reference.
func TestConcurrentSessions(t *testing.T) {
	needORT(t)
	net := onnxgen.NewConvNet()
	path := writeModel(t, net.Model(1, 16, 16))
	var wg sync.WaitGroup
	for g := range 2 {
		s := open(t, path, engine.Options{IntraOpThreads: 1})
		wg.Go(func() {
			x := randData(3*16*16, uint64(10+g))
			want := net.Reference(x, 1, 16, 16)
			out := []engine.Tensor{{Tensor: value.NewTensor(1, 1, 16, 16)}}
			for range 20 {
				if err := s.Run([]engine.Tensor{{Tensor: value.Tensor{Shape: []int{1, 3, 16, 16}, Data: x}}}, out); err != nil {
					t.Error(err)
					return
				}
				if d := maxAbs(out[0].Data, want); d > 1e-5 {
					t.Errorf("goroutine %d: difference %g", g, d)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestName(t *testing.T) {
	needORT(t)
	if got := ort.New().Name(); got != "onnxruntime "+ort.Version {
		t.Errorf("Name = %q", got)
	}
}

// ppocr returns the PP-OCRv4 detection model fetched by setup, or skips.
func ppocr(t testing.TB) string {
	t.Helper()
	p := ppocrPath()
	if p == "" {
		t.Skip("PP-OCRv4 model absent (run scripts/setup.sh)")
	}
	return p
}

// ppocrPath finds .cache/models/ch_PP-OCRv4_det_infer.onnx in the working
// folder or above it, or $COMFYRT_MODELS; "" when absent.
func ppocrPath() string {
	const name = "ch_PP-OCRv4_det_infer.onnx"
	if d := os.Getenv("COMFYRT_MODELS"); d != "" {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	dir, _ := os.Getwd()
	for {
		if p := filepath.Join(dir, ".cache", "models", name); fileExists(p) {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestPPOCRLoad opens the real PP-OCRv4 detection model at 512×512 and
// logs the load time and the time of one Run per thread count.
func TestPPOCRLoad(t *testing.T) {
	needORT(t)
	path := ppocr(t)
	for _, threads := range []int{1, 2} {
		start := time.Now()
		s := open(t, path, engine.Options{IntraOpThreads: threads, Shapes: map[string][]int{"x": {1, 3, 512, 512}}})
		load := time.Since(start)
		if got := s.Outputs()[0].Shape; !value.EqualShapes(got, []int{1, 1, 512, 512}) {
			t.Fatalf("output shape %v", got)
		}
		b := s.(engine.Buffers)
		in, out := b.InputBuffers(), b.OutputBuffers()
		copy(in[0].Data, randData(len(in[0].Data), 4))
		s.Run(in, out)
		const runs = 5
		start = time.Now()
		for range runs {
			if err := s.Run(in, out); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("PP-OCRv4 det 512×512, %d thread(s): session load %v (incl. probe run), Run %v", threads, load, time.Since(start)/runs)
		if a := testing.AllocsPerRun(3, func() { s.Run(in, out) }); a != 0 {
			t.Errorf("Run allocates %v times", a)
		}
	}
}

func BenchmarkPPOCR512(b *testing.B) {
	needORT(b)
	path := ppocr(b)
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			s := open(b, path, engine.Options{IntraOpThreads: threads, Shapes: map[string][]int{"x": {1, 3, 512, 512}}})
			bs := s.(engine.Buffers)
			in, out := bs.InputBuffers(), bs.OutputBuffers()
			copy(in[0].Data, randData(len(in[0].Data), 5))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Run(in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
