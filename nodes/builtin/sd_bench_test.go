package builtin

import (
	"testing"
	"time"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// BenchmarkVAE times VAEEncode and VAEDecode on the tiny VAE at 512×512
// (float32 and float16) against a raw Run of the same session on buffers
// already laid out: the kernel's own cost (layout, ×2−1, clamping and the
// float16 conversion inside Run) is kernel − raw, reported as
// overhead-µs and overhead-%. Kernel and raw alternate in short rounds so
// that a machine whose speed drifts affects both alike.
func BenchmarkVAE(b *testing.B) {
	p := needORT(b)
	for _, half := range []bool{false, true} {
		name := "fp32"
		if half {
			name = "fp16"
		}
		dir := sdModels(b, onnxgen.TinySD{Half: half})
		vae := runPrepared(b, modelKernel(b, "CheckpointLoaderSimple", p, dir), str("tiny"))[2]
		frame := randomImage(4, 1, 512, 512, 3)
		enc := modelKernel(b, "VAEEncode", p, dir)
		lat := prepare(b, enc, []value.Value{frame, vae})
		if err := enc.Run([]value.Value{frame, vae}, lat); err != nil {
			b.Fatal(err)
		}
		dec := modelKernel(b, "VAEDecode", p, dir)
		img := prepare(b, dec, []value.Value{lat[0], vae})
		b.Run("encode-"+name, func(b *testing.B) {
			benchVsRaw(b, enc, []value.Value{frame, vae}, lat, enc.(*vaeEncode).part)
		})
		b.Run("decode-"+name, func(b *testing.B) {
			benchVsRaw(b, dec, []value.Value{lat[0], vae}, img, dec.(*vaeDecode).part)
		})
	}
}

func benchVsRaw(b *testing.B, k nodes.Kernel, in, out []value.Value, part *vaePart) {
	raw := func() error { return part.sess.Run(part.in, part.out) }
	var kt, rt time.Duration
	const round = 5
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for range round {
			if err := k.Run(in, out); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range round {
			if err := raw(); err != nil {
				b.Fatal(err)
			}
		}
		kt += t1.Sub(t0)
		rt += time.Since(t1)
	}
	n := float64(b.N * round)
	over := (kt - rt).Seconds() / n
	b.ReportMetric(kt.Seconds()/n*1e3, "kernel-ms")
	b.ReportMetric(rt.Seconds()/n*1e3, "raw-ms")
	b.ReportMetric(over*1e6, "overhead-µs")
	b.ReportMetric(over/(rt.Seconds()/n)*100, "overhead-%")
}
