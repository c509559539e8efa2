package media

import "context"

// AudioSource delivers decoded audio as mono float32 samples (-1..1) at a
// fixed rate, for plans that process audio (ComfyStream's
// LoadAudioTensor).
type AudioSource interface {
	// ReadAudio fills dst with the next len(dst) samples. At the end of
	// the stream it returns the samples left (fewer, maybe none) with
	// io.EOF; ctx's error when ctx is done.
	ReadAudio(ctx context.Context, dst []float32) (int, error)
	// Close releases the source.
	Close() error
}

// AudioSink consumes processed audio: float32 samples with the sink's
// channels interleaved, at its rate, each call following the previous one
// in time.
type AudioSink interface {
	WriteAudio(x []float32) error
	// Close flushes and finalises the output.
	Close() error
}
