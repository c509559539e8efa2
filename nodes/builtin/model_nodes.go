package builtin

import (
	"fmt"
	"slices"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// The generic model nodes (comfyrt's own classes), so that any image model
// runs without code:
//
//   - ONNXModelLoader: model_name (a file in the models folder, or an
//     absolute path) and device ("default" takes the CLI's --device;
//     "cpu", "cuda" = cuda then cpu, "tensorrt" = tensorrt, cuda, cpu) →
//     ONNX_MODEL, a reference known when the plan is built. It opens
//     nothing itself.
//   - ONNXImageModel: image, model, width and height of the model input (0
//     takes the model's fixed size), layout (NCHW, NHWC), channels (RGB,
//     BGR), mean and std ("r,g,b" in 0..1 units; the input is (x−mean)/std),
//     output_scale (clamp to 0..1, or min-max per picture) → IMAGE (the
//     first output's first three channels, or its one channel as grey) and
//     MASK (its first channel), both resized back to the frame (bilinear).
//     The session is opened in Prepare for the frame's size and batch; a
//     model of batch 1 runs once per picture.

// ModelType is the ComfyUI type of ONNXModelLoader's output.
const ModelType = "ONNX_MODEL"

// modelRef is the handle ONNXModelLoader passes on.
type modelRef struct {
	path string
	opts engine.Options
}

var modelDevices = []string{"default", "cpu", "cuda", "tensorrt"}

type modelLoader struct {
	base
	ref *modelRef
}

func newModelLoader(cfg nodes.Config) (nodes.Kernel, error) {
	return &modelLoader{base: base{cfg}}, nil
}

func (k *modelLoader) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "model_name", "device")
	name := a.str(0)
	dev := a.choice(1, modelDevices...)
	if err := a.Err(); err != nil {
		return nil, err
	}
	p, err := resolveModel(k.cfg, name)
	if err != nil {
		return nil, err
	}
	opts := k.cfg.Engine
	switch modelDevices[dev] {
	case "cpu":
		opts.Devices = []string{engine.CPU}
	case "cuda":
		opts.Devices = []string{engine.CUDA, engine.CPU}
	case "tensorrt":
		opts.Devices = []string{engine.TensorRT, engine.CUDA, engine.CPU}
	default:
		opts.Devices = slices.Clone(opts.Devices)
	}
	k.ref = &modelRef{path: p, opts: opts}
	v := value.OfHandle(k.ref)
	return []value.Spec{{Kind: value.Handle, Const: &v}}, nil
}

func (k *modelLoader) Run(in, out []value.Value) error {
	if k.ref == nil {
		return errNotPrepared
	}
	out[0] = value.OfHandle(k.ref)
	return nil
}

var (
	modelLayouts  = []string{"NCHW", "NHWC"}
	modelChannels = []string{"RGB", "BGR"}
	modelScales   = []string{"clamp", "minmax"}
)

type imageModel struct {
	base
	pipe *imagePipeline
	n    int
}

func newImageModel(cfg nodes.Config) (nodes.Kernel, error) { return &imageModel{base: base{cfg}}, nil }

func (k *imageModel) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "model", "width", "height", "layout", "channels", "mean", "std", "output_scale")
	b, h, w, c := a.image(0)
	var ref *modelRef
	if s := a.spec(1); s.Kind != value.Handle || s.Const == nil {
		a.errorf(1, "want an %s known when the plan is built (from ONNXModelLoader)", ModelType)
	} else if ref, _ = s.Const.Handle.(*modelRef); ref == nil {
		a.errorf(1, "want an %s from ONNXModelLoader, got %T", ModelType, s.Const.Handle)
	}
	mw, mh := a.int(2), a.int(3)
	layout := a.choice(4, modelLayouts...)
	chans := a.choice(5, modelChannels...)
	meanS, stdS := a.str(6), a.str(7)
	scale := a.choice(8, modelScales...)
	mean, err := parseTriple(meanS)
	if err != nil {
		a.errorf(6, "%v", err)
	}
	std, err := parseTriple(stdS)
	if err != nil {
		a.errorf(7, "%v", err)
	}
	if slices.Contains(std[:], 0) {
		a.errorf(7, "std must not be 0")
	}
	if mw < 0 || mh < 0 {
		a.errorf(2, "width and height must be 0 (the model's) or positive")
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c != 3 {
		return nil, fmt.Errorf("input image: %d channels, want 3", c)
	}
	sc := scaleClamp
	if modelScales[scale] == "minmax" {
		sc = scaleMinMax
	}
	spec := pipelineSpec{path: ref.path, opts: ref.opts, b: b, h: h, w: w, mh: int(mh), mw: int(mw),
		nhwc: layout == 1, bgr: chans == 1, mean: mean, std: std, scale: sc, image: true, mask: true}
	k.pipe.close()
	if k.pipe, err = openPipeline(k.cfg, spec); err != nil {
		return nil, err
	}
	k.n = b * h * w * 3
	return []value.Spec{value.ImageSpec(b, h, w), value.MaskSpec(b, h, w)}, nil
}

func (k *imageModel) Run(in, out []value.Value) error {
	if k.pipe == nil {
		return errNotPrepared
	}
	if err := checkTensor(in[0], k.n, "image"); err != nil {
		return err
	}
	return k.pipe.run(in[0].Tensor.Data, out[0].Tensor.Data, out[1].Tensor.Data)
}

// Close releases the session.
func (k *imageModel) Close() error {
	err := k.pipe.close()
	k.pipe = nil
	return err
}
