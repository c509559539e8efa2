package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Rational is a time base or frame rate, Num/Den.
type Rational struct{ Num, Den int }

// Float returns Num/Den (0 when Den is 0).
func (r Rational) Float() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// String renders "Num/Den".
func (r Rational) String() string { return fmt.Sprintf("%d/%d", r.Num, r.Den) }

// NoPTS marks a frame without a presentation timestamp.
const NoPTS int64 = -1 << 63

// Frame is one decoded video picture in packed RGB24, plus its timing. A
// Frame owns its RGB buffer; sources fill a caller's Frame, reusing RGB when
// it is large enough, so a steady stream allocates nothing.
type Frame struct {
	Width, Height int
	// RGB holds Height rows of Width×3 bytes (R, G, B), no padding.
	RGB []byte
	// PTS is the presentation timestamp in TimeBase units (NoPTS when the
	// source gave none).
	PTS      int64
	TimeBase Rational
	// Index is the frame's position in the source, from 0, counting every
	// decoded frame (also those dropped later).
	Index int64
	// Captured is when the source produced the frame (monotonic clock);
	// frame age = now − Captured.
	Captured time.Time
}

// Resize makes f hold a w×h picture, reusing RGB's storage when possible.
func (f *Frame) Resize(w, h int) {
	f.Width, f.Height = w, h
	n := w * h * 3
	if cap(f.RGB) < n {
		f.RGB = make([]byte, n)
	}
	f.RGB = f.RGB[:n]
}

// CopyFrom copies src's picture and timing into f.
func (f *Frame) CopyFrom(src *Frame) {
	f.Resize(src.Width, src.Height)
	copy(f.RGB, src.RGB)
	f.PTS, f.TimeBase, f.Index, f.Captured = src.PTS, src.TimeBase, src.Index, src.Captured
}

// StreamInfo describes a video stream.
type StreamInfo struct {
	// Width and Height are the size of the frames the source delivers
	// (after any scaling it was asked for).
	Width, Height int
	TimeBase      Rational
	// FrameRate is the nominal rate (0/0 when unknown).
	FrameRate Rational
	// Duration is the stream's length when known (files), else 0.
	Duration time.Duration
	// Frames is the number of frames when known, else 0.
	Frames int64
	// HasAudio reports an audio stream that sinks may pass through.
	HasAudio bool
	// Live reports a source paced in real time (network, capture, stdin
	// stream) rather than a file read as fast as possible.
	Live bool
}

// Source delivers decoded frames.
type Source interface {
	// Info describes the stream; valid after the source is opened.
	Info() StreamInfo
	// ReadFrame fills f with the next frame. It returns io.EOF at the end
	// of the stream, and ctx's error when ctx is done. Errors other than
	// io.EOF say what went wrong (corrupt input, …); the source may still
	// deliver further frames after a non-fatal error (see IsFatal).
	ReadFrame(ctx context.Context, f *Frame) error
	// Close releases the source; it unblocks a pending ReadFrame.
	Close() error
}

// Sink consumes processed frames.
type Sink interface {
	// WriteFrame writes f; its PTS and TimeBase are those of the input
	// frame that produced it (PTS strictly increasing).
	WriteFrame(f *Frame) error
	// Close flushes and finalises the output.
	Close() error
}

// FatalError wraps an error after which a Source delivers no more frames.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *FatalError) Unwrap() error { return e.Err }

// IsFatal reports whether err ends the stream (io.EOF and context errors
// included).
func IsFatal(err error) bool {
	if err == nil {
		return false
	}
	var fe *FatalError
	return errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &fe)
}
