package value

import (
	"strconv"
	"strings"
)

// Tensor is a dense float32 tensor in row-major order: Data holds
// Shape[0]·Shape[1]·… elements, the last dimension varying fastest.
//
// A Tensor is a pair of slice headers; copying it shares the data.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor allocates a zeroed tensor of the given shape. The shape is
// copied.
func NewTensor(shape ...int) Tensor {
	s := append([]int(nil), shape...)
	return Tensor{Shape: s, Data: make([]float32, NumElems(s))}
}

// NumElems returns the number of elements of a tensor of the given shape
// (1 for an empty shape, 0 when a dimension is not positive).
func NumElems(shape []int) int {
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return 0
		}
		n *= d
	}
	return n
}

// Len returns the number of elements the shape describes.
func (t Tensor) Len() int { return NumElems(t.Shape) }

// Valid reports whether Data holds exactly the elements Shape describes.
func (t Tensor) Valid() bool { return len(t.Shape) > 0 && len(t.Data) == t.Len() }

// ImageDims returns B, H, W, C of an NHWC image shape; ok is false unless
// the shape has four positive dimensions.
func ImageDims(shape []int) (b, h, w, c int, ok bool) {
	if len(shape) != 4 || NumElems(shape) == 0 {
		return 0, 0, 0, 0, false
	}
	return shape[0], shape[1], shape[2], shape[3], true
}

// MaskDims returns B, H, W of a mask shape. ComfyUI accepts [H,W] masks as
// a batch of one, and so does MaskDims; ok is false for any other rank or a
// non-positive dimension.
func MaskDims(shape []int) (b, h, w int, ok bool) {
	if NumElems(shape) == 0 {
		return 0, 0, 0, false
	}
	switch len(shape) {
	case 2:
		return 1, shape[0], shape[1], true
	case 3:
		return shape[0], shape[1], shape[2], true
	}
	return 0, 0, 0, false
}

// ShapeString formats a shape as "[1,512,512,3]".
func ShapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// EqualShapes reports whether two shapes are the same.
func EqualShapes(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
