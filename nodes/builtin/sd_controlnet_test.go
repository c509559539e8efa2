package builtin

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/value"
)

// cnSetup is sdSetup plus the ControlNet-enabled UNet (TensorRTLoader) and
// the tiny ControlNet.
type cnSetup struct {
	*sdSetup
	cp     *testkit.RunCounter
	cnUNet *SDUNet
	net    *SDControlNet
	cn     onnxgen.ControlNet
}

func newCNSetup(t *testing.T) *cnSetup {
	t.Helper()
	cp := testkit.CountRuns(needORT(t))
	s := &cnSetup{sdSetup: newSDSetup(t, cp), cp: cp}
	if err := onnxgen.WriteControlNetUNet(filepath.Join(s.dir, "tensorrt", "tiny_cn_unet.onnx"), 8); err != nil {
		t.Fatal(err)
	}
	s.cnUNet = runPrepared(t, modelKernel(t, "TensorRTLoader", cp, s.dir), str("tiny_cn_unet.engine"), str("SD15"))[0].Handle.(*SDUNet)
	s.net = runPrepared(t, modelKernel(t, "ControlNetLoader", cp, s.dir), str("tiny_cn.safetensors"))[0].Handle.(*SDControlNet)
	s.cn = onnxgen.ControlNet{U: onnxgen.NewUNet(8)}
	return s
}

// cnImage is a hint picture [1,16,24,3] (half the hint size of a
// [1,4,4,6] latent).
func cnImage() value.Value {
	v := value.New(value.ImageSpec(1, 16, 24))
	for i := range v.Tensor.Data {
		v.Tensor.Data[i] = float32(0.5 + 0.5*math.Sin(float64(i)*0.31))
	}
	return v
}

func cnLatent() value.Value {
	l := value.New(value.LatentSpec(1, 4, 4, 6))
	for i := range l.Tensor.Data {
		l.Tensor.Data[i] = float32(math.Cos(float64(i)*0.45)) * 2
	}
	return l
}

// apply runs ControlNetApplyAdvanced on the setup's prompts.
func (s *cnSetup) apply(t *testing.T, strength, start, end float64) (pos, neg value.Value) {
	t.Helper()
	out := runPrepared(t, modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir), s.pos, s.neg, value.OfHandle(s.net), cnImage(),
		f64(strength), f64(start), f64(end), value.Value{})
	return out[0], out[1]
}

// cnReference samples in plain Go: the tiny ControlNet's and UNet's maths,
// the hint the picture upsampled 2× nearest to NCHW, residuals × strength
// when σ is within [percent_to_sigma(end), percent_to_sigma(start)].
func (s *cnSetup) cnReference(t *testing.T, steps int, cfg, strength, start, end float64, latent []float32) []float32 {
	t.Helper()
	ms := sampling.SD15()
	hint := cnHint(cnImage())
	hi, lo := ms.PercentToSigma(start), ms.PercentToSigma(end)
	return s.cnSample(t, steps, cfg, latent, func(in []float32, ts []float64, ehs []float32, sigma float64) []float32 {
		if sigma > hi || sigma < lo {
			return s.un.ReferenceWithResiduals(in, ts, ehs, nil, nil, 1, 4, 6, 77)
		}
		down, mid := s.cn.Reference(in, ts, ehs, hint, strength, 1, 4, 6, 77)
		return s.un.ReferenceWithResiduals(in, ts, ehs, down, mid, 1, 4, 6, 77)
	})
}

// cnHint is the reference's hint: the 24×16 picture upsampled 2× nearest
// to NCHW.
func cnHint(pic value.Value) []float32 {
	img := pic.Tensor.Data
	hint := make([]float32, 3*32*48)
	for c := range 3 {
		for i := range 32 {
			for j := range 48 {
				hint[(c*32+i)*48+j] = img[((i/2)*24+j/2)*3+c]
			}
		}
	}
	return hint
}

