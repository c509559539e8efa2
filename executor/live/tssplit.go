package live

import (
	"errors"
	"io"
)

// MPEG-TS constants (ISO/IEC 13818-1).
const (
	tsPacket = 188
	tsSync   = 0x47
	pidPAT   = 0x0000
	pidSDT   = 0x0011
	pidNull  = 0x1fff
)

// splitter cuts a continuous MPEG-TS stream into segments that each start
// at a video random access point (a PES start with the adaptation field's
// random_access_indicator, which FFmpeg's muxer sets on keyframes), led by
// the PAT and PMT so that every segment decodes on its own. PSI packets
// that come right before a keyframe (FFmpeg re-emits PAT/PMT there) move to
// the new segment with it.
//
// It is fed whole or partial packets through Write and emits bytes through
// the segment callbacks; it is used by one goroutine.
type splitter struct {
	// newSeg starts a segment; write appends to it; end completes it.
	newSeg func() error
	write  func(b []byte) error
	end    func() error

	pmtPID   int // -1: unknown
	videoPID int // -1: unknown
	pat, pmt []byte
	pending  []byte // PSI packets not yet placed in a segment
	out      []byte // bytes of the current segment not yet written
	open     bool   // a segment is open
	carry    []byte // a partial packet
	cuts     int64
}

func newSplitter(newSeg func() error, write func([]byte) error, end func() error) *splitter {
	return &splitter{newSeg: newSeg, write: write, end: end, pmtPID: -1, videoPID: -1}
}

// Write consumes TS bytes; segment callbacks run from here.
func (s *splitter) Write(b []byte) (int, error) {
	n := len(b)
	if len(s.carry) > 0 {
		need := tsPacket - len(s.carry)
		if len(b) < need {
			s.carry = append(s.carry, b...)
			return n, nil
		}
		s.carry = append(s.carry, b[:need]...)
		b = b[need:]
		if err := s.packet(s.carry); err != nil {
			return 0, err
		}
		s.carry = s.carry[:0]
	}
	for len(b) >= tsPacket {
		if b[0] != tsSync {
			// Resynchronise on the next sync byte.
			i := 1
			for i < len(b) && b[i] != tsSync {
				i++
			}
			b = b[i:]
			continue
		}
		if err := s.packet(b[:tsPacket]); err != nil {
			return 0, err
		}
		b = b[tsPacket:]
	}
	s.carry = append(s.carry, b...)
	return n, s.flush()
}

// flush writes the current segment's buffered bytes.
func (s *splitter) flush() error {
	if !s.open || len(s.out) == 0 {
		return nil
	}
	err := s.write(s.out)
	s.out = s.out[:0]
	return err
}

// Close completes the last segment.
func (s *splitter) Close() error {
	if !s.open {
		return nil
	}
	s.out = append(s.out, s.pending...)
	s.pending = s.pending[:0]
	err := s.flush()
	s.open = false
	if e := s.end(); err == nil {
		err = e
	}
	return err
}

func (s *splitter) packet(p []byte) error {
	pid := int(p[1]&0x1f)<<8 | int(p[2])
	pusi := p[1]&0x40 != 0
	afc := p[3] >> 4 & 3
	payload := p[4:]
	rai := false
	if afc&2 != 0 {
		al := int(p[4])
		if al > 0 && al <= 183 {
			rai = p[5]&0x40 != 0
		}
		if al+1 > len(payload) {
			payload = nil
		} else {
			payload = payload[al+1:]
		}
	}
	if afc&1 == 0 {
		payload = nil
	}
	switch {
	case pid == pidNull:
		return nil
	case pid == pidPAT:
		if pusi {
			s.parsePAT(payload)
			s.pat = append(s.pat[:0], p...)
		}
		s.pending = append(s.pending, p...)
		return nil
	case pid == s.pmtPID:
		if pusi {
			s.parsePMT(payload)
			s.pmt = append(s.pmt[:0], p...)
		}
		s.pending = append(s.pending, p...)
		return nil
	case pid == pidSDT:
		s.pending = append(s.pending, p...)
		return nil
	}
	if pid == s.videoPID && pusi && rai {
		if err := s.cut(); err != nil {
			return err
		}
	}
	if !s.open {
		s.pending = s.pending[:0]
		return nil // nothing decodable before the first keyframe
	}
	s.out = append(s.out, s.pending...)
	s.pending = s.pending[:0]
	s.out = append(s.out, p...)
	return nil
}

// cut ends the current segment and starts one led by the PAT and PMT.
func (s *splitter) cut() error {
	if s.open {
		if err := s.flush(); err != nil {
			return err
		}
		s.open = false
		if err := s.end(); err != nil {
			return err
		}
	}
	if err := s.newSeg(); err != nil {
		return err
	}
	s.open = true
	s.cuts++
	if !hasPID(s.pending, pidPAT) {
		s.out = append(s.out, s.pat...)
	}
	if !hasPID(s.pending, s.pmtPID) {
		s.out = append(s.out, s.pmt...)
	}
	return nil
}

func hasPID(pkts []byte, pid int) bool {
	for i := 0; i+tsPacket <= len(pkts); i += tsPacket {
		if int(pkts[i+1]&0x1f)<<8|int(pkts[i+2]) == pid {
			return true
		}
	}
	return false
}

// section returns the PSI section a PUSI payload starts (after the
// pointer field), bounded by its section_length, or nil.
func section(payload []byte) []byte {
	if len(payload) < 1 {
		return nil
	}
	ptr := int(payload[0])
	if 1+ptr+3 > len(payload) {
		return nil
	}
	sec := payload[1+ptr:]
	l := int(sec[1]&0x0f)<<8 | int(sec[2])
	if 3+l > len(sec) || l < 9 {
		return nil
	}
	return sec[:3+l-4] // without the CRC
}

// parsePAT takes the first program's PMT PID.
func (s *splitter) parsePAT(payload []byte) {
	sec := section(payload)
	if sec == nil || sec[0] != 0x00 {
		return
	}
	for i := 8; i+4 <= len(sec); i += 4 {
		prog := int(sec[i])<<8 | int(sec[i+1])
		if prog == 0 {
			continue // network PID
		}
		s.pmtPID = int(sec[i+2]&0x1f)<<8 | int(sec[i+3])
		return
	}
}

// parsePMT takes the first video elementary stream's PID.
func (s *splitter) parsePMT(payload []byte) {
	sec := section(payload)
	if sec == nil || sec[0] != 0x02 || len(sec) < 12 {
		return
	}
	pil := int(sec[10]&0x0f)<<8 | int(sec[11])
	for i := 12 + pil; i+5 <= len(sec); {
		st := sec[i]
		pid := int(sec[i+1]&0x1f)<<8 | int(sec[i+2])
		esl := int(sec[i+3]&0x0f)<<8 | int(sec[i+4])
		switch st {
		case 0x01, 0x02, 0x10, 0x1b, 0x24: // MPEG-1/2, MPEG-4, H.264, HEVC
			s.videoPID = pid
			return
		}
		i += 5 + esl
	}
}

// copySplit reads r to its end through s, then completes the last
// segment.
func copySplit(s *splitter, r io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := s.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return s.Close()
			}
			return err
		}
	}
}
