package live

import (
	"bytes"
	"testing"
)

// FuzzSplitter feeds arbitrary bytes to the MPEG-TS splitter in arbitrary
// chunks: it never panics and never writes more than it was given (bytes
// out of sync are dropped while it resynchronises).
func FuzzSplitter(f *testing.F) {
	pkt := func(pid int, pusi bool, rai bool, payload ...byte) []byte {
		p := make([]byte, 188)
		p[0] = 0x47
		p[1] = byte(pid >> 8 & 0x1f)
		if pusi {
			p[1] |= 0x40
		}
		p[2] = byte(pid)
		if rai {
			p[3] = 0x30
			p[4] = 1
			p[5] = 0x40
			copy(p[6:], payload)
		} else {
			p[3] = 0x10
			copy(p[4:], payload)
		}
		return p
	}
	f.Add([]byte{}, uint8(7))
	f.Add(bytes.Repeat([]byte{0x47}, 400), uint8(1))
	f.Add(append(pkt(0, true, false, 0, 0, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xf0, 0), pkt(0x100, true, true, 0, 0, 1)...), uint8(188))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		var out bytes.Buffer
		segs := 0
		s := newSplitter(func() error { segs++; return nil }, func(b []byte) error { out.Write(b); return nil }, func() error { return nil })
		n := int(chunk) + 1
		for i := 0; i < len(data); i += n {
			end := min(i+n, len(data))
			if _, err := s.Write(data[i:end]); err != nil {
				return
			}
		}
		_ = s.Close()
		if out.Len() > len(data) {
			t.Fatalf("wrote %d bytes from %d", out.Len(), len(data))
		}
	})
}