// cnSample samples latent in plain Go as KSampler does (euler, the normal
// schedule of steps, cfg, seed 3's noise), pred giving the tiny UNet's
// output for one conditioning row at σ.
func (s *cnSetup) cnSample(t *testing.T, steps int, cfg float64, latent []float32, pred func(in []float32, ts []float64, ehs []float32, sigma float64) []float32) []float32 {
	t.Helper()
	ms := sampling.SD15()
	sigmas, err := sampling.KSamplerSigmas(ms, "normal", "euler", steps, 1)
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := s.pos.Handle.(*SDConditioning).Entries[0].Cond, s.neg.Handle.(*SDConditioning).Entries[0].Cond
	return plainKSampler(t, ms, "euler", 3, sigmas, cfg, latent, pos, neg, pred, nil)
}

func (s *cnSetup) sample(t *testing.T, unet *SDUNet, pos, neg value.Value, steps int64, cfg float64) []float32 {
	t.Helper()
	in := []value.Value{value.OfHandle(unet), i64(3), i64(steps), f64(cfg), str("euler"), str("normal"), pos, neg, cnLatent(), f64(1)}
	k := modelKernel(t, "KSampler", s.cp, s.dir)
	out := prepare(t, k, in)
	if err := k.Run(in, out); err != nil {
		t.Fatal(err)
	}
	return out[0].Tensor.Data
}

func (s *cnSetup) runs(part string) int { return s.cp.Runs(part) }

func TestControlNetApplyValues(t *testing.T) {
	s := newCNSetup(t)
	pos, neg := s.apply(t, 0.7, 0, 1)
	before := s.runs("controlnet")
	got := s.sample(t, s.cnUNet, pos, neg, 3, 2.5)
	if n := s.runs("controlnet") - before; n != 6 {
		t.Errorf("%d ControlNet runs for 3 steps of 2 groups, want 6", n)
	}
	closeTo(t, "strength 0.7", got, s.cnReference(t, 3, 2.5, 0.7, 0, 1, cnLatent().Tensor.Data), 1e-4)
	// The residuals change the result: the same sampling without them differs.
	plain := s.cnReference(t, 3, 2.5, 0.7, 1, 1, cnLatent().Tensor.Data)
	if d := maxAbsDiff(got, plain); d < 1e-2 {
		t.Errorf("the ControlNet changed the latent by %g only", d)
	}
	// Steady state: a second Run allocates nothing (runPrepared checks).
	in := []value.Value{value.OfHandle(s.cnUNet), i64(3), i64(3), f64(2.5), str("euler"), str("normal"), pos, neg, cnLatent(), f64(1)}
	runPrepared(t, modelKernel(t, "KSampler", s.cp, s.dir), in...)
	// The declared scratch counts the ControlNet's hint [1,3,32,48].
	plainIn := slices.Clone(in)
	plainIn[6], plainIn[7] = s.pos, s.neg
	k := modelKernel(t, "KSampler", s.cp, s.dir).(*kSampler)
	with, _ := k.Scratch(specsOf(in))
	without, _ := k.Scratch(specsOf(plainIn))
	if with-without < 4*3*32*48 {
		t.Errorf("scratch %d with the ControlNet, %d without", with, without)
	}
}

func TestControlNetApplyStrengthZero(t *testing.T) {
	s := newCNSetup(t)
	pos, neg := s.apply(t, 0, 0, 1)
	before := s.runs("controlnet")
	got := s.sample(t, s.cnUNet, pos, neg, 3, 2.5)
	if n := s.runs("controlnet") - before; n != 0 {
		t.Errorf("strength 0: %d ControlNet runs", n)
	}
	// Equal to the plain UNet without ControlNet (the checkpoint's), and
	// a plain UNet takes a strength-0 control as none.
	want := s.sample(t, s.unet, s.pos, s.neg, 3, 2.5)
	closeTo(t, "strength 0 vs no ControlNet", got, want, 1e-6)
	closeTo(t, "strength 0 on the plain UNet", s.sample(t, s.unet, pos, neg, 3, 2.5), want, 0)
}

