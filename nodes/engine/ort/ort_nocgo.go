//go:build !cgo

package ort

import (
	"fmt"

	"comfyrt/nodes/engine"
)

// errNoCgo says why nothing runs in this build.
var errNoCgo = fmt.Errorf("%w: comfyrt was built without cgo (CGO_ENABLED=0), so ONNX Runtime cannot be loaded", engine.ErrUnavailable)

// CheckInit returns engine.ErrUnavailable: this build has no cgo.
func CheckInit() error { return errNoCgo }

// Provider is the ONNX Runtime engine.Provider; in this build every Open
// fails with engine.ErrUnavailable.
type Provider struct{}

// New returns the provider.
func New() *Provider { return &Provider{} }

// Name returns "onnxruntime (unavailable: no cgo)".
func (p *Provider) Name() string { return "onnxruntime (unavailable: no cgo)" }

// Open returns engine.ErrUnavailable.
func (p *Provider) Open(path string, opts engine.Options) (engine.Session, error) {
	return nil, errNoCgo
}

// Inspect returns engine.ErrUnavailable.
func (p *Provider) Inspect(path string) (inputs, outputs []engine.TensorInfo, err error) {
	return nil, nil, errNoCgo
}
