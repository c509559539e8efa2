package wasmv1

import (
	"comfyrt/internal/testkit"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

// BenchmarkColorGrade512 compares, in one run, the example guest's
// ColorGrade at 512×512 through the WASM call path with the same code in
// plain Go, and splits the WASM path into its parts:
//
//	go          colorGradeRef on the host
//	wasm        Kernel.Run: copy in + call (guest compute) + copy out
//	copy-in     the input's 3 MiB memmove into guest memory
//	copy-out    the output's 3 MiB memmove out of guest memory
//	call        comfyrt_v1_run alone (guest compute + call overhead)
//	call-no-deadline  the call without wazero's termination checks
//	call-empty  the call overhead with no work (an 8×8 frame)
func BenchmarkColorGrade512(b *testing.B) {
	p := mustLoad(b, testkit.CopyExamplePack(b))
	r := registry(b, p)
	const h, w = 512, 512
	img := ramp(1, h, w, 3)
	spec := []value.Spec{value.TensorSpec(value.Image, 1, h, w, 3), constF(0.05), constF(1.2), constF(1.4)}
	in := []value.Value{value.OfTensor(value.Image, img), value.OfFloat(0.05), value.OfFloat(1.2), value.OfFloat(1.4)}
	k, out := kernel(b, r, "ColorGrade", spec)
	wk := k.(*wasmKernel)
	bytes := int64(len(img.Data) * 4)

	b.Run("go", func(b *testing.B) {
		dst := make([]float32, len(img.Data))
		b.SetBytes(bytes)
		for b.Loop() {
			colorGradeRef(dst, img.Data, 0.05, 1.2, 1.4)
		}
	})
	b.Run("wasm", func(b *testing.B) {
		b.SetBytes(bytes)
		b.ReportAllocs()
		for b.Loop() {
			if err := nodes.SafeRun(k, in, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("copy-in", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			buf, _ := wk.mem.Read(wk.inPtr[0], uint32(bytes))
			putFloats(buf, img.Data)
		}
	})
	b.Run("copy-out", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			buf, _ := wk.mem.Read(wk.outPtr[0], uint32(bytes))
			getFloats(out[0].Tensor.Data, buf)
		}
	})
	b.Run("call", func(b *testing.B) {
		for b.Loop() {
			if err := wk.call(wk.run, wk.mod.timeout, exportRun); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("call-no-deadline", func(b *testing.B) {
		rt := mustRuntime(b)
		rt.noDeadline = true
		q, err := streampack.Load(testkit.CopyExamplePack(b), streampack.Options{WASM: rt})
		if err != nil {
			b.Fatal(err)
		}
		defer q.Close()
		qk, _ := kernel(b, registry(b, q), "ColorGrade", spec)
		qw := qk.(*wasmKernel)
		for b.Loop() {
			if err := qw.call(qw.run, qw.mod.timeout, exportRun); err != nil {
				b.Fatal(err)
			}
		}
	})
	small, sout := kernel(b, r, "ColorGrade", []value.Spec{value.TensorSpec(value.Image, 1, 8, 8, 3), constF(0), constF(1), constF(1)})
	sin := []value.Value{value.OfTensor(value.Image, ramp(1, 8, 8, 3)), value.OfFloat(0), value.OfFloat(1), value.OfFloat(1)}
	b.Run("call-empty", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := small.Run(sin, sout); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustRuntime(b *testing.B) *Runtime {
	rt, err := NewRuntime("") // a separate cache: the code differs
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close() })
	return rt
}
