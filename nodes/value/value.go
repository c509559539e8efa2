package value

import (
	"fmt"
	"strconv"
)

// Value is one kernel input or output at run time. Only the field that
// matches Kind is meaningful. It is a plain struct, so that kernels pass
// values per frame without boxing; copying a Value shares its tensor data.
type Value struct {
	Kind Kind
	// Tensor holds Image, Mask and Latent values.
	Tensor Tensor
	// Int holds Int values, and the sample rate of Audio values.
	Int int64
	// Float holds Float values.
	Float float64
	// Str holds String values.
	Str string
	// Bool holds Bool values.
	Bool bool
	// Handle holds Handle values: opaque, owned by the kernel that made it.
	Handle any
}

// OfInt returns an Int value.
func OfInt(v int64) Value { return Value{Kind: Int, Int: v} }

// OfFloat returns a Float value.
func OfFloat(v float64) Value { return Value{Kind: Float, Float: v} }

// OfString returns a String value.
func OfString(v string) Value { return Value{Kind: String, Str: v} }

// OfBool returns a Bool value.
func OfBool(v bool) Value { return Value{Kind: Bool, Bool: v} }

// OfHandle returns a Handle value.
func OfHandle(v any) Value { return Value{Kind: Handle, Handle: v} }

// OfTensor returns an Image, Mask or Latent value over t (not copied).
func OfTensor(k Kind, t Tensor) Value { return Value{Kind: k, Tensor: t} }

// Of converts a literal as the workflow front end types it (int64, int,
// float64, string, bool) into a Value; ok is false for any other type.
func Of(lit any) (v Value, ok bool) {
	switch x := lit.(type) {
	case int64:
		return OfInt(x), true
	case int:
		return OfInt(int64(x)), true
	case float64:
		return OfFloat(x), true
	case string:
		return OfString(x), true
	case bool:
		return OfBool(x), true
	}
	return Value{}, false
}

// String formats the value for plan dumps and messages: tensors by kind
// and shape, scalars by their value (strings quoted).
func (v Value) String() string {
	switch v.Kind {
	case Image, Mask, Latent:
		return v.Kind.String() + ShapeString(v.Tensor.Shape)
	case Audio:
		return v.Kind.String() + ShapeString(v.Tensor.Shape) + audioSuffix(v.SampleRate())
	case Int:
		return strconv.FormatInt(v.Int, 10)
	case Float:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case String:
		return strconv.Quote(v.Str)
	case Bool:
		return strconv.FormatBool(v.Bool)
	case Handle:
		return fmt.Sprintf("HANDLE(%T)", v.Handle)
	}
	return "NONE"
}

// Spec describes a value when the plan is built: its kind, its tensor shape
// and, when it is already known, the value itself.
type Spec struct {
	Kind Kind
	// Shape is the tensor shape of Image, Mask, Latent and Audio values; nil
	// otherwise.
	Shape []int
	// Rate is the sample rate of Audio values (samples per second); 0
	// otherwise.
	Rate int
	// Const is the value when it is fixed when the plan is built: a
	// literal widget value, or a scalar a static step produces (Primitive
	// nodes set it on their outputs). Nil when the value is only known per
	// frame. Kernels read their scalar parameters from it in Prepare.
	Const *Value
}

// ImageSpec returns the spec of an IMAGE [b,h,w,3].
func ImageSpec(b, h, w int) Spec { return Spec{Kind: Image, Shape: []int{b, h, w, 3}} }

// MaskSpec returns the spec of a MASK [b,h,w].
func MaskSpec(b, h, w int) Spec { return Spec{Kind: Mask, Shape: []int{b, h, w}} }

// LatentSpec returns the spec of a LATENT [b,c,h,w] (NCHW, h and w in
// latent pixels).
func LatentSpec(b, c, h, w int) Spec { return Spec{Kind: Latent, Shape: []int{b, c, h, w}} }

// TensorSpec returns the spec of an Image, Mask or Latent tensor of the
// given shape (copied).
func TensorSpec(k Kind, shape ...int) Spec {
	return Spec{Kind: k, Shape: append([]int(nil), shape...)}
}

// ConstSpec returns the spec of a value fixed when the plan is built; for
// tensors the shape is taken from the value.
func ConstSpec(v Value) Spec {
	s := Spec{Kind: v.Kind, Const: &v, Rate: v.SampleRate()}
	if v.Kind.IsTensor() {
		s.Shape = append([]int(nil), v.Tensor.Shape...)
	}
	return s
}

// Elems returns the number of tensor elements (0 for non-tensors).
func (s Spec) Elems() int {
	if !s.Kind.IsTensor() {
		return 0
	}
	return NumElems(s.Shape)
}

// Bytes returns the size of the tensor buffer (0 for non-tensors).
func (s Spec) Bytes() int64 { return int64(s.Elems()) * 4 }

// SameShape reports whether two specs have the same kind and shape (Const
// is not compared).
func (s Spec) SameShape(o Spec) bool {
	return s.Kind == o.Kind && EqualShapes(s.Shape, o.Shape) && s.Rate == o.Rate
}

// String formats the spec: "IMAGE[1,512,512,3]", "INT", "INT=5",
// "STRING=\"red\"", "NONE".
func (s Spec) String() string {
	out := s.Kind.String()
	if s.Kind.IsTensor() {
		out += ShapeString(s.Shape)
		if s.Kind == Audio {
			out += audioSuffix(s.Rate)
		}
	} else if s.Const != nil {
		out += "=" + s.Const.String()
	}
	return out
}

// New allocates a value for the spec: a zeroed tensor for tensor kinds,
// the constant for specs that have one, else the zero value of the kind.
// An Audio value gets the spec's rate.
func New(s Spec) Value {
	if s.Kind == Audio {
		return OfAudio(NewTensor(s.Shape...), s.Rate)
	}
	if s.Kind.IsTensor() {
		return OfTensor(s.Kind, NewTensor(s.Shape...))
	}
	if s.Const != nil {
		return *s.Const
	}
	return Value{Kind: s.Kind}
}
