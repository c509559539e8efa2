package live

import (
	"errors"
	"io"

	"comfyrt/executor/media/mpegts"
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
	packets  mpegts.Framer
	cuts     int64
}

func newSplitter(newSeg func() error, write func([]byte) error, end func() error) *splitter {
	return &splitter{newSeg: newSeg, write: write, end: end, pmtPID: -1, videoPID: -1}
}

// Write consumes TS bytes (bytes out of sync are dropped); segment
// callbacks run from here.
func (s *splitter) Write(b []byte) (int, error) {
	if err := s.packets.Write(b, s.packet, nil); err != nil {
		return 0, err
	}
	return len(b), s.flush()
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
	pid := mpegts.PID(p)
	pusi := mpegts.UnitStart(p)
	switch {
	case pid == mpegts.PIDNull:
		return nil
	case pid == mpegts.PIDPAT:
		if pusi {
			s.parsePAT(mpegts.Payload(p))
			s.pat = append(s.pat[:0], p...)
		}
		s.pending = append(s.pending, p...)
		return nil
	case pid == s.pmtPID:
		if pusi {
			s.parsePMT(mpegts.Payload(p))
			s.pmt = append(s.pmt[:0], p...)
		}
		s.pending = append(s.pending, p...)
		return nil
	case pid == mpegts.PIDSDT:
		s.pending = append(s.pending, p...)
		return nil
	}
	if pid == s.videoPID && pusi && mpegts.RandomAccess(p) {
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
	if !mpegts.HasPID(s.pending, mpegts.PIDPAT) {
		s.out = append(s.out, s.pat...)
	}
	if !mpegts.HasPID(s.pending, s.pmtPID) {
		s.out = append(s.out, s.pmt...)
	}
	return nil
}

// parsePAT takes the first program's PMT PID (from an intact PAT).
func (s *splitter) parsePAT(payload []byte) {
	if pid := mpegts.PATProgramMap(mpegts.Section(payload, mpegts.TablePAT)); pid >= 0 {
		s.pmtPID = pid
	}
}

// parsePMT takes the first video elementary stream's PID (from an intact
// PMT).
func (s *splitter) parsePMT(payload []byte) {
	for _, es := range mpegts.PMTStreams(mpegts.Section(payload, mpegts.TablePMT)) {
		if mpegts.IsVideo(es.Type) {
			s.videoPID = es.PID
			return
		}
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
