package builtin

import (
	"errors"
	"fmt"
	"math"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// base is embedded by every kernel: it keeps the node's config and names
// the kernel in messages and recovered panics.
type base struct{ cfg nodes.Config }

// String returns "Class #id".
func (b *base) String() string { return b.cfg.String() }

// args reads a kernel's input specs in Prepare. Slots are named after the
// class's declared inputs (input_order); errors accumulate and Err joins
// them, so that Prepare reports every bad input at once.
type args struct {
	in    []value.Spec
	names []string
	errs  []error
}

func newArgs(in []value.Spec, names ...string) *args {
	a := &args{in: in, names: names}
	if len(in) > len(names) {
		a.errorf(-1, "got %d inputs, the class declares %d", len(in), len(names))
	}
	return a
}

func (a *args) name(i int) string {
	if i >= 0 && i < len(a.names) {
		return a.names[i]
	}
	return fmt.Sprintf("#%d", i)
}

func (a *args) errorf(i int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if i >= 0 {
		msg = "input " + a.name(i) + ": " + msg
	}
	a.errs = append(a.errs, errors.New(msg))
}

// Err returns the accumulated errors, or nil.
func (a *args) Err() error { return errors.Join(a.errs...) }

// spec returns slot i, the zero Spec (Kind None) when absent.
func (a *args) spec(i int) value.Spec {
	if i < len(a.in) {
		return a.in[i]
	}
	return value.Spec{}
}

// present reports whether optional slot i is connected.
func (a *args) present(i int) bool { return a.spec(i).Kind != value.None }

// konst returns the constant of scalar slot i, recording an error when the
// value is not known when the plan is built.
func (a *args) konst(i int) (value.Value, bool) {
	s := a.spec(i)
	if s.Kind == value.None {
		a.errorf(i, "required input is missing")
		return value.Value{}, false
	}
	if s.Const == nil {
		a.errorf(i, "must be known when the plan is built (a widget value or a static result), not computed per frame")
		return value.Value{}, false
	}
	return *s.Const, true
}

// int reads an INT parameter; a FLOAT is truncated as Python's int() does.
func (a *args) int(i int) int64 {
	v, ok := a.konst(i)
	if !ok {
		return 0
	}
	switch v.Kind {
	case value.Int:
		return v.Int
	case value.Float:
		if math.IsNaN(v.Float) || math.IsInf(v.Float, 0) {
			a.errorf(i, "%v is not an integer", v.Float)
			return 0
		}
		return int64(v.Float)
	case value.Bool:
		if v.Bool {
			return 1
		}
		return 0
	}
	a.errorf(i, "want INT, got %s", v.Kind)
	return 0
}

// float reads a FLOAT parameter (an INT is widened).
func (a *args) float(i int) float64 {
	v, ok := a.konst(i)
	if !ok {
		return 0
	}
	switch v.Kind {
	case value.Float:
		return v.Float
	case value.Int:
		return float64(v.Int)
	}
	a.errorf(i, "want FLOAT, got %s", v.Kind)
	return 0
}

// bool reads a BOOLEAN parameter.
func (a *args) bool(i int) bool {
	v, ok := a.konst(i)
	if !ok {
		return false
	}
	switch v.Kind {
	case value.Bool:
		return v.Bool
	case value.Int:
		return v.Int != 0
	}
	a.errorf(i, "want BOOLEAN, got %s", v.Kind)
	return false
}

// str reads a STRING parameter.
func (a *args) str(i int) string {
	v, ok := a.konst(i)
	if !ok {
		return ""
	}
	if v.Kind != value.String {
		a.errorf(i, "want STRING, got %s", v.Kind)
		return ""
	}
	return v.Str
}

// choice reads a combo parameter and returns the index of its value in
// choices.
func (a *args) choice(i int, choices ...string) int {
	s := a.str(i)
	for j, c := range choices {
		if s == c {
			return j
		}
	}
	if len(a.errs) == 0 || s != "" {
		a.errorf(i, "%q is not one of %q", s, choices)
	}
	return 0
}

// image checks that slot i is an IMAGE [B,H,W,C] and returns its dims.
func (a *args) image(i int) (b, h, w, c int) {
	s := a.spec(i)
	if s.Kind != value.Image {
		a.errorf(i, "want IMAGE, got %s", s.Kind)
		return 0, 0, 0, 0
	}
	b, h, w, c, ok := value.ImageDims(s.Shape)
	if !ok {
		a.errorf(i, "IMAGE shape %s is not [B,H,W,C]", value.ShapeString(s.Shape))
	}
	return b, h, w, c
}

// mask checks that slot i is a MASK [B,H,W] (or [H,W]) and returns its dims.
func (a *args) mask(i int) (b, h, w int) {
	s := a.spec(i)
	if s.Kind != value.Mask {
		a.errorf(i, "want MASK, got %s", s.Kind)
		return 0, 0, 0
	}
	b, h, w, ok := value.MaskDims(s.Shape)
	if !ok {
		a.errorf(i, "MASK shape %s is not [B,H,W]", value.ShapeString(s.Shape))
	}
	return b, h, w
}

// positive records an error unless v ≥ 1.
func (a *args) positive(i int, v int64) {
	if v < 1 {
		a.errorf(i, "must be at least 1, got %d", v)
	}
}

// checkTensor verifies at run time that v holds a tensor of n elements.
func checkTensor(v value.Value, n int, what string) error {
	if len(v.Tensor.Data) != n {
		return fmt.Errorf("%s: got %d elements, want %d (shape changed since Prepare?)", what, len(v.Tensor.Data), n)
	}
	return nil
}

// errNotPrepared is returned by Run before a successful Prepare.
var errNotPrepared = errors.New("kernel not prepared")

// pyRound rounds half to even, as Python's round() does.
func pyRound(x float64) int { return int(math.RoundToEven(x)) }

// clamp01 clamps x to [0,1].
func clamp01(x float32) float32 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}
