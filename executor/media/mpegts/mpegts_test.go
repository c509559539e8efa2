package mpegts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// packet builds a packet of PID pid carrying payload; ra sets the random
// access indicator in an adaptation field.
func packet(pid int, unitStart, ra bool, payload []byte) []byte {
	p := bytes.Repeat([]byte{0xff}, PacketSize)
	p[0], p[1], p[2] = SyncByte, byte(pid>>8&0x1f), byte(pid)
	if unitStart {
		p[1] |= 0x40
	}
	p[3] = 0x10
	body := p[4:]
	if ra {
		p[3] = 0x30
		p[4], p[5] = 1, 0x40
		body = p[6:]
	}
	copy(body, payload)
	return p
}

// section wraps a table's body (the bytes after section_length) in a
// section with its CRC, behind a zero pointer field.
func section(tid byte, body []byte) []byte {
	sec := []byte{tid, 0xb0 | byte((len(body)+4)>>8), byte(len(body) + 4)}
	sec = append(sec, body...)
	sec = binary.BigEndian.AppendUint32(sec, CRC32(sec))
	return append([]byte{0}, sec...)
}

func patBody(pmtPID int) []byte {
	return []byte{0, 1, 0xc1, 0, 0, 0, 0, 0xe0, 0x10, 0, 1, 0xe0 | byte(pmtPID>>8), byte(pmtPID)} // network PID 0x10, program 1
}

func pmtBody(streams ...Stream) []byte {
	b := []byte{0, 1, 0xc1, 0, 0, 0xe1, 0, 0xf0, 2, 0x0e, 0} // PCR PID 0x100, a 2-byte program descriptor
	for _, s := range streams {
		b = append(b, s.Type, 0xe0|byte(s.PID>>8), byte(s.PID), 0xf0, 3, 0x0a, 1, 'x') // a 3-byte ES descriptor
	}
	return b
}

// TestCRC32: the CRC-32/MPEG-2 check value of "123456789", and 0 over a
// section with its CRC.
func TestCRC32(t *testing.T) {
	if got := CRC32([]byte("123456789")); got != 0x0376e6e7 {
		t.Errorf("CRC32(123456789) = %#x, want 0x376e6e7", got)
	}
	if got := CRC32(section(TablePAT, patBody(0x1000))[1:]); got != 0 {
		t.Errorf("CRC32 over a section with its CRC = %#x", got)
	}
}

// TestPATAndPMT: a PAT and a PMT round-trip; a damaged section, another
// table id or a truncated section is no section.
func TestPATAndPMT(t *testing.T) {
	pat := Payload(packet(PIDPAT, true, false, section(TablePAT, patBody(0x1000))))
	sec := Section(pat, TablePAT)
	if got := PATProgramMap(sec); got != 0x1000 {
		t.Fatalf("PAT: PMT PID %#x, want 0x1000 (section %x)", got, sec)
	}
	if Section(pat, TablePMT) != nil {
		t.Error("a PAT read as a PMT")
	}
	damaged := bytes.Clone(pat)
	damaged[12] ^= 1
	if Section(damaged, TablePAT) != nil {
		t.Error("a PAT with a wrong CRC was accepted")
	}
	if Section(pat[:10], TablePAT) != nil || Section(nil, TablePAT) != nil || Section([]byte{200, 0, 0}, TablePAT) != nil {
		t.Error("a truncated section was accepted")
	}
	want := []Stream{{0x1b, 0x100}, {0x0f, 0x101}}
	pmt := Section(Payload(packet(0x1000, true, false, section(TablePMT, pmtBody(want...)))), TablePMT)
	got := PMTStreams(pmt)
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("PMT streams %v, want %v", got, want)
	}
	if !IsVideo(got[0].Type) || IsVideo(got[1].Type) {
		t.Error("IsVideo: H.264 is video, AAC is not")
	}
	if PATProgramMap(Section(section(TablePAT, []byte{0, 1, 0xc1, 0, 0, 0, 0, 0xe0, 0x10}), TablePAT)) != -1 {
		t.Error("a PAT with only the network PID names a PMT")
	}
}

// TestPacketHeader: PID, unit start, random access and the payload
// behind an adaptation field.
func TestPacketHeader(t *testing.T) {
	p := packet(0x1abc, true, true, []byte{1, 2, 3})
	if PID(p) != 0x1abc || !UnitStart(p) || !RandomAccess(p) || !bytes.HasPrefix(Payload(p), []byte{1, 2, 3}) || len(Payload(p)) != PacketSize-6 {
		t.Errorf("header: pid %#x start %v ra %v payload %x", PID(p), UnitStart(p), RandomAccess(p), Payload(p)[:3])
	}
	q := packet(0x100, false, false, []byte{9})
	if UnitStart(q) || RandomAccess(q) || Payload(q)[0] != 9 {
		t.Error("plain packet misread")
	}
	q[3] = 0x20 // adaptation field only
	if Payload(q) != nil {
		t.Error("a packet without payload has one")
	}
	q[3], q[4] = 0x30, 200 // adaptation field longer than the packet
	if Payload(q) != nil || RandomAccess(q) {
		t.Error("an overrunning adaptation field was read")
	}
	run := append(packet(PIDPAT, true, false, nil), packet(0x100, false, false, nil)...)
	if !HasPID(run, 0x100) || HasPID(run, 0x101) || HasPID(run[:PacketSize+10], 0x100) {
		t.Error("HasPID")
	}
}

// TestFramer: packets split across writes come out whole and in order;
// bytes out of sync are skipped to the next sync byte; a partial packet
// waits for the next write and is left in Rest at the end.
func TestFramer(t *testing.T) {
	var stream []byte
	for i := range 5 {
		stream = append(stream, packet(0x100+i, false, false, []byte{byte(i)})...)
	}
	junk := []byte{1, 2, 3}
	stream = append(stream[:2*PacketSize:2*PacketSize], append(junk, stream[2*PacketSize:]...)...)
	stream = append(stream, SyncByte, 0, 0)
	for _, chunk := range []int{1, 7, 187, 188, 189, 1000} {
		var f Framer
		var pids []int
		var skipped []byte
		for i := 0; i < len(stream); i += chunk {
			err := f.Write(stream[i:min(i+chunk, len(stream))], func(p []byte) error {
				if len(p) != PacketSize || p[0] != SyncByte {
					t.Fatalf("chunk %d: packet of %d bytes starting %#x", chunk, len(p), p[0])
				}
				pids = append(pids, PID(p))
				return nil
			}, func(b []byte) error { skipped = append(skipped, b...); return nil })
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(pids) != 5 || pids[0] != 0x100 || pids[4] != 0x104 || !bytes.Equal(skipped, junk) {
			t.Errorf("chunk %d: pids %x skipped %v", chunk, pids, skipped)
		}
		if rest := f.Rest(); !bytes.Equal(rest, []byte{SyncByte, 0, 0}) || f.Rest() != nil {
			t.Errorf("chunk %d: rest %x", chunk, rest)
		}
	}
	stop := errors.New("stop")
	var f Framer
	if err := f.Write(stream, func([]byte) error { return stop }, nil); err != stop {
		t.Errorf("a callback's error: %v", err)
	}
}
