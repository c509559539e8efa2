package live_test

import "strings"

// slogWriter is an io.Writer for a slog handler that hands each log line
// (without its newline) to a func.
type slogWriter func(line string)

func (w slogWriter) Write(p []byte) (int, error) {
	w(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
