// Package mpegts reads MPEG transport streams (ISO/IEC 13818-1) at the
// packet level: it cuts a byte stream into 188-byte packets (Framer,
// resynchronising on the sync byte), reads a packet's header (PID, payload
// unit start, random access indicator, payload) and the two PSI tables a
// player needs to find a program — the PAT (program → PMT PID) and the PMT
// (the elementary streams' types and PIDs) — from CRC-checked sections.
//
// executor/live cuts a stream into segments at video keyframes with it,
// and executor/media/av finds where a new program starts (a restarted
// publisher) with it. It is a pure-Go leaf: it imports no project package.
package mpegts

import "bytes"

// Constants of ISO/IEC 13818-1.
const (
	PacketSize = 188
	SyncByte   = 0x47
	PIDPAT     = 0x0000
	PIDSDT     = 0x0011
	PIDNull    = 0x1fff
	TablePAT   = 0x00 // table_id of a program_association_section
	TablePMT   = 0x02 // table_id of a TS_program_map_section
)

// Framer cuts a byte stream, given in pieces of any size, into whole
// packets. The zero value is ready to use; a Framer is used by one
// goroutine.
type Framer struct {
	carry []byte // the start of a packet (it begins with SyncByte)
}

// Write feeds b. packet is called with each whole packet in order (the
// slice is valid during the call only); bytes out of sync (not starting a
// packet with SyncByte) are skipped up to the next sync byte and handed to
// skipped (nil: dropped). A packet's start at the end of b is kept for the
// next Write. The first error of a callback stops Write and is returned.
func (f *Framer) Write(b []byte, packet, skipped func([]byte) error) error {
	if len(f.carry) > 0 {
		need := PacketSize - len(f.carry)
		if len(b) < need {
			f.carry = append(f.carry, b...)
			return nil
		}
		f.carry = append(f.carry, b[:need]...)
		b = b[need:]
		err := packet(f.carry)
		f.carry = f.carry[:0]
		if err != nil {
			return err
		}
	}
	for len(b) > 0 {
		if b[0] != SyncByte {
			i := bytes.IndexByte(b[1:], SyncByte) + 1
			if i == 0 {
				i = len(b)
			}
			if skipped != nil {
				if err := skipped(b[:i]); err != nil {
					return err
				}
			}
			b = b[i:]
			continue
		}
		if len(b) < PacketSize {
			break
		}
		if err := packet(b[:PacketSize]); err != nil {
			return err
		}
		b = b[PacketSize:]
	}
	f.carry = append(f.carry, b...)
	return nil
}

// Rest returns the partial packet held back (at the end of the stream)
// and forgets it.
func (f *Framer) Rest() []byte {
	r := f.carry
	f.carry = nil
	return r
}

// PID is the packet's PID. p must be a whole packet (PacketSize bytes), as
// for every function that takes one.
func PID(p []byte) int { return int(p[1]&0x1f)<<8 | int(p[2]) }

// UnitStart reports the payload_unit_start_indicator: a PES packet or a
// PSI section (after a pointer field) starts in this packet.
func UnitStart(p []byte) bool { return p[1]&0x40 != 0 }

// RandomAccess reports the adaptation field's random_access_indicator
// (FFmpeg's muxer sets it on keyframes).
func RandomAccess(p []byte) bool {
	if p[3]>>4&2 == 0 {
		return false
	}
	al := int(p[4])
	return al > 0 && al <= PacketSize-5 && p[5]&0x40 != 0
}

// Payload returns the packet's payload (after the adaptation field), or
// nil when it has none or the adaptation field overruns the packet.
func Payload(p []byte) []byte {
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

// HasPID reports whether the run of whole packets pkts holds one of PID
// pid.
func HasPID(pkts []byte, pid int) bool {
	for i := 0; i+PacketSize <= len(pkts); i += PacketSize {
		if PID(pkts[i:]) == pid {
			return true
		}
	}
	return false
}
