//go:build cgo

package ort

import (
	"encoding/binary"

	"comfyrt/nodes/engine"
)

// onnxruntime_go copies a float16 output that ONNX Runtime allocated with
// one byte per element, so the probe run that learns dynamic output
// shapes cannot return float16 tensors. For a model with such outputs the
// session is made from the model plus, for each float16 output, a Cast to
// a float32 graph output named name+probeSuffix; the probe run asks for
// those, and the bound runs for the model's own outputs. The extra nodes
// are appended as protobuf allows: a repeated embedded message field
// (ModelProto.graph, number 7) given twice is merged, its repeated fields
// (GraphProto.node 1, output 12) concatenated.

const probeSuffix = "__comfyrt_probe_f32"

// probeNames returns the output names the probe run asks for, and whether
// any float16 output with a dynamic dimension needs the cast.
func probeNames(declOut []engine.TensorInfo) ([]string, bool) {
	n := make([]string, len(declOut))
	cast := false
	for i, o := range declOut {
		n[i] = o.Name
		if o.DType == engine.Float16 && o.Dynamic() {
			n[i] += probeSuffix
			cast = true
		}
	}
	return n, cast
}

// withProbeCasts returns the model bytes with the casts appended.
func withProbeCasts(model []byte, declOut []engine.TensorInfo) []byte {
	var g []byte
	for _, o := range declOut {
		if o.DType != engine.Float16 || !o.Dynamic() {
			continue
		}
		var attr []byte
		attr = pbBytes(attr, 1, []byte("to"))
		attr = pbVarint(attr, 3, 1)  // i: FLOAT
		attr = pbVarint(attr, 20, 2) // type: INT
		var node []byte
		node = pbBytes(node, 1, []byte(o.Name))
		node = pbBytes(node, 2, []byte(o.Name+probeSuffix))
		node = pbBytes(node, 3, []byte("comfyrt_probe_cast_"+o.Name))
		node = pbBytes(node, 4, []byte("Cast"))
		node = pbBytes(node, 5, attr)
		g = pbBytes(g, 1, node)
		var tensor, typ, vi []byte
		tensor = pbVarint(tensor, 1, 1) // elem_type FLOAT
		typ = pbBytes(typ, 1, tensor)   // tensor_type
		vi = pbBytes(vi, 1, []byte(o.Name+probeSuffix))
		vi = pbBytes(vi, 2, typ)
		g = pbBytes(g, 12, vi)
	}
	out := make([]byte, len(model), len(model)+len(g)+16)
	copy(out, model)
	return pbBytes(out, 7, g)
}

func pbVarint(b []byte, field int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3)
	return binary.AppendUvarint(b, v)
}

func pbBytes(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
