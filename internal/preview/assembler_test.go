package preview

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// TestAssembler packetises VP8 frames and reassembles them: a frame comes
// out with its last packet; a gap, a missing first packet or a frame
// without its marker is reported lost and never handed over.
func TestAssembler(t *testing.T) {
	pay := &codecs.VP8Payloader{}
	packets := func(ts uint32, seq uint16, data []byte) []*rtp.Packet {
		var out []*rtp.Packet
		pls := pay.Payload(100, data)
		for i, pl := range pls {
			out = append(out, &rtp.Packet{Header: rtp.Header{Timestamp: ts, SequenceNumber: seq + uint16(i), Marker: i == len(pls)-1}, Payload: pl})
		}
		return out
	}
	frame := bytes.Repeat([]byte{1, 2, 3, 4, 5}, 90) // 450 bytes: 5 packets
	a := &assembler{depack: &codecs.VP8Packet{}}
	ps := packets(3000, 10, frame)
	for i, p := range ps {
		data, ts, lost := a.push(p)
		if lost || (i < len(ps)-1) != (data == nil) {
			t.Fatalf("packet %d: data %d bytes, lost %v", i, len(data), lost)
		}
		if data != nil && (ts != 3000 || !bytes.Equal(data, frame)) {
			t.Fatalf("frame: ts %d, %d bytes", ts, len(data))
		}
	}
	ps = packets(6000, 15, frame)
	for i, p := range append(ps[:2:2], ps[3:]...) { // packet 2 lost
		if data, _, lost := a.push(p); data != nil || lost != (i == 3) {
			t.Fatalf("gap, packet %d: data %d bytes, lost %v", i, len(data), lost)
		}
	}
	ps = packets(9000, 20, frame)
	for _, p := range ps[1:] { // first packet lost
		if data, _, _ := a.push(p); data != nil {
			t.Fatal("a frame without its first packet came out")
		}
	}
	ps = packets(12000, 25, frame)
	for _, p := range ps[:2] { // marker never comes
		a.push(p)
	}
	if data, _, lost := a.push(packets(15000, 30, frame[:50])[0]); !lost || data == nil {
		t.Fatalf("after an unfinished frame: data %d bytes, lost %v", len(data), lost)
	}
}
