package engine_test

import (
	"path/filepath"
	"testing"
	"time"

	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
)

// Counter counts per model the sessions opened and open and their Runs,
// under the model's label, and hands the wrapped sessions' bound buffers
// on.
func TestCounter(t *testing.T) {
	p := fake.New()
	m := fake.Model{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{1, 2}}},
		Outputs: []engine.TensorInfo{{Name: "y", DType: engine.Float32, Shape: []int{1, 2}}}}
	p.Add("/models/a/model.onnx", m)
	p.Add("/models/b.onnx", m)
	c := engine.NewCounter(p)
	c.Label = func(path string) string { r, _ := filepath.Rel("/models", path); return r }
	open := func(path string) engine.Session {
		s, err := c.Open(path, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a1, a2, b := open("/models/a/model.onnx"), open("/models/a/model.onnx"), open("/models/b.onnx")
	bs, ok := a1.(engine.Buffers)
	if !ok {
		t.Fatal("a counted session does not pass its buffers on")
	}
	for range 3 {
		if err := a1.Run(bs.InputBuffers(), bs.OutputBuffers()); err != nil {
			t.Fatal(err)
		}
	}
	a2.Close()
	a2.Close() // idempotent: counted once
	if _, err := c.Open("/models/none.onnx", engine.Options{}); err == nil {
		t.Error("a model the provider does not have opened")
	}
	got := c.Models()
	want := []engine.ModelCount{{Model: "a/model.onnx", Opened: 2, Open: 1, Runs: 3}, {Model: "b.onnx", Opened: 1, Open: 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Models() = %+v, want %+v", got, want)
	}
	b.Close()
	a1.Close()
}

// bare is a session without buffers of its own.
type bare struct{ engine.Session }

// Observed reports each Run's time and the first Close, and is a Buffers
// exactly when the wrapped session is one.
func TestObserved(t *testing.T) {
	p := fake.New()
	m := fake.Model{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{1, 2}}},
		Outputs: []engine.TensorInfo{{Name: "y", DType: engine.Float32, Shape: []int{1, 2}}}}
	p.Add("/m.onnx", m)
	s, err := p.Open("/m.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, closes := 0, 0
	o := engine.Observed(s, func(d time.Duration) {
		if d < 0 {
			t.Errorf("Run took %v", d)
		}
		runs++
	}, func() { closes++ })
	b, ok := o.(engine.Buffers)
	if !ok {
		t.Fatal("the observed fake session is not a Buffers")
	}
	if in := b.InputBuffers(); &in[0].Data[0] != &s.(engine.Buffers).InputBuffers()[0].Data[0] {
		t.Error("InputBuffers are not the wrapped session's own")
	}
	for range 3 {
		if err := o.Run(b.InputBuffers(), b.OutputBuffers()); err != nil {
			t.Fatal(err)
		}
	}
	o.Close()
	o.Close()
	if runs != 3 || closes != 1 {
		t.Errorf("%d Runs and %d Closes reported, want 3 and 1", runs, closes)
	}
	if _, ok := engine.Observed(bare{s}, nil, nil).(engine.Buffers); ok {
		t.Error("a session without buffers became a Buffers when observed")
	}
}
