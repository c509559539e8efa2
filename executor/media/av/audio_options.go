package av

import "time"

// AudioOptions configures OpenAudio.
type AudioOptions struct {
	// Format is the input format hint (as SourceOptions.Format).
	Format string
	// Rate is the sample rate the source delivers (default 48000).
	Rate int
}

// AudioInfo describes an AudioSource.
type AudioInfo struct {
	// Codec, SourceRate and SourceChannels describe the input stream.
	Codec                      string
	SourceRate, SourceChannels int
	// Rate is the rate of the samples ReadAudio delivers (mono).
	Rate int
	// Duration is the stream's length when known, else 0.
	Duration time.Duration
}

// AudioSinkOptions configures CreateAudioSink.
type AudioSinkOptions struct {
	// Format is the container (default from the file name; needed for "-").
	Format string
	// Codec is the encoder: "" picks 16-bit PCM for WAV and AAC otherwise.
	Codec string
	// Bitrate is the AAC bit rate (default 64 kb/s per channel).
	Bitrate int64
}
