package builtin

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// DepthAnythingTensorrt, with the class name and inputs of
// yuvraj108c/ComfyUI-Depth-Anything-Tensorrt (images IMAGE, engine a file
// of models/tensorrt/depth-anything), backed by an ONNX file instead of a
// TensorRT engine: <models>/tensorrt/depth-anything/<engine> with a
// ".engine" suffix replaced by ".onnx" (a name ending in ".onnx" is used
// as given). ComfyStream's depth workflows then compile unchanged once the
// ONNX model is there; the TensorRT execution provider (Devices
// "tensorrt") gives the same acceleration where it is installed.
//
// As the original node: the frame is resized (bilinear, align_corners
// False) to the model's input (518×518, Depth Anything's; a model with
// fixed dimensions uses its own), no normalisation; the output is scaled
// per picture to 0..1 by (d−min)/(max−min), truncated to 8 bits, resized
// back to the frame (bilinear) and repeated to three channels; engines
// whose name contains "metric" are inverted (1−d). Depth Anything V3
// engines ("DA3" in the name) are not supported.

// depthSize is Depth Anything's input side.
const depthSize = 518

type depthAnything struct {
	base
	pipe   *imagePipeline
	metric bool
	n      int
}

func newDepthAnything(cfg nodes.Config) (nodes.Kernel, error) {
	return &depthAnything{base: base{cfg}}, nil
}

// DepthModelFile maps an engine name to the ONNX file, relative to the
// models folder.
func DepthModelFile(engine string) string {
	name := engine
	if strings.HasSuffix(name, ".engine") {
		name = strings.TrimSuffix(name, ".engine") + ".onnx"
	}
	return path.Join("tensorrt", "depth-anything", name)
}

func (k *depthAnything) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "images", "engine")
	b, h, w, c := a.image(0)
	eng := a.str(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if c != 3 {
		return nil, fmt.Errorf("input images: %d channels, want 3", c)
	}
	if strings.Contains(eng, "DA3") {
		return nil, fmt.Errorf("engine %q: Depth Anything V3 is not supported", eng)
	}
	p, err := resolveModel(k.cfg, DepthModelFile(eng))
	if err != nil {
		return nil, fmt.Errorf("engine %q: %w", eng, err)
	}
	spec := pipelineSpec{path: p, opts: k.cfg.Engine, b: b, h: h, w: w, defaultDim: depthSize,
		std: [3]float32{1, 1, 1}, scale: scaleMinMax, quantize: true, image: true}
	if k.pipe == nil || k.pipe.spec.path != p || k.pipe.spec.b != b || k.pipe.spec.h != h || k.pipe.spec.w != w {
		k.pipe.close()
		k.pipe = nil
		if k.pipe, err = openPipeline(k.cfg, spec); err != nil {
			return nil, fmt.Errorf("engine %q (%s): %w", eng, filepath.Base(p), err)
		}
	}
	k.metric = strings.Contains(eng, "metric")
	k.n = b * h * w * 3
	return []value.Spec{value.ImageSpec(b, h, w)}, nil
}

func (k *depthAnything) Run(in, out []value.Value) error {
	if k.pipe == nil {
		return errNotPrepared
	}
	if err := checkTensor(in[0], k.n, "images"); err != nil {
		return err
	}
	d := out[0].Tensor.Data
	if err := k.pipe.run(in[0].Tensor.Data, d, nil); err != nil {
		return err
	}
	if k.metric {
		for i, v := range d {
			d[i] = 1 - v
		}
	}
	return nil
}

// Close releases the session.
func (k *depthAnything) Close() error {
	err := k.pipe.close()
	k.pipe = nil
	return err
}