func TestControlNetApplyRange(t *testing.T) {
	s := newCNSetup(t)
	pos, neg := s.apply(t, 1.3, 0.5, 1)
	ms := sampling.SD15()
	sigmas, _ := sampling.KSamplerSigmas(ms, "normal", "euler", 4, 1)
	want := 0
	for _, sg := range sigmas[:len(sigmas)-1] {
		if sg <= ms.PercentToSigma(0.5) {
			want++
		}
	}
	if want == 0 || want == 4 {
		t.Fatalf("the range covers %d of 4 steps; the test needs a part", want)
	}
	before := s.runs("controlnet")
	got := s.sample(t, s.cnUNet, pos, neg, 4, 2.5)
	if n := s.runs("controlnet") - before; n != 2*want {
		t.Errorf("%d ControlNet runs, want %d (2 groups × %d steps in range)", n, 2*want, want)
	}
	closeTo(t, "start 0.5", got, s.cnReference(t, 4, 2.5, 1.3, 0.5, 1, cnLatent().Tensor.Data), 1e-4)
}

func TestControlNetApplyErrors(t *testing.T) {
	s := newCNSetup(t)
	pos, neg := s.apply(t, 1, 0, 1)
	in := []value.Value{value.OfHandle(s.unet), i64(3), i64(2), f64(2), str("euler"), str("normal"), pos, neg, cnLatent(), f64(1)}
	_, err := modelKernel(t, "KSampler", s.cp, s.dir).Prepare(specsOf(in))
	if err == nil || !strings.Contains(err.Error(), "no residual inputs") {
		t.Errorf("ControlNet on a plain UNet: %v", err)
	}
	in = []value.Value{value.OfHandle(s.cnUNet), i64(3), i64(2), f64(2), str("euler"), str("normal"), s.pos, s.neg, cnLatent(), f64(1)}
	_, err = modelKernel(t, "KSampler", s.cp, s.dir).Prepare(specsOf(in))
	if err == nil || !strings.Contains(err.Error(), "ControlNetApplyAdvanced") {
		t.Errorf("ControlNet UNet without a control: %v", err)
	}
	k := modelKernel(t, "ControlNetApplyAdvanced", s.cp, s.dir)
	for _, c := range []struct {
		in   []value.Value
		want string
	}{
		{[]value.Value{s.pos, s.neg, value.OfHandle(s.net), cnImage(), f64(11), f64(0), f64(1), {}}, "strength"},
		{[]value.Value{s.pos, s.neg, value.OfHandle(s.net), cnImage(), f64(1), f64(-0.1), f64(1), {}}, "start_percent"},
		{[]value.Value{s.pos, s.neg, str("x"), cnImage(), f64(1), f64(0), f64(1), {}}, "control_net"},
	} {
		if _, err := k.Prepare(specsOf(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.want, err)
		}
	}
}

// TestControlHintCrop: a wider picture is centre-cropped to the hint's
// aspect (ComfyUI's common_upscale "center"), then resized nearest-exact.
func TestControlHintCrop(t *testing.T) {
	c := &SDControl{B: 1, H: 4, W: 8, Image: make([]float32, 4*8*3)}
	for i := range c.Image {
		c.Image[i] = float32(i)
	}
	dst := make([]float32, 3*4*4)
	c.hintTo(dst, 0, 4, 4)
	for ch := range 3 {
		for i := range 4 {
			for j := range 4 {
				if got, want := dst[(ch*4+i)*4+j], c.Image[(i*8+2+j)*3+ch]; got != want {
					t.Fatalf("hint[%d,%d,%d] = %v, want %v (column %d of the picture)", ch, i, j, got, want, 2+j)
				}
			}
		}
	}
	// 3 rows to 4: nearest-exact takes rows floor((i+0.5)·3/4) = 0,1,1,2.
	c = &SDControl{B: 1, H: 3, W: 3, Image: make([]float32, 3*3*3)}
	for i := range c.Image {
		c.Image[i] = float32(i)
	}
	dst = make([]float32, 3*4*4)
	c.hintTo(dst, 0, 4, 4)
	for i, r := range []int{0, 1, 1, 2} {
		if got, want := dst[i*4], c.Image[r*3*3]; got != want {
			t.Errorf("row %d: %v, want picture row %d (%v)", i, got, r, want)
		}
	}
}
