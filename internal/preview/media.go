package preview

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
)

// clock90k is the RTP clock of video (and the frames' time base).
var clock90k = media.Rational{Num: 1, Den: 90000}

// frameSource is the executor's source for one WHIP session: the ingest
// goroutine pushes decoded frames, the newest replacing one not yet read
// (the executor's admission then applies its own latest-wins, rate cap and
// budget).
type frameSource struct {
	info     media.StreamInfo
	ch       chan *media.Frame
	free     chan *media.Frame
	done     chan struct{}
	once     sync.Once
	replaced atomic.Int64
}

func newFrameSource(w, h int) *frameSource {
	return &frameSource{
		info: media.StreamInfo{Width: w, Height: h, TimeBase: clock90k, Live: true},
		ch:   make(chan *media.Frame, 1), free: make(chan *media.Frame, 4), done: make(chan struct{}),
	}
}

// get returns a frame buffer to decode into.
func (s *frameSource) get() *media.Frame {
	select {
	case f := <-s.free:
		return f
	default:
		return &media.Frame{}
	}
}

func (s *frameSource) put(f *media.Frame) {
	select {
	case s.free <- f:
	default:
	}
}

// push queues f, replacing a queued frame the executor has not read yet.
func (s *frameSource) push(f *media.Frame) {
	for {
		select {
		case s.ch <- f:
			return
		case <-s.done:
			return
		default:
		}
		select {
		case old := <-s.ch:
			s.replaced.Add(1)
			s.put(old)
		default:
		}
	}
}

func (s *frameSource) Info() media.StreamInfo { return s.info }

func (s *frameSource) ReadFrame(ctx context.Context, f *media.Frame) error {
	select {
	case g := <-s.ch:
		f.CopyFrom(g)
		s.put(g)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return io.EOF
	}
}

// Close ends the stream: ReadFrame returns io.EOF.
func (s *frameSource) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

// trackSink is the executor's sink: it encodes each output frame and
// sends it, packetised, on the track every WHEP viewer shares. The RTP
// timestamp is the input frame's PTS (90 kHz, plus the session's base), so
// output timing follows the input's.
type trackSink struct {
	track   *webrtc.TrackLocalStaticRTP
	codec   string
	wantKey *atomic.Bool
	out     *rtpOut
	enc     *av.VideoEncoder
	pay     rtp.Payloader
	even    media.Frame
	packets atomic.Int64
}

// newTrackSink starts a session on the track whose numbering out keeps.
func newTrackSink(track *webrtc.TrackLocalStaticRTP, codec string, wantKey *atomic.Bool, out *rtpOut) *trackSink {
	var pay rtp.Payloader = &codecs.VP8Payloader{EnablePictureID: true}
	if codec == "h264" {
		pay = &codecs.H264Payloader{}
	}
	out.session()
	return &trackSink{track: track, codec: codec, wantKey: wantKey, out: out, pay: pay}
}

// rtpOut is a track's RTP numbering, kept across WHIP sessions so that
// viewers see one stream: sequence numbers never go back (SRTP's replay
// check would drop them) and each session's timestamps (its PTS, from 0)
// continue one frame after the previous session's last.
type rtpOut struct {
	mu      sync.Mutex
	seq     uint16
	last    uint32 // the last timestamp written
	base    uint32 // added to the session's PTS
	written bool
}

func (o *rtpOut) session() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.written {
		o.base = o.last + 3000
	}
}

// header numbers the next packet of a frame with PTS pts.
func (o *rtpOut) header(pts int64, marker bool) rtp.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: o.seq, Timestamp: o.base + uint32(pts), Marker: marker}
	o.seq++
	o.last, o.written = h.Timestamp, true
	return h
}

// rtpMTU is the payload size per RTP packet (room for SRTP and headers
// within a 1280-byte path MTU).
const rtpMTU = 1150

