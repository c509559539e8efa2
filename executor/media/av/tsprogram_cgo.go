//go:build cgo

package av

import (
	"fmt"
	"sort"
	"strings"

	"comfyrt/executor/media/mpegts"
)

// tsProgramWatch follows the PAT and PMT of an MPEG-TS byte stream and
// reports where a different program starts: another PMT PID, other
// elementary stream PIDs or other stream types (a codec change), as when a
// publisher restarts with another muxer or encoder. FFmpeg's demuxer does
// not follow such a change (a new PID becomes an extra stream, a new stream
// type on the same PID keeps the old codec), so the decoding must start
// afresh there.
//
// Only sections whose CRC is right count: a damaged PAT or PMT is not a new
// program. The PSI packets (PAT, SDT, PMT) that come right before a new
// program's first PMT belong to the new program. Bytes that are not TS
// (no sync byte every 188 bytes at the start) pass through unparsed.
type tsProgramWatch struct {
	// emit receives the bytes in order; cut is set on the first bytes of
	// a new program.
	emit func(b []byte, cut bool) error

	started bool // decided whether the input is TS
	isTS    bool
	head    []byte // the bytes before the decision
	packets mpegts.Framer
	pmtPID  int    // from the last valid PAT (-1: none)
	sig     string // the current program's signature ("" until its PMT)
	pending []byte // PSI packets since the last other packet
	cut     bool   // the pending bytes start a new program
	// Changes counts the programs after the first.
	changes int
}

func newTSProgramWatch(emit func(b []byte, cut bool) error) *tsProgramWatch {
	return &tsProgramWatch{emit: emit, pmtPID: -1}
}

// Write consumes bytes of the stream.
func (w *tsProgramWatch) Write(b []byte) (int, error) {
	n := len(b)
	if !w.started {
		w.head = append(w.head, b...)
		if len(w.head) < 3*mpegts.PacketSize+1 {
			return n, nil
		}
		w.started = true
		h := w.head
		w.isTS = h[0] == mpegts.SyncByte && h[mpegts.PacketSize] == mpegts.SyncByte && h[2*mpegts.PacketSize] == mpegts.SyncByte
		b, w.head = h, nil
	}
	if !w.isTS {
		return n, w.emit(b, false)
	}
	// Bytes out of sync pass on (the demuxer resynchronises itself).
	if err := w.packets.Write(b, w.packet, w.other); err != nil {
		return 0, err
	}
	return n, nil
}

// Flush emits what is held back (at the end of the input).
func (w *tsProgramWatch) Flush() error {
	var rest []byte
	rest = append(rest, w.pending...)
	rest = append(rest, w.head...)
	rest = append(rest, w.packets.Rest()...)
	w.pending, w.head = nil, nil
	if len(rest) == 0 {
		return nil
	}
	cut := w.cut
	w.cut = false
	return w.emit(rest, cut)
}

// other emits p after the pending PSI packets.
func (w *tsProgramWatch) other(p []byte) error {
	if len(w.pending) > 0 {
		cut := w.cut
		w.cut = false
		w.pending = append(w.pending, p...)
		err := w.emit(w.pending, cut)
		w.pending = w.pending[:0]
		return err
	}
	return w.emit(p, false)
}

func (w *tsProgramWatch) packet(p []byte) error {
	pid := mpegts.PID(p)
	switch {
	case pid == mpegts.PIDPAT, pid == mpegts.PIDSDT:
	case pid == w.pmtPID:
	default:
		return w.other(p)
	}
	w.pending = append(w.pending, p...)
	if !mpegts.UnitStart(p) {
		return nil
	}
	switch pid {
	case mpegts.PIDPAT:
		if pmt := mpegts.PATProgramMap(mpegts.Section(mpegts.Payload(p), mpegts.TablePAT)); pmt >= 0 {
			w.pmtPID = pmt
		}
	case mpegts.PIDSDT:
	default:
		sig := pmtSignature(pid, mpegts.Section(mpegts.Payload(p), mpegts.TablePMT))
		if sig == "" || sig == w.sig {
			return nil
		}
		if w.sig != "" {
			w.cut = true // the pending PSI starts the new program
			w.changes++
		}
		w.sig = sig
	}
	return nil
}

// pmtSignature renders what identifies a program for decoding: its PMT
// PID and its elementary streams' types and PIDs.
func pmtSignature(pmtPID int, sec []byte) string {
	var es []string
	for _, s := range mpegts.PMTStreams(sec) {
		es = append(es, fmt.Sprintf("%#x/%#x", s.Type, s.PID))
	}
	if len(es) == 0 {
		return ""
	}
	sort.Strings(es)
	return fmt.Sprintf("%#x:%s", pmtPID, strings.Join(es, ","))
}
