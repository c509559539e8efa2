// Package media defines Frame, Source and Sink, with synthetic sources and
// sinks for tests, and the paced wait of live-like sources (WaitUntil).
// The FFmpeg implementation (go-astiav, cgo) lives in executor/media/av;
// MPEG-TS packet parsing (pure Go) in executor/media/mpegts.
//
// Package media imports only nodes/value from the project, and no cgo.
package media
