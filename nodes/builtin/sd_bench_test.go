package builtin

import (
	"fmt"
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

// BenchmarkKSamplerStep times KSampler (4 steps on a 512×512 frame's
// latent, [1,4,64,64], the tiny UNet) against the same number of raw Runs
// of its UNet session on its bound buffers: the sampler's own cost per
// denoising step (input scaling, timestep, calculate_denoised, cfg, the
// step maths, noise) is (kernel − raw)/steps, reported as
// overhead-µs/step and overhead-% of the UNet time. cfg 1 makes one UNet
// row per step, cfg 7 two (batched in one Run). lcm and euler_ancestral
// add step noise (ComfyUI's, PyTorch's CPU generator), drawn once in
// Prepare and read per step (before that, a randn per step made lcm's
// overhead ~470 µs/step against euler's ~40). allocs/op is per frame.
func BenchmarkKSamplerStep(b *testing.B) {
	p := needORT(b)
	dir := sdModels(b, onnxgen.TinySD{})
	ck := runPrepared(b, modelKernel(b, "CheckpointLoaderSimple", p, dir), str("tiny"))
	pos := runPrepared(b, modelKernel(b, "CLIPTextEncode", p, dir), str("a photo of a cat"), ck[1])[0]
	neg := runPrepared(b, modelKernel(b, "CLIPTextEncode", p, dir), str(""), ck[1])[0]
	lat := value.New(value.LatentSpec(1, 4, 64, 64))
	for i := range lat.Tensor.Data {
		lat.Tensor.Data[i] = float32(i%97) / 50
	}
	const steps = 4
	for _, c := range []struct {
		sampler string
		cfg     float64
	}{{"euler", 1}, {"euler", 7}, {"lcm", 1}, {"euler_ancestral", 1}} {
		cfg := c.cfg
		in := []value.Value{ck[0], i64(1), i64(steps), f64(cfg), str(c.sampler), str("normal"), pos, neg, lat, f64(1)}
		k := modelKernel(b, "KSampler", p, dir)
		out := prepare(b, k, in)
		den := k.(*kSampler).den
		b.Run(fmt.Sprintf("%s-cfg%g", c.sampler, cfg), func(b *testing.B) {
			var kt, rt time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				for range steps {
					if err := den.sess.Run(den.in, den.out); err != nil {
						b.Fatal(err)
					}
				}
				kt += t1.Sub(t0)
				rt += time.Since(t1)
			}
			n := float64(b.N * steps)
			over := (kt - rt).Seconds() / n
			b.ReportMetric(rt.Seconds()/n*1e6, "unet-µs/step")
			b.ReportMetric(over*1e6, "overhead-µs/step")
			b.ReportMetric(over/(rt.Seconds()/n)*100, "overhead-%")
		})
	}
}
