//go:build !cgo

package av

import (
	"context"
	"io"

	"comfyrt/executor/media"
)

// Source is unavailable without cgo; OpenSource returns ErrUnavailable.
type Source struct{}

// OpenSource returns ErrUnavailable: this build has no FFmpeg.
func OpenSource(url string, opts SourceOptions) (*Source, error) { return nil, ErrUnavailable }

// Info returns the zero StreamInfo.
func (s *Source) Info() media.StreamInfo { return media.StreamInfo{} }

// Stats returns zero counters.
func (s *Source) Stats() Stats { return Stats{} }

// ReadFrame returns ErrUnavailable as a fatal error.
func (s *Source) ReadFrame(ctx context.Context, f *media.Frame) error {
	return &media.FatalError{Err: ErrUnavailable}
}

// Close does nothing.
func (s *Source) Close() error { return nil }

// Sink is unavailable without cgo; CreateSink returns ErrUnavailable.
type Sink struct{}

// CreateSink returns ErrUnavailable: this build has no FFmpeg.
func CreateSink(url string, info media.StreamInfo, opts SinkOptions) (*Sink, error) {
	return nil, ErrUnavailable
}

// ForceKeyFrame does nothing.
func (s *Sink) ForceKeyFrame() {}

// WriteFrame returns ErrUnavailable.
func (s *Sink) WriteFrame(f *media.Frame) error { return ErrUnavailable }

// Close does nothing.
func (s *Sink) Close() error { return nil }

var _ media.Sink = (*Sink)(nil)
var _ media.Source = (*Source)(nil)

// SetLogLevel does nothing without FFmpeg.
func SetLogLevel(level string) {}

const available = false

// Chain is unavailable without cgo; OpenChain returns ErrUnavailable.
type Chain struct{}

// OpenChain returns ErrUnavailable: this build has no FFmpeg.
func OpenChain(r io.Reader, opts SourceOptions) (*Chain, error) { return nil, ErrUnavailable }

// Info returns the zero StreamInfo.
func (c *Chain) Info() media.StreamInfo { return media.StreamInfo{} }

// AudioSource returns nil.
func (c *Chain) AudioSource() *Source { return nil }

// Stats returns zero counters.
func (c *Chain) Stats() Stats { return Stats{} }

// ReadFrame returns ErrUnavailable as a fatal error.
func (c *Chain) ReadFrame(ctx context.Context, f *media.Frame) error {
	return &media.FatalError{Err: ErrUnavailable}
}

// Close does nothing.
func (c *Chain) Close() error { return nil }

var _ media.Source = (*Chain)(nil)
