package onnxgen

import "math"

// ConvNet is a small Conv model with its weights: x [N,3,H,W] →
// Conv 3×3 (4 channels, pad 1) + bias → Relu → Conv 1×1 (1 channel) + bias
// → Sigmoid → y [N,1,H,W]. Dimensions given as -1 stay dynamic.
type ConvNet struct {
	W1 []float32 // [4,3,3,3]
	B1 []float32 // [4]
	W2 []float32 // [1,4,1,1]
	B2 []float32 // [1]
}

// NewConvNet returns a ConvNet with fixed pseudo-random weights.
func NewConvNet() ConvNet {
	seq := func(n int, scale, off float32) []float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(math.Sin(float64(i)*1.7+0.3))*scale + off
		}
		return d
	}
	return ConvNet{W1: seq(4*3*3*3, 0.4, 0), B1: seq(4, 0.1, 0.05), W2: seq(4, 0.8, 0), B2: []float32{-0.1}}
}

// Model returns the graph for input shape [n,3,h,w] (-1 for dynamic).
func (c ConvNet) Model(n, h, w int) *Builder {
	return New("convnet").
		Input("x", n, 3, h, w).
		Output("y", n, 1, h, w).
		Float("w1", c.W1, 4, 3, 3, 3).Float("b1", c.B1, 4).
		Float("w2", c.W2, 1, 4, 1, 1).Float("b2", c.B2, 1).
		Node("Conv", []string{"x", "w1", "b1"}, []string{"c1"},
			Attr{"kernel_shape", []int64{3, 3}}, Attr{"pads", []int64{1, 1, 1, 1}}).
		Node("Relu", []string{"c1"}, []string{"r1"}).
		Node("Conv", []string{"r1", "w2", "b2"}, []string{"c2"}, Attr{"kernel_shape", []int64{1, 1}}).
		Node("Sigmoid", []string{"c2"}, []string{"y"})
}

// Reference computes the model in plain Go on x [n,3,h,w] into y [n,1,h,w],
// in float64 accumulation.
func (c ConvNet) Reference(x []float32, n, h, w int) []float32 {
	y := make([]float32, n*h*w)
	r := make([]float64, 4)
	for b := range n {
		img := x[b*3*h*w : (b+1)*3*h*w]
		for i := range h {
			for j := range w {
				for o := range 4 {
					s := float64(c.B1[o])
					for ci := range 3 {
						for ki := range 3 {
							for kj := range 3 {
								ii, jj := i+ki-1, j+kj-1
								if ii < 0 || jj < 0 || ii >= h || jj >= w {
									continue
								}
								s += float64(c.W1[((o*3+ci)*3+ki)*3+kj]) * float64(img[(ci*h+ii)*w+jj])
							}
						}
					}
					r[o] = max(s, 0)
				}
				s := float64(c.B2[0])
				for o := range 4 {
					s += float64(c.W2[o]) * r[o]
				}
				y[(b*h+i)*w+j] = float32(1 / (1 + math.Exp(-s)))
			}
		}
	}
	return y
}

// DepthLike is a model with Depth Anything's shapes: input [1,3,518,518]
// → 1×1 Conv to one channel + bias → Relu → Reshape → output [1,518,518].
// Depth = relu(W·rgb + B).
type DepthLike struct {
	W [3]float32
	B float32
}

// Size is Depth Anything's input side.
const Size = 518

// Model returns the graph, with the given input and output names.
func (d DepthLike) Model(in, out string) *Builder {
	return New("depthlike").
		Input(in, 1, 3, Size, Size).
		Output(out, 1, Size, Size).
		Float("w", d.W[:], 1, 3, 1, 1).Float("b", []float32{d.B}, 1).
		Int64("shape", []int64{1, Size, Size}, 3).
		Node("Conv", []string{in, "w", "b"}, []string{"c"}, Attr{"kernel_shape", []int64{1, 1}}).
		Node("Relu", []string{"c"}, []string{"r"}).
		Node("Reshape", []string{"r", "shape"}, []string{out})
}

// Reference computes the model on x [1,3,518,518].
func (d DepthLike) Reference(x []float32) []float32 {
	const n = Size * Size
	y := make([]float32, n)
	for i := range n {
		s := float64(d.B) + float64(d.W[0])*float64(x[i]) + float64(d.W[1])*float64(x[n+i]) + float64(d.W[2])*float64(x[2*n+i])
		y[i] = float32(max(s, 0))
	}
	return y
}
