package builtin

import (
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// Scratch declarations of the model-backed kernels (ONNXImageModel,
// TextDetection, DepthAnythingTensorrt). Their Prepare opens an inference
// session, so what they hold grows with the frame and the model's bound
// input size; they declare it from the model's declared tensors
// (Provider.Inspect, which reads the model's description and runs
// nothing), before the session is opened:
//
//   - the pipeline's own buffers: the model-size RGB picture, the output
//     picture it gathers, and the bilinear resamplers between the frame
//     and the model (see openPipeline);
//   - the engine's input and output tensors at the bound shapes (a
//     dynamic output dimension is taken as the input's at the same
//     index, 1 past its rank, as a same-size image model has it);
//   - an estimate of the runtime's working memory for a run (ONNX
//     Runtime's arena of intermediate values, its thread pools and
//     optimised graph): modelActivationFactor times the input and output
//     tensors. Image networks keep feature maps of tens of channels at
//     full and reduced resolutions, so that their intermediates are many
//     times their input and output. The factor is an estimate, not a
//     bound: measured as peak RSS beyond the process's baseline, the
//     tensors and the pipeline's buffers, the PP-OCRv4 detector run as
//     ONNXImageModel took about 20 times its tensors at 1024² and 2048²
//     (345 MB over 16 MiB, 1.25 GB over 64 MiB), and a smaller image
//     model about 9 times. The weights are not counted.
//
// A model that cannot be inspected (no engine, no file, a layout the
// pipeline refuses) declares nothing: Prepare then says what is wrong.

// modelActivationFactor is the estimate of the runtime's working memory
// as a multiple of a session's input and output tensor bytes.
const modelActivationFactor = 16

// pipelineScratch is what openPipeline and the session it opens would
// hold for s, 0 when the model cannot be inspected or does not fit.
func pipelineScratch(cfg nodes.Config, s pipelineSpec) int64 {
	if cfg.Engines == nil {
		return 0
	}
	decl, outs, err := cfg.Engines.Inspect(s.path)
	if err != nil || len(decl) != 1 || len(decl[0].Shape) != 4 || len(outs) < 1 {
		return 0
	}
	d := decl[0].Shape
	hi, wi := 2, 3
	if s.nhwc {
		hi, wi = 1, 2
	}
	pick := func(want, declared int) int {
		switch {
		case want > 0:
			return want
		case declared > 0:
			return declared
		}
		return s.defaultDim
	}
	mh, mw, mb := pick(s.mh, d[hi]), pick(s.mw, d[wi]), d[0]
	if mb <= 0 {
		mb = s.b
	}
	if mh <= 0 || mw <= 0 || mb <= 0 {
		return 0
	}
	in := []int{mb, 3, mh, mw}
	if s.nhwc {
		in = []int{mb, mh, mw, 3}
	}
	tensors := tensorBytes(in)
	var first []int
	for i, o := range outs {
		sh := make([]int, len(o.Shape))
		for j, x := range o.Shape {
			switch {
			case x > 0:
				sh[j] = x
			case j < len(in):
				sh[j] = in[j]
			default:
				sh[j] = 1
			}
		}
		if i == 0 {
			first = sh
		}
		tensors = addSat(tensors, tensorBytes(sh))
	}
	oh, ow := mh, mw
	switch {
	case len(first) == 4 && s.nhwc:
		oh, ow = first[1], first[2]
	case len(first) == 4:
		oh, ow = first[2], first[3]
	case len(first) == 3:
		oh, ow = first[1], first[2]
	case len(first) == 2:
		oh, ow = first[0], first[1]
	}
	sameIn, sameOut := mh == s.h && mw == s.w, oh == s.h && ow == s.w
	n := addSat(tensors, mulSat(modelActivationFactor, tensors), mulSat(4, int64(mh), int64(mw), 3))
	if !sameIn {
		n = addSat(n, resamplerScratch(methodBilinear, s.h, s.w, 3, mh, mw))
	}
	if s.image {
		n = addSat(n, mulSat(4, int64(oh), int64(ow), 3))
		if !sameOut {
			n = addSat(n, resamplerScratch(methodBilinear, oh, ow, 3, s.h, s.w))
		}
	}
	if s.mask {
		if !s.image {
			n = addSat(n, mulSat(4, int64(oh), int64(ow)))
		}
		if !sameOut {
			n = addSat(n, resamplerScratch(methodBilinear, oh, ow, 1, s.h, s.w))
		}
	}
	return n
}

// tensorBytes is the size of a float32 tensor of the shape, saturating.
func tensorBytes(shape []int) int64 {
	n := int64(4)
	for _, d := range shape {
		n = mulSat(n, int64(d))
	}
	return n
}

// Scratch is the pipeline and session Prepare would open.
func (k *imageModel) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "image", "model", "width", "height", "layout", "channels", "mean", "std", "output_scale")
	b, h, w, c := a.image(0)
	var ref *modelRef
	if s := a.spec(1); s.Kind == value.Handle && s.Const != nil {
		ref, _ = s.Const.Handle.(*modelRef)
	}
	mw, mh := a.int(2), a.int(3)
	layout := a.choice(4, modelLayouts...)
	if a.Err() != nil || ref == nil || c != 3 || mw < 0 || mh < 0 || int64(int(mw)) != mw || int64(int(mh)) != mh {
		return 0, nil
	}
	return pipelineScratch(k.cfg, pipelineSpec{path: ref.path, opts: ref.opts, b: b, h: h, w: w, mh: int(mh), mw: int(mw),
		nhwc: layout == 1, image: true, mask: true}), nil
}

// Scratch is the pipeline and session Prepare would open.
func (k *textDetection) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "image", "threshold", "max_side")
	b, h, w, c := a.image(0)
	limit := a.int(2)
	if a.Err() != nil || c != 3 || limit <= 0 || int64(int(limit)) != limit {
		return 0, nil
	}
	path, err := resolveModel(k.cfg, TextDetModel)
	if err != nil {
		return 0, nil
	}
	mh, mw := detSize(h, w, int(limit))
	return pipelineScratch(k.cfg, pipelineSpec{path: path, b: b, h: h, w: w, mh: mh, mw: mw, mask: true}), nil
}

// Scratch is the pipeline and session Prepare would open.
func (k *depthAnything) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "images", "engine")
	b, h, w, c := a.image(0)
	eng := a.str(1)
	if a.Err() != nil || c != 3 {
		return 0, nil
	}
	path, err := resolveModel(k.cfg, DepthModelFile(eng))
	if err != nil {
		return 0, nil
	}
	return pipelineScratch(k.cfg, pipelineSpec{path: path, b: b, h: h, w: w, defaultDim: depthSize, image: true}), nil
}
