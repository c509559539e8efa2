//go:build cgo

package ort

// LoadedSessions reports the ONNX Runtime sessions loaded for sharing (one
// per model content, options and bound input shapes) and the engine
// sessions that hold them; exclusive sessions are not counted. serve
// exposes both as metrics.
func LoadedSessions() (models, refs int) { return sharedSessions() }
