package builtin

import (
	"fmt"
	"testing"
	"time"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/value"
)

// BenchmarkStreamDiffusionStep is StreamDiffusionSampler's per-frame
// overhead on a 512×512 stream (a 64×64 latent) of the tiny models:
// the node's Run minus the same sessions' Runs (the UNet on the batch of
// rows, the VAE encoder and decoder) on their bound tensors — the resize,
// the latent scaling, the stream step's arithmetic (noise, guidance, the
// LCM boundary condition, the re-noise of the batch) and the copies.
// allocs/op is per frame.
func BenchmarkStreamDiffusionStep(b *testing.B) {
	p := needORT(b)
	dir := sdModels(b, onnxgen.TinySD{})
	ck := runPrepared(b, modelKernel(b, "StreamDiffusionCheckpointLoader", p, dir), str("tiny"))[0]
	frame := value.New(value.ImageSpec(1, 512, 512))
	for i := range frame.Tensor.Data {
		frame.Tensor.Data[i] = float32(i%251) / 250
	}
	for _, cfgType := range []string{"none", "self", "full"} {
		cfg := runPrepared(b, modelKernel(b, "StreamDiffusionConfig", p, dir), ck, str("39,35,30"), str("img2img"), i64(512), i64(512),
			str("none"), i64(1), boolean(true), str(cfgType), boolean(true), i64(2))[0]
		in := []value.Value{cfg, str("a photo of a cat"), str(""), i64(50), f64(1.2), f64(1), frame}
		k := modelKernel(b, "StreamDiffusionSampler", p, dir).(*streamSampler)
		out := prepare(b, k, in)
		if err := k.Run(in, out); err != nil { // warm-up frame
			b.Fatal(err)
		}
		u, enc, dec := k.unet, k.enc.part, k.dec.part
		b.Run(fmt.Sprintf("cfg-%s", cfgType), func(b *testing.B) {
			var kt, ut, vt time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				for r0 := 0; r0 < u.rows; r0 += u.mb {
					if err := u.sess.Run(u.in, u.out); err != nil {
						b.Fatal(err)
					}
				}
				t2 := time.Now()
				if err := enc.sess.Run(enc.in, enc.out); err != nil {
					b.Fatal(err)
				}
				if err := dec.sess.Run(dec.in, dec.out); err != nil {
					b.Fatal(err)
				}
				kt += t1.Sub(t0)
				ut += t2.Sub(t1)
				vt += time.Since(t2)
			}
			n := float64(b.N)
			over := (kt - ut - vt).Seconds() / n
			b.ReportMetric(ut.Seconds()/n*1e6, "unet-µs/frame")
			b.ReportMetric(vt.Seconds()/n*1e6, "vae-µs/frame")
			b.ReportMetric(over*1e6, "overhead-µs/frame")
			b.ReportMetric(over/(kt.Seconds()/n)*100, "overhead-%")
		})
	}
}
