package builtin

import (
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// saveTextTensor is ComfyStream's SaveTextTensor: the text output of a
// frame, with line breaks removed unless remove_linebreaks is false. Its
// class is time-varying (ComfyStream's IS_CHANGED is NaN): it gives its
// text on every frame; the executor sends it to the stream's data output
// (nodes.TextOutput).
type saveTextTensor struct {
	base
	strip bool
	text  string
	has   bool
}

func newSaveTextTensor(cfg nodes.Config) (nodes.Kernel, error) {
	return &saveTextTensor{base: base{cfg}}, nil
}

func (k *saveTextTensor) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "data", "remove_linebreaks")
	if s := a.spec(0); s.Kind != value.String {
		a.errorf(0, "want STRING, got %s", s.Kind)
	}
	k.strip = !a.present(1) || a.bool(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return nil, nil
}

func (k *saveTextTensor) Run(in, _ []value.Value) error {
	t := in[0].Str
	if k.strip && strings.ContainsAny(t, "\r\n") {
		t = strings.NewReplacer("\n", "", "\r", "").Replace(t)
	}
	k.text, k.has = t, true
	return nil
}

// Text returns the last frame's text.
func (k *saveTextTensor) Text() (string, bool) { return k.text, k.has }

// passThrough is a loader wrapper whose work comfyrt does not need
// (TorchCompileLoadVAE, TorchCompileLoadControlNet: torch.compile of a
// model comfyrt runs its own way): its output is its first input. Its
// class has the PassThrough trait, so the compiler removes the node and
// this kernel runs only where a node could not be removed.
type passThrough struct {
	base
	input string
}

func newPassThrough(input string) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &passThrough{base: base{cfg}, input: input}, nil
	}
}

func (k *passThrough) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in[:min(len(in), 1)], k.input)
	if a.spec(0).Kind == value.None {
		a.errorf(0, "required input is missing")
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return cloneSpecList(in[:1]), nil
}

func (k *passThrough) Run(in, out []value.Value) error {
	setValue(&out[0], in[0])
	return nil
}

func cloneSpecList(in []value.Spec) []value.Spec {
	out := make([]value.Spec, len(in))
	for i, s := range in {
		out[i] = value.Spec{Kind: s.Kind, Shape: append([]int(nil), s.Shape...), Const: s.Const}
	}
	return out
}
