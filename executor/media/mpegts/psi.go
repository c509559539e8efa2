package mpegts

// Section returns the PSI section with table_id tid that a unit-start
// payload carries (after its pointer field), without its CRC, or nil when
// there is none, it does not fit in the payload or its CRC is wrong.
func Section(payload []byte, tid byte) []byte {
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
	if CRC32(sec[:3+l]) != 0 { // the CRC covers itself: 0 when intact
		return nil
	}
	return sec[:3+l-4]
}

// PATProgramMap returns the PMT PID of the first program of a PAT
// section (Section's result), skipping the network PID; -1 when there is
// none.
func PATProgramMap(sec []byte) int {
	for i := 8; i+4 <= len(sec); i += 4 {
		if prog := int(sec[i])<<8 | int(sec[i+1]); prog != 0 {
			return int(sec[i+2]&0x1f)<<8 | int(sec[i+3])
		}
	}
	return -1
}

// Stream is an elementary stream of a PMT.
type Stream struct {
	Type byte // stream_type: 0x1b H.264, 0x24 HEVC, 0x0f AAC, …
	PID  int
}

// PMTStreams returns the elementary streams of a PMT section (Section's
// result) in their order.
func PMTStreams(sec []byte) []Stream {
	if len(sec) < 12 {
		return nil
	}
	pil := int(sec[10]&0x0f)<<8 | int(sec[11])
	var out []Stream
	for i := 12 + pil; i+5 <= len(sec); {
		out = append(out, Stream{Type: sec[i], PID: int(sec[i+1]&0x1f)<<8 | int(sec[i+2])})
		i += 5 + (int(sec[i+3]&0x0f)<<8 | int(sec[i+4]))
	}
	return out
}

// IsVideo reports a video stream_type: MPEG-1/2 video, MPEG-4 part 2,
// H.264 or HEVC.
func IsVideo(streamType byte) bool {
	switch streamType {
	case 0x01, 0x02, 0x10, 0x1b, 0x24:
		return true
	}
	return false
}

// CRC32 is the CRC-32 of MPEG-2 sections (polynomial 0x04C11DB7, not
// reflected, initial value all ones, no final inversion). Over a whole
// section, its CRC included, it is 0.
func CRC32(b []byte) uint32 {
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
