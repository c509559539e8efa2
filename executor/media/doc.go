// Package media defines Frame, Source and Sink, with synthetic sources and
// sinks for tests. The FFmpeg implementation (go-astiav, cgo) lives in
// executor/media/av.
//
// Package media imports only nodes/value from the project, and no cgo.
package media
