package builtin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/internal/onnxgen"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// sdModels writes a models folder with a tiny export at checkpoints/tiny,
// TAESD in vae_approx/, a lone VAE at vae/tinyvae/, the UNet for
// TensorRTLoader, a CLIP folder and a ControlNet.
func sdModels(t testing.TB, sd onnxgen.TinySD) string {
	t.Helper()
	dir := t.TempDir()
	if err := sd.Write(filepath.Join(dir, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	if err := onnxgen.WriteTAESD(dir); err != nil {
		t.Fatal(err)
	}
	if err := (onnxgen.TinySD{Half: true}).Write(filepath.Join(dir, "vae", "tinyvae")); err != nil {
		t.Fatal(err)
	}
	_, unet, te := sd.Parts()
	os.MkdirAll(filepath.Join(dir, "tensorrt"), 0o755)
	if err := unet.Model(true).WriteFile(filepath.Join(dir, "tensorrt", "tiny_unet.onnx")); err != nil {
		t.Fatal(err)
	}
	clip := filepath.Join(dir, "text_encoders", "clip_l")
	os.MkdirAll(clip, 0o755)
	if err := te.Model().WriteFile(filepath.Join(clip, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vocab.json", "merges.txt"} {
		data, _ := os.ReadFile(filepath.Join(dir, "checkpoints", "tiny", "tokenizer", f))
		os.WriteFile(filepath.Join(clip, f), data, 0o644)
	}
	if err := onnxgen.WriteControlNet(dir, "tiny_cn", sd.TextWidth()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func handleOut(t testing.TB, out []value.Value, i int) any {
	t.Helper()
	if out[i].Kind != value.Handle || out[i].Handle == nil {
		t.Fatalf("output %d: %v", i, out[i])
	}
	return out[i].Handle
}

func TestSDLoaders(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	out := runPrepared(t, modelKernel(t, "CheckpointLoaderSimple", p, dir), str("tiny.safetensors"))
	unet := handleOut(t, out, 0).(*SDUNet)
	clip := handleOut(t, out, 1).(*SDCLIP)
	vae := handleOut(t, out, 2).(*SDVAE)
	if ts, _ := unet.IO.Input("timestep"); ts.String() != "timestep int64[-1]" || unet.LatentScale != 0.18215 || unet.Scheduler.PredictionType != "epsilon" {
		t.Errorf("unet %+v", unet)
	}
	if clip.LastLayer != -1 || filepath.Base(clip.Vocab) != "vocab.json" || len(clip.IO.Outputs) != 2 {
		t.Errorf("clip %+v", clip)
	}
	if vae.VAE.TAESD || vae.VAE.Scale != 0.18215 || vae.Enc.Outputs[0].Name != "latent_sample" {
		t.Errorf("vae %+v", vae)
	}
	out = runPrepared(t, modelKernel(t, "CLIPSetLastLayer", p, dir), value.OfHandle(clip), i64(-2))
	if c := handleOut(t, out, 0).(*SDCLIP); c.LastLayer != -2 || clip.LastLayer != -1 {
		t.Errorf("CLIPSetLastLayer: %d (source %d)", c.LastLayer, clip.LastLayer)
	}
	out = runPrepared(t, modelKernel(t, "TensorRTLoader", p, dir), str("tiny_unet.engine"), str("SD15"))
	if u := handleOut(t, out, 0).(*SDUNet); filepath.Base(u.Path) != "tiny_unet.onnx" || u.Scheduler.BetaSchedule != "scaled_linear" {
		t.Errorf("TensorRTLoader %+v", u)
	}
	out = runPrepared(t, modelKernel(t, "VAELoader", p, dir), str("taesd"))
	if v := handleOut(t, out, 0).(*SDVAE); !v.VAE.TAESD {
		t.Errorf("taesd %+v", v)
	}
	out = runPrepared(t, modelKernel(t, "VAELoader", p, dir), str("tinyvae.safetensors"))
	if v := handleOut(t, out, 0).(*SDVAE); v.Dec.Inputs[0].DType.String() != "float16" {
		t.Errorf("fp16 vae %+v", v.Dec)
	}
	out = runPrepared(t, modelKernel(t, "CLIPLoader", p, dir), str("clip_l.safetensors"), str("stable_diffusion"), str("default"))
	if c := handleOut(t, out, 0).(*SDCLIP); c.IO.Inputs[0].String() != "input_ids int64[-1,-1]" {
		t.Errorf("CLIPLoader %+v", c)
	}
	out = runPrepared(t, modelKernel(t, "ControlNetLoader", p, dir), str("tiny_cn.safetensors"))
	if c := handleOut(t, out, 0).(*SDControlNet); len(c.IO.Outputs) != 2 {
		t.Errorf("ControlNetLoader %+v", c)
	}
}

func TestSDLoaderErrors(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	os.WriteFile(filepath.Join(dir, "checkpoints", "v1-5-pruned-emaonly.safetensors"), []byte("x"), 0o644)
	cases := []struct {
		class string
		in    []value.Value
		code  diag.Code
		want  []string
	}{
		{"CheckpointLoaderSimple", []value.Value{str("v1-5-pruned-emaonly.safetensors")}, diag.MissingFile,
			[]string{"checkpoints/v1-5-pruned-emaonly/", "optimum-cli export onnx", "--task stable-diffusion"}},
		{"CheckpointLoaderSimple", []value.Value{str("../tiny")}, diag.InvalidFile, []string{"not a name inside the models folder"}},
		{"TensorRTLoader", []value.Value{str("missing.engine"), str("SD15")}, "", []string{"tensorrt/missing.onnx", "TensorRT execution provider"}},
		{"TensorRTLoader", []value.Value{str("tiny_unet.engine"), str("Flux")}, "", []string{`model_type: "Flux" is not supported`}},
		{"VAELoader", []value.Value{str("taesdxl")}, diag.MissingFile, []string{"vae/taesdxl/"}},
		{"CLIPLoader", []value.Value{str("clip_l"), str("sd3"), str("default")}, "", []string{`type: "sd3" is not supported`}},
		{"ControlNetLoader", []value.Value{str("canny.pth")}, "", []string{"controlnet/canny.onnx", "controlnet_cond"}},
		{"ControlNetLoader", []value.Value{str("../tensorrt/tiny_unet")}, diag.InvalidFile, []string{"not a file name inside the models folder's controlnet/"}},
	}
	for _, c := range cases {
		_, err := nodes.SafePrepare(modelKernel(t, c.class, p, dir), specsOf(c.in))
		if err == nil {
			t.Errorf("%s %v: no error", c.class, c.in)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\n  lacks %q", c.class, err, w)
			}
		}
		var fe *nodes.FileError
		if c.code != "" && (!errors.As(err, &fe) || fe.Code != c.code) {
			t.Errorf("%s: %v is not a %s FileError", c.class, err, c.code)
		}
	}
	// A UNet whose timestep is missing names what the export has.
	onnxgen.NewConvNet().Model(1, -1, -1).WriteFile(filepath.Join(dir, "tensorrt", "conv.onnx"))
	_, err := nodes.SafePrepare(modelKernel(t, "TensorRTLoader", p, dir), specsOf([]value.Value{str("conv.engine"), str("SD15")}))
	if err == nil || !strings.Contains(err.Error(), "no input sample") || strings.Contains(err.Error(), dir) {
		t.Errorf("conv as UNet: %v", err)
	}
	// Without an engine or models folder the loaders say so.
	if _, err := nodes.SafePrepare(modelKernel(t, "VAELoader", nil, dir), specsOf([]value.Value{str("taesd")})); !errors.Is(err, errNoEngine) {
		t.Errorf("no engine: %v", err)
	}
	if _, err := nodes.SafePrepare(modelKernel(t, "VAELoader", p, ""), specsOf([]value.Value{str("taesd")})); err == nil || !strings.Contains(err.Error(), "no models folder") {
		t.Errorf("no models folder: %v", err)
	}
}

// blockAverage returns x [b,h,w,3] cropped as VAEEncode crops it (to
// multiples of 8 about the centre) and replaced by its 8×8 block means.
func blockAverage(x value.Tensor) []float32 {
	b, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	hc, wc, yo, xo := h/8*8, w/8*8, (h%8)/2, (w%8)/2
	out := make([]float32, b*hc*wc*3)
	for n := range b {
		for by := 0; by < hc; by += 8 {
			for bx := 0; bx < wc; bx += 8 {
				for c := range 3 {
					s := 0.0
					for y := range 8 {
						for xx := range 8 {
							s += float64(x.Data[((n*h+by+y+yo)*w+bx+xx+xo)*3+c])
						}
					}
					for y := range 8 {
						for xx := range 8 {
							out[((n*hc+by+y)*wc+bx+xx)*3+c] = float32(s / 64)
						}
					}
				}
			}
		}
	}
	return out
}

// nchw lays the crop of x out as the encoder's input, mapped by a·x+b.
func nchw(x value.Tensor, a, b float32) []float32 {
	n, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	hc, wc, yo, xo := h/8*8, w/8*8, (h%8)/2, (w%8)/2
	out := make([]float32, n*3*hc*wc)
	for i := range n {
		for c := range 3 {
			for y := range hc {
				for xx := range wc {
					out[((i*3+c)*hc+y)*wc+xx] = x.Data[((i*h+y+yo)*w+xx+xo)*3+c]*a + b
				}
			}
		}
	}
	return out
}

// TestVAEEncodeDecode: VAEEncode gives the tiny encoder's latents of the
// cropped, ×2−1 picture; VAEDecode of them gives the picture's 8×8 block
// means (the decoder inverts the encoder's channel map); for float32,
// float16 and TAESD, batch 2, Run allocation-free.
func TestVAEEncodeDecode(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	frame := randomImage(9, 2, 36, 44, 3) // crops to 32×40, offsets 2, 2
	cases := []struct {
		loader, name string
		vae          onnxgen.VAE
		tol          float64
		taesd        bool
	}{
		{"CheckpointLoaderSimple", "tiny", onnxgen.NewVAE(), 1e-5, false},
		{"VAELoader", "tinyvae", onnxgen.NewVAE(), 4e-3, false},
		{"VAELoader", "taesd", onnxgen.NewTAESD(), 1e-5, true},
	}
	for _, c := range cases {
		lo := runPrepared(t, modelKernel(t, c.loader, p, dir), str(c.name))
		vae := lo[len(lo)-1]
		lat := runPrepared(t, modelKernel(t, "VAEEncode", p, dir), frame, vae)
		wantShape(t, lat[0], 2, 4, 4, 5)
		var want []float32
		if c.taesd {
			want = c.vae.Encode(nchw(frame.Tensor, 1, 0), 2, 32, 40)
			for i := range want {
				want[i] /= 0.18215
			}
		} else {
			want = c.vae.Encode(nchw(frame.Tensor, 2, -1), 2, 32, 40)
		}
		if d := maxAbsDiff(lat[0].Tensor.Data, want); d > c.tol*10 {
			t.Errorf("%s: latents off by %g", c.name, d)
		}
		img := runPrepared(t, modelKernel(t, "VAEDecode", p, dir), lat[0], vae)
		wantShape(t, img[0], 2, 32, 40, 3)
		if d := maxAbsDiff(img[0].Tensor.Data, blockAverage(frame.Tensor)); d > c.tol {
			t.Errorf("%s: decode(encode(x)) off the block means by %g", c.name, d)
		}
	}
}

func TestVAEEncodeErrors(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{})
	vae := runPrepared(t, modelKernel(t, "CheckpointLoaderSimple", p, dir), str("tiny"))[2]
	for _, c := range []struct {
		class string
		in    []value.Value
		want  string
	}{
		{"VAEEncode", []value.Value{randomImage(1, 1, 4, 4, 3), vae}, "smaller than the VAE's 8×8"},
		{"VAEEncode", []value.Value{randomImage(1, 1, 16, 16, 3), str("x")}, "input vae: want a VAE"},
		{"VAEDecode", []value.Value{value.OfTensor(value.Latent, value.NewTensor(1, 3, 4, 4)), vae}, "3 latent channels"},
		{"VAEDecode", []value.Value{randomImage(1, 1, 16, 16, 3), vae}, "input samples: want LATENT"},
	} {
		_, err := nodes.SafePrepare(modelKernel(t, c.class, p, dir), specsOf(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.class, err, c.want)
		}
	}
}
