//go:build cgo

package av

import (
	"fmt"
	"sort"
	"strings"
)

// MPEG-TS constants (ISO/IEC 13818-1).
const (
	tsPacketSize = 188
	tsSyncByte   = 0x47
	tsPIDPAT     = 0x0000
	tsPIDSDT     = 0x0011
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
	carry   []byte // a partial packet, or the bytes before the decision
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
		w.carry = append(w.carry, b...)
		if len(w.carry) < 3*tsPacketSize+1 {
			return n, nil
		}
		w.started = true
		w.isTS = w.carry[0] == tsSyncByte && w.carry[tsPacketSize] == tsSyncByte && w.carry[2*tsPacketSize] == tsSyncByte
		b, w.carry = w.carry, nil
	}
	if !w.isTS {
		return n, w.emit(b, false)
	}
	if len(w.carry) > 0 {
		need := tsPacketSize - len(w.carry)
		if len(b) < need {
			w.carry = append(w.carry, b...)
			return n, nil
		}
		w.carry = append(w.carry, b[:need]...)
		b = b[need:]
		if err := w.packet(w.carry); err != nil {
			return 0, err
		}
		w.carry = w.carry[:0]
	}
	for len(b) >= tsPacketSize {
		if b[0] != tsSyncByte {
			// Out of sync: pass the bytes up to the next sync byte on
			// (the demuxer resynchronises itself).
			i := 1
			for i < len(b) && b[i] != tsSyncByte {
				i++
			}
			if err := w.other(b[:i]); err != nil {
				return 0, err
			}
			b = b[i:]
			continue
		}
		if err := w.packet(b[:tsPacketSize]); err != nil {
			return 0, err
		}
		b = b[tsPacketSize:]
	}
	w.carry = append(w.carry, b...)
	return n, nil
}

// Flush emits what is held back (at the end of the input).
func (w *tsProgramWatch) Flush() error {
	var rest []byte
	rest = append(rest, w.pending...)
	rest = append(rest, w.carry...)
	w.pending, w.carry = nil, nil
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
	pid := int(p[1]&0x1f)<<8 | int(p[2])
	switch {
	case pid == tsPIDPAT, pid == tsPIDSDT:
	case pid == w.pmtPID:
	default:
		return w.other(p)
	}
	w.pending = append(w.pending, p...)
	if p[1]&0x40 == 0 { // not a section start
		return nil
	}
	payload := tsPayload(p)
	switch pid {
	case tsPIDPAT:
		if sec := psiSection(payload, 0x00); sec != nil {
			if pmt := patPMT(sec); pmt >= 0 {
				w.pmtPID = pmt
			}
		}
	case tsPIDSDT:
	default:
		sec := psiSection(payload, 0x02)
		if sec == nil {
			return nil
		}
		sig := pmtSignature(pid, sec)
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

// tsPayload returns a packet's payload (after the adaptation field).
func tsPayload(p []byte) []byte {
	afc := p[3] >> 4 & 3
	if afc&1 == 0 {
		return nil
	}
	payload := p[4:]
	if afc&2 != 0 {
		al := int(p[4])
		if al+1 > len(payload) {
			return nil
		}
		payload = payload[al+1:]
	}
	return payload
}

// psiSection returns the section with table_id tid that a section-start
// payload carries (after the pointer field), CRC checked and without it,
// or nil.
func psiSection(payload []byte, tid byte) []byte {
	if len(payload) < 1 {
		return nil
	}
	ptr := int(payload[0])
	if 1+ptr+3 > len(payload) {
		return nil
	}
	sec := payload[1+ptr:]
	l := int(sec[1]&0x0f)<<8 | int(sec[2])
	if sec[0] != tid || l < 9 || 3+l > len(sec) {
		return nil
	}
	if crc32MPEG(sec[:3+l]) != 0 { // the CRC covers itself: 0 when intact
		return nil
	}
	return sec[:3+l-4]
}

// patPMT returns the PMT PID of the PAT's first program (-1: none).
func patPMT(sec []byte) int {
	for i := 8; i+4 <= len(sec); i += 4 {
		if prog := int(sec[i])<<8 | int(sec[i+1]); prog != 0 {
			return int(sec[i+2]&0x1f)<<8 | int(sec[i+3])
		}
	}
	return -1
}

// pmtSignature renders what identifies a program for decoding: its PMT
// PID and its elementary streams' types and PIDs.
func pmtSignature(pmtPID int, sec []byte) string {
	if len(sec) < 12 {
		return ""
	}
	pil := int(sec[10]&0x0f)<<8 | int(sec[11])
	var es []string
	for i := 12 + pil; i+5 <= len(sec); {
		st := sec[i]
		pid := int(sec[i+1]&0x1f)<<8 | int(sec[i+2])
		esl := int(sec[i+3]&0x0f)<<8 | int(sec[i+4])
		es = append(es, fmt.Sprintf("%#x/%#x", st, pid))
		i += 5 + esl
	}
	if len(es) == 0 {
		return ""
	}
	sort.Strings(es)
	return fmt.Sprintf("%#x:%s", pmtPID, strings.Join(es, ","))
}

// crc32MPEG is the CRC-32 of MPEG-2 sections (polynomial 0x04C11DB7, not
// reflected, initial value all ones, no final inversion).
func crc32MPEG(b []byte) uint32 {
	crc := uint32(0xffffffff)
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
