//go:build cgo

package ort_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
	"comfyrt/nodes/value"
)

// openOwn opens a session the test closes itself (Close is also
// registered as a cleanup, which the idempotent Close allows).
func openOwn(t testing.TB, path string, opts engine.Options) engine.Session {
	t.Helper()
	s, err := ort.New().Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wantShared checks SharedSessions against a baseline plus deltas.
func wantShared(t *testing.T, what string, m0, r0, models, refs int) {
	t.Helper()
	if m, r := ort.SharedSessions(); m != m0+models || r != r0+refs {
		t.Errorf("%s: SharedSessions = %d models, %d refs; want %d, %d", what, m, r, m0+models, r0+refs)
	}
}

// checkConv runs a ConvNet session on random data and compares it with
// the plain-Go reference.
func checkConv(t *testing.T, what string, net onnxgen.ConvNet, s engine.Session, seed uint64) {
	t.Helper()
	sh := s.Inputs()[0].Shape
	n, h, w := sh[0], sh[2], sh[3]
	x := randData(n*3*h*w, seed)
	out := []engine.Tensor{{Tensor: value.NewTensor(n, 1, h, w)}}
	if err := s.Run([]engine.Tensor{{Tensor: value.Tensor{Shape: sh, Data: x}}}, out); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if d := maxAbs(out[0].Data, net.Reference(x, n, h, w)); d > 1e-5 {
		t.Errorf("%s: max-abs difference %g", what, d)
	}
}

// TestSharedSessions: opens with the same content and options share one
// ONNX Runtime session, whatever the path and however the defaults are
// spelt; other shapes, threads, spinning or Exclusive do not.
func TestSharedSessions(t *testing.T) {
	needORT(t)
	net := onnxgen.NewConvNet()
	path := writeModel(t, net.Model(1, -1, -1))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.onnx")
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m0, r0 := ort.SharedSessions()
	base := engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{"x": {1, 3, 8, 8}}}
	a := openOwn(t, path, base)
	b := openOwn(t, path, base)
	wantShared(t, "two opens", m0, r0, 1, 2)
	ba, bb := a.(engine.Buffers), b.(engine.Buffers)
	if engine.SameBuffer(ba.InputBuffers()[0].Data, bb.InputBuffers()[0].Data) ||
		engine.SameBuffer(ba.OutputBuffers()[0].Data, bb.OutputBuffers()[0].Data) {
		t.Error("sharing sessions have the same buffers")
	}
	same := base
	same.Devices = []string{engine.CPU}
	c := openOwn(t, copyPath, same)
	wantShared(t, "same content at another path, devices {cpu}", m0, r0, 1, 3)

	sessions := []engine.Session{a, b, c}
	variants := []struct {
		name   string
		mod    func(o *engine.Options)
		models int
	}{
		{"other shape", func(o *engine.Options) { o.Shapes = map[string][]int{"x": {1, 3, 8, 12}} }, 1},
		{"other threads", func(o *engine.Options) { o.IntraOpThreads = 2 }, 1},
		{"no spin", func(o *engine.Options) { o.NoSpin = true }, 1},
		{"exclusive", func(o *engine.Options) { o.Exclusive = true }, 0},
	}
	models, refs := 1, 3
	for _, v := range variants {
		o := base
		v.mod(&o)
		sessions = append(sessions, openOwn(t, path, o))
		models += v.models
		refs += v.models
		wantShared(t, v.name, m0, r0, models, refs)
	}
	// A second exclusive open makes another private session.
	ex := base
	ex.Exclusive = true
	sessions = append(sessions, openOwn(t, path, ex))
	wantShared(t, "second exclusive", m0, r0, models, refs)

	for i, s := range sessions {
		checkConv(t, "session "+string(rune('a'+i)), net, s, uint64(20+i))
	}
	for _, s := range sessions {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	wantShared(t, "all closed", m0, r0, 0, 0)
}

// TestSharedConcurrentRuns: two sessions sharing one ONNX Runtime session
// run concurrently, one through copies and one in place, each on inputs of
// its own, and each gets exactly what a private session computes.
func TestSharedConcurrentRuns(t *testing.T) {
	needORT(t)
	const h, w, inputs, runs = 16, 16, 4, 200
	net := onnxgen.NewConvNet()
	path := writeModel(t, net.Model(1, h, w))
	opts := engine.Options{IntraOpThreads: 1}
	priv := opts
	priv.Exclusive = true
	ref := openOwn(t, path, priv)

	m0, r0 := ort.SharedSessions()
	ss := []engine.Session{openOwn(t, path, opts), openOwn(t, path, opts)}
	wantShared(t, "two opens", m0, r0, 1, 2)

	// xs[g][k] is goroutine g's k-th input; wants[g][k] its private result.
	var xs, wants [2][inputs][]float32
	for g := range 2 {
		for k := range inputs {
			x := randData(3*h*w, uint64(100+10*g+k))
			out := []engine.Tensor{{Tensor: value.NewTensor(1, 1, h, w)}}
			if err := ref.Run([]engine.Tensor{{Tensor: value.Tensor{Shape: []int{1, 3, h, w}, Data: x}}}, out); err != nil {
				t.Fatal(err)
			}
			if d := maxAbs(out[0].Data, net.Reference(x, 1, h, w)); d > 1e-5 {
				t.Fatalf("private session: max-abs difference %g", d)
			}
			xs[g][k], wants[g][k] = x, out[0].Data
		}
	}
	var wg sync.WaitGroup
	for g, s := range ss {
		wg.Go(func() {
			var in, out []engine.Tensor
			if g == 0 {
				in = []engine.Tensor{{Tensor: value.Tensor{Shape: []int{1, 3, h, w}}}}
				out = []engine.Tensor{{Tensor: value.NewTensor(1, 1, h, w)}}
			} else {
				b := s.(engine.Buffers)
				in, out = b.InputBuffers(), b.OutputBuffers()
			}
			for r := range runs {
				k := (r + g) % inputs
				if g == 0 {
					in[0].Data = xs[g][k]
				} else {
					copy(in[0].Data, xs[g][k])
				}
				if err := s.Run(in, out); err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				if d := maxAbs(out[0].Data, wants[g][k]); d != 0 {
					t.Errorf("goroutine %d, run %d: differs from the private session by %g", g, r, d)
					return
				}
			}
		})
	}
	wg.Wait()
	b := ss[1].(engine.Buffers)
	in, out := b.InputBuffers(), b.OutputBuffers()
	if a := testing.AllocsPerRun(20, func() {
		if err := ss[1].Run(in, out); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Run on a shared session allocates %v times", a)
	}
}

// TestSharedClose: closing one sharing session leaves the other working;
// closing both empties the cache; the model opens again afterwards.
func TestSharedClose(t *testing.T) {
	needORT(t)
	net := onnxgen.NewConvNet()
	path := writeModel(t, net.Model(1, 12, 10))
	opts := engine.Options{IntraOpThreads: 1}
	m0, r0 := ort.SharedSessions()
	a, b := openOwn(t, path, opts), openOwn(t, path, opts)
	wantShared(t, "two opens", m0, r0, 1, 2)
	checkConv(t, "a", net, a, 30)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantShared(t, "one closed", m0, r0, 1, 1)
	if err := a.Run(a.(engine.Buffers).InputBuffers(), a.(engine.Buffers).OutputBuffers()); err == nil {
		t.Error("Run after Close succeeded")
	}
	checkConv(t, "b after a closed", net, b, 31)
	b.Close()
	b.Close()
	wantShared(t, "both closed", m0, r0, 0, 0)
	c := openOwn(t, path, opts)
	wantShared(t, "reopened", m0, r0, 1, 1)
	checkConv(t, "c", net, c, 32)
	c.Close()
	wantShared(t, "reopened and closed", m0, r0, 0, 0)
}

// probeFailModel reshapes x [1,3,h,w] to [1,-1,12]: it loads for any
// shape, but its probe run fails unless h·w is a multiple of 4.
func probeFailModel() *onnxgen.Builder {
	return onnxgen.New("reshape12").
		Input("x", 1, 3, -1, -1).
		Output("y", 1, -1, 12).
		Int64("shape", []int64{1, -1, 12}, 3).
		Node("Reshape", []string{"x", "shape"}, []string{"y"})
}

// TestSharedOpenConcurrent: concurrent opens of one model share one load;
// concurrent opens that fail (in the probe run, after the ONNX Runtime
// session is made, or before) leave no reference behind.
func TestSharedOpenConcurrent(t *testing.T) {
	needORT(t)
	const n = 8
	path := writeModel(t, probeFailModel())
	good := engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{"x": {1, 3, 2, 2}}}
	bad := engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{"x": {1, 3, 3, 3}}}
	m0, r0 := ort.SharedSessions()

	ss := make([]engine.Session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ss[i], errs[i] = ort.New().Open(path, good) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { ss[i].Close() })
	}
	wantShared(t, "concurrent opens", m0, r0, 1, n)
	x := randData(12, 40)
	for i, s := range ss {
		out := []engine.Tensor{{Tensor: value.NewTensor(1, 1, 12)}}
		if err := s.Run([]engine.Tensor{{Tensor: value.Tensor{Shape: []int{1, 3, 2, 2}, Data: x}}}, out); err != nil {
			t.Fatal(err)
		}
		if d := maxAbs(out[0].Data, x); d != 0 {
			t.Errorf("session %d: reshape differs by %g", i, d)
		}
	}

	bads := make([]engine.Session, n)
	for i := range n {
		wg.Go(func() { bads[i], errs[i] = ort.New().Open(path, bad) })
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			bads[i].Close()
			t.Errorf("open %d with a failing probe run succeeded", i)
		} else if !strings.Contains(err.Error(), "probe run") {
			t.Errorf("open %d: %v", i, err)
		}
	}
	wantShared(t, "failed opens", m0, r0, 1, n)
	misfit := engine.Options{Shapes: map[string][]int{"x": {2, 3, 2, 2}}}
	if _, err := ort.New().Open(path, misfit); err == nil {
		t.Error("misfit shape opened")
	}
	wantShared(t, "misfit shape", m0, r0, 1, n)
	for _, s := range ss {
		s.Close()
	}
	wantShared(t, "all closed", m0, r0, 0, 0)
	if _, err := ort.New().Open(path, bad); err == nil {
		t.Error("failing probe run opened")
	}
	wantShared(t, "failed open, empty cache", m0, r0, 0, 0)
}

