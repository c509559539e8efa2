//go:build cgo

package ort_test

import (
	"strings"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

// TestTextEncoderInt64: input_ids int64 in, the embedding rows out, the
// dynamic batch and sequence bound, Run allocation-free.
func TestTextEncoderInt64(t *testing.T) {
	needORT(t)
	te := onnxgen.NewTextEncoder(50, 6)
	path := writeModel(t, te.Model())
	decl, _, err := ort.New().Inspect(path)
	if err != nil || decl[0].String() != "input_ids int64[-1,-1]" {
		t.Fatalf("inspect: %v %v", decl, err)
	}
	s := open(t, path, engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{"input_ids": {2, onnxgen.Tokens}}})
	if got := s.Outputs()[0].String() + " " + s.Outputs()[1].String(); got != "last_hidden_state float32[2,77,6] pooler_output float32[2,6]" {
		t.Fatalf("outputs %s", got)
	}
	bs := s.(engine.Buffers)
	in, out := bs.InputBuffers(), bs.OutputBuffers()
	for i := range in[0].Int64 {
		in[0].Int64[i] = int64((i * 7) % te.V)
	}
	if err := s.Run(in, out); err != nil {
		t.Fatal(err)
	}
	for i, id := range in[0].Int64 {
		for d := range te.D {
			if got, want := out[0].Data[i*te.D+d], te.Emb[int(id)*te.D+d]; got != want {
				t.Fatalf("token %d dim %d: %v, want %v", i, d, got, want)
			}
		}
	}
	var mean float64
	for i := range onnxgen.Tokens {
		mean += float64(out[0].Data[(onnxgen.Tokens+i)*te.D+3])
	}
	if d := mean/onnxgen.Tokens - float64(out[1].Data[te.D+3]); d > 1e-5 || d < -1e-5 {
		t.Errorf("pooler_output off by %g", d)
	}
	if a := testing.AllocsPerRun(20, func() { s.Run(in, out) }); a != 0 {
		t.Errorf("Run allocates %v", a)
	}
	// Int64 data passed as float32 is refused, naming the input.
	bad := []engine.Tensor{{Name: "input_ids"}}
	bad[0].Data = make([]float32, 2*77)
	if err := s.Run(bad, out); err == nil || !strings.Contains(err.Error(), "input_ids int64[2,77]") {
		t.Errorf("float data for int64 input: %v", err)
	}
}

// TestUNetTimestepTypes: both timestep variants (int64 and float32) give
// the reference values.
func TestUNetTimestepTypes(t *testing.T) {
	needORT(t)
	u := onnxgen.NewUNet(8)
	const n, h, w, seq = 2, 4, 6, onnxgen.Tokens
	sample := randData(n*4*h*w, 3)
	ehs := randData(n*seq*u.D, 4)
	want := u.Reference(sample, []float64{999, 1}, ehs, n, h, w, seq)
	for _, intTS := range []bool{true, false} {
		s := open(t, writeModel(t, u.Model(intTS)), engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{
			"sample": {n, 4, h, w}, "timestep": {n}, "encoder_hidden_states": {n, seq, u.D}}})
		in := engine.NewBuffers(s.Inputs())
		out := engine.NewBuffers(s.Outputs())
		copy(in[0].Data, sample)
		if intTS {
			copy(in[1].Int64, []int64{999, 1})
		} else {
			copy(in[1].Data, []float32{999, 1})
		}
		copy(in[2].Data, ehs)
		if err := s.Run(in, out); err != nil {
			t.Fatal(err)
		}
		if d := maxAbs(out[0].Data, want); d > 1e-5 {
			t.Errorf("int64 timestep %v: max abs %g", intTS, d)
		}
		if a := testing.AllocsPerRun(10, func() { s.Run(in, out) }); a != 0 {
			t.Errorf("Run allocates %v", a)
		}
	}
}

// TestVAEFloat16: the float16 encoder and decoder take and return float32
// on the graph side, converted at the boundary; values agree with the
// float32 reference to float16 precision, and exactly with the reference
// computed on the float16-rounded input.
func TestVAEFloat16(t *testing.T) {
	needORT(t)
	v := onnxgen.NewVAE()
	const n, h, w = 1, 16, 24
	x := randData(n*3*h*w, 5)
	for _, half := range []bool{false, true} {
		enc := open(t, writeModel(t, v.Encoder("sample", "latent_sample", half)), engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{"sample": {n, 3, h, w}}})
		dec := open(t, writeModel(t, v.Decoder("latent_sample", "sample", half)), engine.Options{IntraOpThreads: 1, Shapes: map[string][]int{"latent_sample": {n, 4, h / 8, w / 8}}})
		wantDT := engine.Float32
		if half {
			wantDT = engine.Float16
		}
		if enc.Inputs()[0].DType != wantDT || dec.Outputs()[0].String() != "sample "+wantDT.String()+"[1,3,16,24]" {
			t.Fatalf("half %v: %v → %v", half, enc.Inputs(), dec.Outputs())
		}
		eb := enc.(engine.Buffers)
		ein, eout := eb.InputBuffers(), eb.OutputBuffers()
		copy(ein[0].Data, x)
		if err := enc.Run(ein, eout); err != nil {
			t.Fatal(err)
		}
		z := v.Encode(x, n, h, w)
		tol := 1e-5
		if half {
			tol = 2e-3 // float16 has 11 significant bits; values are below 2
		}
		if d := maxAbs(eout[0].Data, z); d > tol {
			t.Errorf("half %v: encoder max abs %g", half, d)
		}
		dout := engine.NewBuffers(dec.Outputs())
		if err := dec.Run(eout, dout); err != nil {
			t.Fatal(err)
		}
		if d := maxAbs(dout[0].Data, v.Decode(eout[0].Data, n, h/8, w/8)); d > 2*tol {
			t.Errorf("half %v: decoder max abs %g", half, d)
		}
		if half {
			for _, f := range dout[0].Data {
				if engine.Float16Value(engine.Float16Bits(f)) != f {
					t.Fatalf("float16 output %v is not a float16 value", f)
				}
			}
		}
		if a := testing.AllocsPerRun(10, func() { enc.Run(ein, eout) }); a != 0 {
			t.Errorf("half %v: Run allocates %v", half, a)
		}
	}
}
