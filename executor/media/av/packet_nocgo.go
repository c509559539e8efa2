//go:build !cgo

package av

import "comfyrt/executor/media"

// VideoDecoder is unavailable without cgo; NewVideoDecoder returns
// ErrUnavailable.
type VideoDecoder struct{}

// NewVideoDecoder returns ErrUnavailable.
func NewVideoDecoder(codec string) (*VideoDecoder, error) { return nil, ErrUnavailable }

// Decode returns ErrUnavailable.
func (d *VideoDecoder) Decode(data []byte, pts int64, f *media.Frame) (bool, error) {
	return false, ErrUnavailable
}

// Close does nothing.
func (d *VideoDecoder) Close() error { return nil }

// VideoEncoder is unavailable without cgo; NewVideoEncoder returns
// ErrUnavailable.
type VideoEncoder struct{}

// NewVideoEncoder returns ErrUnavailable.
func NewVideoEncoder(o VideoEncoderOptions) (*VideoEncoder, error) { return nil, ErrUnavailable }

// Encode returns ErrUnavailable.
func (e *VideoEncoder) Encode(f *media.Frame, key bool, emit func(Packet) error) error {
	return ErrUnavailable
}

// Close does nothing.
func (e *VideoEncoder) Close() error { return nil }

// Width is 0 without cgo.
func (e *VideoEncoder) Width() int { return 0 }

// Height is 0 without cgo.
func (e *VideoEncoder) Height() int { return 0 }
