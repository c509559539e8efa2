//go:build cgo

package av

// The flags of every C file and preamble of the package: the C code is in
// scale.c (swscale), resample.c (swresample) and format.c (format-context
// helpers), each with its header.

// #cgo pkg-config: libavformat libavcodec libavutil libswscale libswresample
import "C"

import "github.com/asticode/go-astiav"

const available = true

// SetLogLevel sets FFmpeg's process-wide log level: "quiet", "panic",
// "fatal", "error", "warning", "info", "verbose" or "debug" (FFmpeg's default
// is info, on stderr). Unknown names leave it unchanged.
func SetLogLevel(level string) {
	l, ok := map[string]astiav.LogLevel{
		"quiet": astiav.LogLevelQuiet, "panic": astiav.LogLevelPanic, "fatal": astiav.LogLevelFatal,
		"error": astiav.LogLevelError, "warning": astiav.LogLevelWarning, "info": astiav.LogLevelInfo,
		"verbose": astiav.LogLevelVerbose, "debug": astiav.LogLevelDebug,
	}[level]
	if ok {
		astiav.SetLogLevel(l)
	}
}
