package av

import (
	"errors"
	"fmt"
	"time"

	"comfyrt/executor/media"
)

// ErrUnavailable is returned by every constructor when the package was built
// without cgo (CGO_ENABLED=0): there is no FFmpeg then.
var ErrUnavailable = errors.New("av: FFmpeg media support unavailable (built without cgo)")

// Available reports whether this build has FFmpeg (it was built with cgo).
// It is a build-time fact: nothing is opened to find out.
const Available = available

// ErrClosed is returned by calls on a closed Source or Sink.
var ErrClosed = errors.New("av: closed")

// ErrNonMonotonic is returned by Sink.WriteFrame for a frame whose PTS,
// rescaled to the encoder's time base, is not after the previous frame's.
var ErrNonMonotonic = errors.New("av: non-monotonic pts")

// SourceOptions configure OpenSource.
type SourceOptions struct {
	// Width and Height are the size of the delivered frames; 0 keeps the
	// input's. When both are set and the aspect differs, the picture is
	// scaled to cover Width×Height and the centre is cropped (as the Livepeer
	// live pipelines do). Setting only one keeps the input aspect.
	Width, Height int
	// Format forces the input format ("mpegts", "h264", "mp4", …); empty
	// probes.
	Format string
	// ReadTimeout bounds the time one ReadFrame (and OpenSource) may wait for
	// input; when it passes, the source ends with a FatalError. 0: no limit
	// (files) — network inputs should set one.
	ReadTimeout time.Duration
	// Options are extra demuxer/protocol options (e.g. "listen": "1" for
	// rtmp, "fflags": "nobuffer").
	Options map[string]string
	// Audio keeps the demuxed audio packets for a Sink created with
	// SinkOptions.AudioFrom set to this source.
	Audio bool
	// Threads is the decoder's thread count and the slice-thread count of
	// the conversion to RGB24 (0: FFmpeg's choice, about one thread per CPU each).
	Threads int
	// MaxErrors is how many consecutive decode errors end the stream with a
	// FatalError (default 50).
	MaxErrors int
}

// SinkOptions configure CreateSink.
type SinkOptions struct {
	// Format is the container ("mp4", "mpegts", "matroska", "flv", …);
	// empty guesses from the URL's extension. Required for "-" (stdout) and
	// most network URLs.
	Format string
	// Encoder is "libx264" (default) or "h264_nvenc" (which needs an NVIDIA
	// driver; CreateSink reports clearly when it is absent).
	Encoder string
	// Preset is the encoder preset; default "superfast" for libx264 (as the
	// Livepeer pipelines), "p1" for nvenc.
	Preset string
	// Tune defaults to "zerolatency" for libx264 ("ll" for nvenc); "-" sets
	// none.
	Tune string
	// CRF sets constant quality (libx264; 0: encoder default, 23). Ignored
	// when Bitrate is set.
	CRF int
	// Bitrate in bits per second (0: quality mode).
	Bitrate int64
	// GOP is the keyframe interval in frames (0: 2 s at the stream's frame
	// rate, or 60).
	GOP int
	// Threads is the encoder's thread count and the slice-thread count of
	// the conversion from RGB24 (0: FFmpeg's choice, about one thread per CPU each).
	Threads int
	// EncoderOptions are extra private encoder options (e.g. "x264-params").
	EncoderOptions map[string]string
	// Options are extra muxer and protocol options (e.g. "listen": "1" for
	// rtmp, "movflags": "+faststart").
	Options map[string]string
	// AudioFrom, when set, puts that source's audio into the output. The
	// source must have been opened with SourceOptions.Audio. Both may be used
	// from different goroutines. AudioCodec says how.
	AudioFrom *Source
	// AudioCodec is "auto" (or empty): copy the audio packets when the
	// container can hold the source's codec, else re-encode to AAC (e.g. PCM
	// or Opus into mp4, PCM or Vorbis into mpegts); "copy": copy or fail in
	// CreateSink; "aac": always re-encode. Re-encoding uses FFmpeg's native
	// AAC encoder at the source's sample rate (48 kHz when AAC has no such
	// rate), mono for mono input and stereo otherwise; output timestamps
	// count samples from the first decoded audio frame's.
	AudioCodec string
	// AudioBitrate is the AAC bit rate in bits per second when re-encoding
	// (0: 64 kb/s per channel).
	AudioBitrate int64
	// RebaseAudio keeps the audio's timestamps increasing across input
	// discontinuities with the rule media.NewMonotonic applies to the
	// frames (a step back, or more than 5 s ahead, continues right after
	// the previous packet), for live inputs whose frames go through
	// NewMonotonic: without it such an input's audio fails to write at a
	// timestamp reset. Off, audio timestamps are written as they come (a
	// file's long audio gap stays a gap).
	RebaseAudio bool
	// AudioProcessor, when set with AudioFrom, runs on the audio: it is
	// decoded, mixed to mono at the processor's chunk rate (channels
	// averaged, as ComfyStream's audio input), cut into its chunks,
	// processed, and what comes out is encoded to AAC (AudioCodec "copy"
	// is refused) in the processor's output format. The last, short chunk
	// is padded with silence and its output cut back, so the audio keeps
	// its length and timestamps. executor.AudioTap is the one the CLI
	// uses: a plan's LoadAudioTensor → … → SaveAudioTensor path.
	AudioProcessor media.AudioProcessor
}

// Stats counts what a Source met.
type Stats struct {
	// Frames decoded (delivered or failed in conversion).
	Frames int64
	// Errors: corrupt packets, decode and conversion failures.
	Errors int64
	// AudioPackets queued for a sink; AudioDropped fell off a full queue.
	AudioPackets, AudioDropped int64
}

// coverCrop returns the centred rectangle of a sw×sh picture that, scaled
// to dw×dh, covers it exactly (aspect-fit by cover, then centre crop). The
// offsets and size are even where possible, so that chroma-subsampled
// pictures crop on whole chroma samples.
func coverCrop(sw, sh, dw, dh int) (x, y, w, h int) {
	if sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 {
		return 0, 0, sw, sh
	}
	w, h = sw, sh
	// Compare sw/sh with dw/dh without floats.
	if int64(sw)*int64(dh) > int64(dw)*int64(sh) {
		w = int((int64(sh)*int64(dw) + int64(dh)/2) / int64(dh)) // source wider: crop left/right
	} else if int64(sw)*int64(dh) < int64(dw)*int64(sh) {
		h = int((int64(sw)*int64(dh) + int64(dw)/2) / int64(dw)) // source taller: crop top/bottom
	}
	if w < sw && w > 2 {
		w &^= 1
	}
	if h < sh && h > 2 {
		h &^= 1
	}
	x = (sw - w) / 2 &^ 1
	y = (sh - h) / 2 &^ 1
	return x, y, w, h
}

// outputSize resolves the delivered size from the options and the input.
func outputSize(inW, inH, optW, optH int) (int, int) {
	switch {
	case optW > 0 && optH > 0:
		return optW, optH
	case optW > 0 && inW > 0:
		return optW, max(2, int((int64(inH)*int64(optW)+int64(inW)/2)/int64(inW))&^1)
	case optH > 0 && inH > 0:
		return max(2, int((int64(inW)*int64(optH)+int64(inH)/2)/int64(inH))&^1), optH
	}
	return inW, inH
}

// DecodeError is a non-fatal error about one packet or frame; the source
// goes on after it.
type DecodeError struct {
	// Index is the frame index the failure is counted at (the next frame's
	// index for packet errors).
	Index int64
	Err   error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("av: frame %d: %v", e.Index, e.Err) }
func (e *DecodeError) Unwrap() error { return e.Err }