func (k *trackSink) WriteFrame(f *media.Frame) error {
	if f.Width%2 != 0 || f.Height%2 != 0 {
		f = k.cropEven(f)
	}
	key := k.wantKey.Swap(false)
	if k.enc == nil || k.enc.Width() != f.Width || k.enc.Height() != f.Height {
		if k.enc != nil {
			k.enc.Close()
			k.enc = nil
		}
		enc, err := av.NewVideoEncoder(av.VideoEncoderOptions{Codec: k.codec, Width: f.Width, Height: f.Height, TimeBase: clock90k})
		if err != nil {
			return err
		}
		k.enc, key = enc, true
	}
	return k.enc.Encode(f, key, k.send)
}

func (k *trackSink) send(p av.Packet) error {
	payloads := k.pay.Payload(rtpMTU, p.Data)
	for i, pl := range payloads {
		pkt := &rtp.Packet{Header: k.out.header(p.PTS, i == len(payloads)-1), Payload: pl}
		if err := k.track.WriteRTP(pkt); err != nil {
			return err
		}
		k.packets.Add(1)
	}
	return nil
}

// cropEven drops the last column and row of an odd-sized frame (4:2:0
// needs even sizes).
func (k *trackSink) cropEven(f *media.Frame) *media.Frame {
	w, h := f.Width&^1, f.Height&^1
	k.even.Resize(max(w, 2), max(h, 2))
	for y := range min(h, f.Height) {
		copy(k.even.RGB[y*k.even.Width*3:(y+1)*k.even.Width*3], f.RGB[y*f.Width*3:])
	}
	k.even.PTS, k.even.TimeBase, k.even.Index, k.even.Captured = f.PTS, f.TimeBase, f.Index, f.Captured
	return &k.even
}

func (k *trackSink) Close() error {
	if k.enc != nil {
		k.enc.Close()
		k.enc = nil
	}
	return nil
}

// unwrapper turns 32-bit RTP timestamps into an increasing 64-bit PTS
// from 0 at the first.
type unwrapper struct {
	started bool
	last    uint32
	pts     int64
}

func (u *unwrapper) next(ts uint32) int64 {
	if !u.started {
		u.started, u.last = true, ts
		return 0
	}
	u.pts += int64(int32(ts - u.last))
	u.last = ts
	return u.pts
}

// newFrame is a frame buffer from src's pool (a new one before the
// source exists).
func newFrame(src *frameSource) *media.Frame {
	if src == nil {
		return &media.Frame{}
	}
	return src.get()
}

// assembler rebuilds encoded frames from RTP packets in arrival order and
// hands each over as soon as its last packet (marker bit) arrives: unlike
// pion's samplebuilder, which releases a frame when the next one starts,
// it adds no frame interval of latency. A frame with a missing, reordered
// or undecodable packet is dropped (lost), to be repaired by a keyframe.
type assembler struct {
	depack  rtp.Depacketizer
	started bool // collecting a frame
	ok      bool // no gap in it so far
	ts      uint32
	next    uint16 // the sequence number expected next
	buf     []byte
}

// push adds p; it returns the frame p completes (valid until the next
// push) and its RTP timestamp, or lost when a frame was dropped.
func (a *assembler) push(p *rtp.Packet) (frame []byte, ts uint32, lost bool) {
	if len(p.Payload) == 0 {
		return nil, 0, false // padding
	}
	if !a.started || p.Timestamp != a.ts {
		lost = a.started // the previous frame never ended
		a.started, a.ts, a.buf = true, p.Timestamp, a.buf[:0]
		a.ok = a.depack.IsPartitionHead(p.Payload)
	} else if p.SequenceNumber != a.next {
		a.ok = false
	}
	a.next = p.SequenceNumber + 1
	if a.ok {
		data, err := a.depack.Unmarshal(p.Payload)
		a.ok = err == nil
		a.buf = append(a.buf, data...)
	}
	if !p.Marker {
		return nil, 0, lost
	}
	a.started = false
	if !a.ok {
		return nil, 0, true
	}
	return a.buf, a.ts, lost
}
