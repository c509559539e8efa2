//go:build cgo && unix

package av

import (
	"strconv"
	"strings"
	"syscall"
)

// interruptiblePipe makes a "pipe:N" input's descriptor non-blocking when it
// is a FIFO or socket, so that FFmpeg's read loop polls (sleeping 1 ms on
// EAGAIN) and honours the interrupt callback: Close, a cancelled context and
// ReadTimeout then work on stdin too. A blocking read(2) on a pipe would
// ignore them. It returns a function restoring the descriptor's mode.
func interruptiblePipe(url string) (restore func()) {
	rest, ok := strings.CutPrefix(url, "pipe:")
	if !ok {
		return func() {}
	}
	fd := 0
	if rest != "" {
		n, err := strconv.Atoi(rest)
		if err != nil {
			return func() {}
		}
		fd = n
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return func() {}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO && st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return func() {} // a file or terminal: leave it alone
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return func() {}
	}
	return func() { _ = syscall.SetNonblock(fd, false) }
}
