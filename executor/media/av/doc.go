// Package av is the FFmpeg back end of executor/media: Source decodes files,
// pipes and network streams into packed RGB24 frames, Sink encodes RGB24
// frames (libx264 or h264_nvenc) and muxes them, copying the source's audio
// through (or re-encoding it to AAC) when asked. It is the only package that uses go-astiav and cgo for
// media (STYLE.md §8.3); built with CGO_ENABLED=0 it compiles to a stub whose
// constructors return ErrUnavailable.
//
// Every conversion between a decoded picture and RGB24 goes through a small
// C helper (scale.c, called from scale_cgo.go) that checks the pixel format
// and size first: swscale
// aborts the whole process on a frame without a pixel format (an mp4 with its
// index at the end read from a pipe), so that case becomes an error.
//
// Audio: open the source with SourceOptions.Audio and pass it to the sink as
// SinkOptions.AudioFrom. The source then keeps the demuxed audio packets it
// meets while reading video (a bounded queue, oldest dropped), and the sink
// drains that queue on every WriteFrame: packets are copied when the output
// container can hold the codec, otherwise decoded, converted (swresample and
// an audio FIFO in resample.c, as go-astiav wraps neither) and encoded
// to AAC (see SinkOptions.AudioCodec). Without AudioFrom the output has no
// audio. With SinkOptions.AudioProcessor (a plan's audio path) the decoded
// audio is mixed to mono at the processor's chunk rate, cut into its
// chunks, processed and encoded to AAC (aacproc_cgo.go).
//
// Audio on its own (audioio_cgo.go, audio workflows on audio files):
// OpenAudio decodes the first audio stream of an input into mono float32
// at a chosen rate (channels averaged, as ComfyStream's audio input), and
// CreateAudioSink encodes float32 samples to PCM in WAV or AAC elsewhere.
//
// # Files
//
// Files that need cgo end in _cgo.go, their CGO_ENABLED=0 stand-ins in
// _nocgo.go. The C code is in .c files with a header each (scale: swscale
// conversions; resample: swresample and the audio FIFO; format: dictionaries,
// output I/O, codec queries and the interrupt flag); the Go preambles hold
// only #include and #cgo lines, and av_cgo.go has the pkg-config flags.
package av
