//go:build !cgo

package av

import "context"

// AudioSource is unavailable without cgo; OpenAudio returns ErrUnavailable.
type AudioSource struct{}

// OpenAudio returns ErrUnavailable: this build has no FFmpeg.
func OpenAudio(url string, opts AudioOptions) (*AudioSource, error) { return nil, ErrUnavailable }

// Info returns the zero AudioInfo.
func (s *AudioSource) Info() AudioInfo { return AudioInfo{} }

// StartPTS returns 0.
func (s *AudioSource) StartPTS() int64 { return 0 }

// ReadAudio returns ErrUnavailable.
func (s *AudioSource) ReadAudio(ctx context.Context, dst []float32) (int, error) {
	return 0, ErrUnavailable
}

// Close does nothing.
func (s *AudioSource) Close() error { return nil }

// AudioSink is unavailable without cgo; CreateAudioSink returns
// ErrUnavailable.
type AudioSink struct{}

// CreateAudioSink returns ErrUnavailable: this build has no FFmpeg.
func CreateAudioSink(url string, rate, channels int, start int64, opts AudioSinkOptions) (*AudioSink, error) {
	return nil, ErrUnavailable
}

// WriteAudio returns ErrUnavailable.
func (s *AudioSink) WriteAudio(x []float32) error { return ErrUnavailable }

// Close does nothing.
func (s *AudioSink) Close() error { return nil }
