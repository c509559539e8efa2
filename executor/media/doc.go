// Package media defines Frame, Source and Sink, with synthetic sources and
// sinks for tests. The FFmpeg implementation (go-astiav, cgo) lives in
// executor/media/av.
//
// Status: arrives with issue 4.
package media
