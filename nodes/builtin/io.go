package builtin

import (
	"errors"
	"fmt"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// loadTensor is ComfyStream's LoadTensor: the stream's frame input. It only
// runs bound as the frame input (nodes.FrameInput), prepared with the frame
// as its one input; the frame is passed through. Its timeout_seconds input
// (how long ComfyStream waits for a frame) has no meaning here: the
// executor owns frame admission.
type loadTensor struct {
	base
	n int
}

func newLoadTensor(cfg nodes.Config) (nodes.Kernel, error) { return &loadTensor{base: base{cfg}}, nil }

func (k *loadTensor) FrameInput() {}

func (k *loadTensor) Prepare(in []value.Spec) ([]value.Spec, error) {
	if !isFrameBinding(in) {
		return nil, errors.New("LoadTensor reads the stream's frames: it must be bound as the frame input")
	}
	k.n = in[0].Elems()
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *loadTensor) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "frame"); err != nil {
		return err
	}
	copyFrame(out[0].Tensor.Data[:k.n], in[0].Tensor.Data)
	return nil
}

// copyFrame copies src to dst unless they are the same memory (the
// executor may decode straight into the frame input's output buffer; see
// compiler.Plan.FrameBuffer), where the copy would only cost time.
func copyFrame(dst, src []float32) {
	if !engine.SameBuffer(dst, src) {
		copy(dst, src)
	}
}

// frameOutput is the kernel of SaveTensor, PreviewImage and SaveImage: its
// first input is a frame output of the stream, which the executor reads;
// the kernel checks it is an IMAGE and does nothing per frame.
type frameOutput struct {
	base
	names []string
}

func newFrameOutput(names ...string) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &frameOutput{base: base{cfg}, names: names}, nil
	}
}

func (k *frameOutput) FrameOutput() {}

func (k *frameOutput) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, k.names...)
	a.image(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return []value.Spec{}, nil
}

func (k *frameOutput) Run(_, _ []value.Value) error { return nil }

// primitive is the kernel of PrimitiveInt, PrimitiveFloat, PrimitiveString,
// PrimitiveStringMultiline and PrimitiveBoolean (nodes_primitive.py): its
// output is its value. When the value is known at Prepare (a widget), the
// output spec carries it as Const, so downstream kernels can read it when
// the plan is built.
type primitive struct {
	base
	kind value.Kind
}

func newPrimitive(kind value.Kind) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &primitive{base: base{cfg}, kind: kind}, nil
	}
}

func (k *primitive) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "value")
	s := a.spec(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if s.Kind == value.None {
		return nil, errors.New("input value: required input is missing")
	}
	out := value.Spec{Kind: k.kind}
	if s.Const != nil {
		v, err := convertScalar(*s.Const, k.kind)
		if err != nil {
			return nil, fmt.Errorf("input value: %w", err)
		}
		out.Const = &v
	} else if s.Kind != k.kind {
		return nil, fmt.Errorf("input value: want %s, got %s", k.kind, s.Kind)
	}
	return []value.Spec{out}, nil
}

func (k *primitive) Run(in, out []value.Value) error {
	v := in[0]
	if v.Kind != k.kind {
		var err error
		if v, err = convertScalar(v, k.kind); err != nil {
			return err
		}
	}
	out[0] = v
	return nil
}

// convertScalar converts an Int to a Float (and a whole Float to an Int);
// every other mismatch is an error.
func convertScalar(v value.Value, k value.Kind) (value.Value, error) {
	switch {
	case v.Kind == k:
		return v, nil
	case k == value.Float && v.Kind == value.Int:
		return value.OfFloat(float64(v.Int)), nil
	case k == value.Int && v.Kind == value.Float && v.Float == float64(int64(v.Float)):
		return value.OfInt(int64(v.Float)), nil
	}
	return value.Value{}, fmt.Errorf("want %s, got %s", k, v.Kind)
}
