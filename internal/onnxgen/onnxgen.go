// Package onnxgen writes small ONNX models from Go for tests, with the
// protobuf types of github.com/advancedclimatesystems/gonnx. No weights
// are committed: tests generate what they run (into t.TempDir()).
//
// Models use opset 13 and IR version 8; inputs and outputs are float32
// unless declared with InputOf/OutputOf (float16, int64); a dimension of -1
// is written as a named dynamic dimension, and a negative dimension below
// -1 names a shared one (-2 is "d_2" wherever it occurs), as exporters
// name theirs ("batch", "height").
package onnxgen

import (
	"fmt"
	"os"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// Builder accumulates one graph.
type Builder struct {
	g    onnx.GraphProto
	dyns int
}

// New returns a builder for a graph with the given name.
func New(name string) *Builder { return &Builder{g: onnx.GraphProto{Name: name}} }

// Element types of inputs, outputs and Cast.
const (
	Float32 = int32(onnx.TensorProto_FLOAT)
	Float16 = int32(onnx.TensorProto_FLOAT16)
	Int64   = int32(onnx.TensorProto_INT64)
)

func (b *Builder) valueInfo(name string, elem int32, shape []int) *onnx.ValueInfoProto {
	sh := &onnx.TensorShapeProto{}
	for _, d := range shape {
		dim := &onnx.TensorShapeProto_Dimension{}
		switch {
		case d == -1:
			b.dyns++
			dim.Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: fmt.Sprintf("d%d", b.dyns)}
		case d < -1:
			dim.Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: fmt.Sprintf("d_%d", -d)}
		default:
			dim.Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}
		}
		sh.Dim = append(sh.Dim, dim)
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: elem, Shape: sh},
	}}}
}

// Input declares a float32 graph input.
func (b *Builder) Input(name string, shape ...int) *Builder {
	return b.InputOf(name, Float32, shape...)
}

// Output declares a float32 graph output.
func (b *Builder) Output(name string, shape ...int) *Builder {
	return b.OutputOf(name, Float32, shape...)
}

// InputOf declares a graph input of an element type (Float32, Float16,
// Int64).
func (b *Builder) InputOf(name string, elem int32, shape ...int) *Builder {
	b.g.Input = append(b.g.Input, b.valueInfo(name, elem, shape))
	return b
}

// OutputOf declares a graph output of an element type.
func (b *Builder) OutputOf(name string, elem int32, shape ...int) *Builder {
	b.g.Output = append(b.g.Output, b.valueInfo(name, elem, shape))
	return b
}

func dims(shape []int) []int64 {
	d := make([]int64, len(shape))
	for i, v := range shape {
		d[i] = int64(v)
	}
	return d
}

// Float adds a float32 initializer.
func (b *Builder) Float(name string, data []float32, shape ...int) *Builder {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: dims(shape),
		DataType: int32(onnx.TensorProto_FLOAT), FloatData: data})
	return b
}

// Int64 adds an int64 initializer.
func (b *Builder) Int64(name string, data []int64, shape ...int) *Builder {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: dims(shape),
		DataType: int32(onnx.TensorProto_INT64), Int64Data: data})
	return b
}

// Attr is a node attribute: an int64, a float32, an []int64 or a string
// value.
type Attr struct {
	Name  string
	Value any
}

// Node adds an operator node.
func (b *Builder) Node(op string, inputs, outputs []string, attrs ...Attr) *Builder {
	n := &onnx.NodeProto{OpType: op, Input: inputs, Output: outputs, Name: fmt.Sprintf("%s_%d", op, len(b.g.Node))}
	for _, a := range attrs {
		p := &onnx.AttributeProto{Name: a.Name}
		switch v := a.Value.(type) {
		case int64:
			p.Type, p.I = onnx.AttributeProto_INT, v
		case int:
			p.Type, p.I = onnx.AttributeProto_INT, int64(v)
		case float32:
			p.Type, p.F = onnx.AttributeProto_FLOAT, v
		case []int64:
			p.Type, p.Ints = onnx.AttributeProto_INTS, v
		case string:
			p.Type, p.S = onnx.AttributeProto_STRING, []byte(v)
		default:
			panic(fmt.Sprintf("onnxgen: attribute %s has unsupported type %T", a.Name, a.Value))
		}
		n.Attribute = append(n.Attribute, p)
	}
	b.g.Node = append(b.g.Node, n)
	return b
}

// Bytes serialises the model.
func (b *Builder) Bytes() ([]byte, error) {
	m := &onnx.ModelProto{
		IrVersion:    8,
		ProducerName: "comfyrt-onnxgen",
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: "", Version: 13}},
		Graph:        &b.g,
	}
	return proto.Marshal(m)
}

// WriteFile serialises the model to path.
func (b *Builder) WriteFile(path string) error {
	data, err := b.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
