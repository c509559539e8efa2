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

// AudioProcessor processes the audio an output re-encodes (the audio path
// of a stream's plan, see executor.AudioTap): the output cuts the
// stream's audio, mixed to mono at the chunk's rate, into chunks and
// encodes what ProcessAudio returns.
type AudioProcessor interface {
	// AudioChunk is the chunk ProcessAudio takes next: samples mono
	// samples at rate. It may change between calls (a new plan).
	AudioChunk() (rate, samples int)
	// AudioOut is the format ProcessAudio returns, fixed for the
	// processor's life: channels at rate.
	AudioOut() (rate, channels int)
	// ProcessAudio processes one chunk and returns its output, channels
	// planar ([C][M]), valid until the next call.
	ProcessAudio(chunk []float32) ([]float32, error)
}
