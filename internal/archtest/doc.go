// Package archtest holds the project's architecture tests: the import
// direction rules of DESIGN.md and the confinement of cgo, FFmpeg
// (go-astiav), ONNX Runtime (onnxruntime_go) and wazero to their owner
// packages. It has no non-test code.
package archtest
