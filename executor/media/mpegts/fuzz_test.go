package mpegts

import (
	"bytes"
	"testing"
)

// FuzzFramer feeds arbitrary bytes in arbitrary chunks: every packet is
// whole and starts with the sync byte, packets, skipped bytes and the rest
// add up to the input in order, and reading each packet's header and PSI
// never panics. Skipped bytes hold no sync byte.
func FuzzFramer(f *testing.F) {
	f.Add([]byte{}, uint8(7))
	f.Add(bytes.Repeat([]byte{SyncByte}, 400), uint8(1))
	f.Add(append(packet(PIDPAT, true, false, section(TablePAT, patBody(0x1000))),
		packet(0x1000, true, false, section(TablePMT, pmtBody(Stream{0x1b, 0x100})))...), uint8(187))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		var fr Framer
		var out []byte
		n := int(chunk) + 1
		for i := 0; i < len(data); i += n {
			err := fr.Write(data[i:min(i+n, len(data))], func(p []byte) error {
				if len(p) != PacketSize || p[0] != SyncByte {
					t.Fatalf("packet of %d bytes starting %#x", len(p), p[0])
				}
				PID(p)
				UnitStart(p)
				RandomAccess(p)
				pl := Payload(p)
				PATProgramMap(Section(pl, TablePAT))
				PMTStreams(Section(pl, TablePMT))
				out = append(out, p...)
				return nil
			}, func(b []byte) error {
				if len(b) == 0 || b[0] == SyncByte || bytes.IndexByte(b, SyncByte) >= 0 {
					t.Fatalf("skipped %d bytes starting %x", len(b), b[:min(len(b), 1)])
				}
				out = append(out, b...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, fr.Rest()...)
		if !bytes.Equal(out, data) {
			t.Fatalf("packets, skipped bytes and rest (%d bytes) differ from the input (%d)", len(out), len(data))
		}
	})
}
