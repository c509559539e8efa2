// Package engine is the narrow inference interface: named tensors in,
// named tensors out, with a fake for tests. Implementations (ONNX Runtime in
// compiler/engine/ort, the only cgo for inference) live in subpackages.
//
// Package engine imports only nodes/value from the project and no cgo.
//
// Status: arrives with issue 3.
package engine