// TestShutdownShared: Shutdown fails while a shared session is open and
// leaves it working; once it is closed, the environment goes and comes
// back.
func TestShutdownShared(t *testing.T) {
	needORT(t)
	net := onnxgen.NewConvNet()
	path := writeModel(t, net.Model(1, 8, 8))
	opts := engine.Options{IntraOpThreads: 1}
	a, b := openOwn(t, path, opts), openOwn(t, path, opts)
	a.Close()
	if err := ort.Shutdown(); err == nil || !strings.Contains(err.Error(), "1 sessions open") {
		t.Fatalf("Shutdown with a shared session open: %v", err)
	}
	checkConv(t, "after refused shutdown", net, b, 50)
	b.Close()
	if m, r := ort.SharedSessions(); m != 0 || r != 0 {
		t.Skipf("other sessions are open (%d models, %d refs)", m, r)
	}
	if err := ort.Shutdown(); err != nil {
		t.Fatal(err)
	}
	needORT(t)
	c := openOwn(t, path, opts)
	checkConv(t, "after re-initialisation", net, c, 51)
}

// mlpModel is x [1,512] → 4 × (MatMul 512×512, Relu) → y [1,512]: 4 MiB
// of weights.
func mlpModel() *onnxgen.Builder {
	const d = 512
	b := onnxgen.New("mlp").Input("x", 1, d).Output("y", 1, d)
	prev := "x"
	for i := range 4 {
		w := randData(d*d, uint64(60+i))
		for k := range w {
			w[k] = (w[k] - 0.5) / d
		}
		wn, mn, rn := "w"+string(rune('0'+i)), "m"+string(rune('0'+i)), "r"+string(rune('0'+i))
		if i == 3 {
			rn = "y"
		}
		b.Float(wn, w, d, d).
			Node("MatMul", []string{prev, wn}, []string{mn}).
			Node("Relu", []string{mn}, []string{rn})
		prev = rn
	}
	return b
}

// benchOpen measures Open and Close of one session; with shared, another
// session of the same model stays open meanwhile, so each Open finds the
// model loaded.
func benchOpen(b *testing.B, exclusive bool) {
	needORT(b)
	models := []struct {
		name string
		path func(b *testing.B) string
		opts engine.Options
	}{
		{"mlp4MiB", func(b *testing.B) string { return writeModel(b, mlpModel()) }, engine.Options{IntraOpThreads: 1}},
		{"ppocr512", ppocrBench, engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{"x": {1, 3, 512, 512}}}},
	}
	for _, m := range models {
		b.Run(m.name, func(b *testing.B) {
			path := m.path(b)
			opts := m.opts
			opts.Exclusive = exclusive
			if !exclusive {
				open(b, path, opts)
			}
			for b.Loop() {
				s, err := ort.New().Open(path, opts)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}

func ppocrBench(b *testing.B) string { return ppocr(b) }

func BenchmarkOpenShared(b *testing.B)    { benchOpen(b, false) }
func BenchmarkOpenExclusive(b *testing.B) { benchOpen(b, true) }
