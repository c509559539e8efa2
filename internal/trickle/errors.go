package trickle

import (
	"errors"
	"fmt"
)

// Header names of the protocol.
const (
	HeaderSeq           = "Lp-Trickle-Seq"
	HeaderLatest        = "Lp-Trickle-Latest"
	HeaderClosed        = "Lp-Trickle-Closed"
	HeaderReset         = "Lp-Trickle-Reset"
	HeaderExpectContent = "Expect-Content"
)

// StatusEntryNotFound is the trickle status for "the channel exists but the
// sequence number does not".
const StatusEntryNotFound = 470

// Sequence numbers with a special meaning in a GET or POST.
const (
	SeqNext    = -1 // the next segment (nextWrite)
	SeqCurrent = -2 // the segment being written now, or the last one, from byte 0
)

var (
	// ErrStreamNotFound: the channel does not exist or was deleted (404).
	// It is terminal: clients do not retry.
	ErrStreamNotFound = errors.New("trickle: stream not found")
	// ErrEOS: the channel was closed by its publisher (200 with
	// Lp-Trickle-Closed).
	ErrEOS = errors.New("trickle: end of stream")
	// ErrClosed: the client object itself was closed.
	ErrClosed = errors.New("trickle: closed")
)

// SequenceNonexistentError is a 470 answer: seq is not in the server's
// window; Latest is the server's nextWrite.
type SequenceNonexistentError struct {
	Seq, Latest int
}

func (e *SequenceNonexistentError) Error() string {
	return fmt.Sprintf("trickle: segment %d does not exist (latest %d)", e.Seq, e.Latest)
}

// IsTerminal reports whether err ends a channel for good (EOS or not
// found).
func IsTerminal(err error) bool {
	return errors.Is(err, ErrEOS) || errors.Is(err, ErrStreamNotFound)
}
