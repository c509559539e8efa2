//go:build !cgo

package ort_test

import (
	"errors"
	"testing"

	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

func TestNoCgo(t *testing.T) {
	if err := ort.CheckInit(); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("CheckInit = %v", err)
	}
	if _, err := ort.New().Open("m.onnx", engine.Options{}); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("Open = %v", err)
	}
}
