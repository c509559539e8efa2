package av

import "comfyrt/executor/media"

// Packet is one encoded video access unit (a VP8 frame, or an H.264 access
// unit in Annex B) and its timestamp.
type Packet struct {
	Data []byte
	// PTS is in the time base the coder was given.
	PTS int64
	// Key reports a keyframe (an IDR for H.264).
	Key bool
}

// VideoEncoderOptions configures a VideoEncoder.
type VideoEncoderOptions struct {
	// Codec is "vp8" (libvpx, real-time settings) or "h264" (libx264,
	// constrained baseline, zero latency, parameter sets in band).
	Codec         string
	Width, Height int
	// TimeBase is the frames' PTS time base (default 1/90000).
	TimeBase media.Rational
	// Bitrate in bits per second (default 1.5 Mbit/s).
	Bitrate int64
	// GOP is the largest keyframe interval in frames (default 90); more
	// keyframes are made on request (Encode's key).
	GOP int
	// FrameRate is the nominal rate the rate control plans with (default
	// 30/1; with a 1/90000 time base and no rate x264 would spread the
	// bitrate over 90,000 frames a second).
	FrameRate media.Rational
	// Threads is the encoder's thread count (0: one).
	Threads int
}
