//go:build cgo

package av

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/asticode/go-astiav"

	"comfyrt/executor/media"
)

// maxPacketPixels bounds the pictures VideoDecoder converts (8192×8192),
// checked before the RGB buffer is sized.
const maxPacketPixels = 8192 * 8192

// packetPadding is FFmpeg's input padding (AV_INPUT_BUFFER_PADDING_SIZE):
// decoders may read that far past a packet's end.
const packetPadding = 64

func videoCodecID(codec string) (astiav.CodecID, error) {
	switch codec {
	case "vp8":
		return astiav.CodecIDVp8, nil
	case "h264":
		return astiav.CodecIDH264, nil
	}
	return 0, fmt.Errorf("av: unknown video codec %q (vp8 or h264)", codec)
}

// VideoDecoder decodes single encoded video packets, as a WebRTC
// depacketiser delivers them, into RGB24 frames. It is not safe for
// concurrent use.
type VideoDecoder struct {
	codec string
	cc    *astiav.CodecContext
	pkt   *astiav.Packet
	frm   *astiav.Frame
	sc    scaler
	buf   []byte
}

// NewVideoDecoder opens FFmpeg's decoder for codec ("vp8" or "h264", the
// latter in Annex B), one thread, low delay.
func NewVideoDecoder(codec string) (_ *VideoDecoder, err error) {
	id, err := videoCodecID(codec)
	if err != nil {
		return nil, err
	}
	dec := astiav.FindDecoder(id)
	if dec == nil {
		return nil, fmt.Errorf("av: no %s decoder in this FFmpeg build", codec)
	}
	d := &VideoDecoder{codec: codec, sc: scaler{threads: 1}}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.cc = astiav.AllocCodecContext(dec); d.cc == nil {
		return nil, errors.New("av: cannot allocate decoder")
	}
	d.cc.SetThreadCount(1)
	d.cc.SetFlags(d.cc.Flags().Add(astiav.CodecContextFlagLowDelay))
	if err := d.cc.Open(dec, nil); err != nil {
		return nil, fmt.Errorf("av: open %s decoder: %w", codec, err)
	}
	d.pkt, d.frm = astiav.AllocPacket(), astiav.AllocFrame()
	return d, nil
}

// Decode decodes one packet with timestamp pts and, when it completes a
// picture, fills f with it (RGB24 at the picture's size, PTS pts) and
// returns true. A packet the decoder rejects is an error; the decoder
// stays usable (the next keyframe recovers it).
func (d *VideoDecoder) Decode(data []byte, pts int64, f *media.Frame) (bool, error) {
	if len(data) == 0 {
		return false, nil
	}
	n := len(data) + packetPadding
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	d.buf = d.buf[:n]
	copy(d.buf, data)
	clear(d.buf[len(data):])
	// FromData copies the padded bytes; the packet's size is the data's.
	if err := d.pkt.FromData(d.buf); err != nil {
		return false, fmt.Errorf("av: %s packet: %w", d.codec, err)
	}
	d.pkt.SetSize(len(data))
	d.pkt.SetPts(pts)
	err := d.cc.SendPacket(d.pkt)
	d.pkt.Unref()
	if err != nil && !errors.Is(err, astiav.ErrEagain) {
		return false, fmt.Errorf("av: decode %s: %w", d.codec, err)
	}
	got := false
	for {
		err := d.cc.ReceiveFrame(d.frm)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return got, nil
		}
		if err != nil {
			return got, fmt.Errorf("av: decode %s: %w", d.codec, err)
		}
		err = d.deliver(pts, f)
		d.frm.Unref()
		if err != nil {
			return got, err
		}
		got = true
	}
}

func (d *VideoDecoder) deliver(pts int64, f *media.Frame) error {
	w, h := d.frm.Width(), d.frm.Height()
	if w <= 0 || h <= 0 || w*h > maxPacketPixels {
		return fmt.Errorf("av: decoded %s picture of %dx%d (at most %d pixels)", d.codec, w, h, maxPacketPixels)
	}
	f.Resize(w, h)
	if err := d.sc.toRGB(d.frm, 0, 0, w, h, f.RGB, w, h); err != nil {
		return fmt.Errorf("av: %s picture %dx%d %s: %w", d.codec, w, h, d.frm.PixelFormat(), err)
	}
	f.PTS = pts
	if p := d.frm.Pts(); p != astiav.NoPtsValue {
		f.PTS = p
	}
	return nil
}

// Close releases the decoder.
func (d *VideoDecoder) Close() error {
	release(&d.cc)
	release(&d.pkt)
	release(&d.frm)
	d.sc.free()
	return nil
}

// VideoEncoder encodes RGB24 frames into single packets for a WebRTC
// packetiser: VP8 (libvpx, real-time) or H.264 constrained baseline
// (libx264, zero latency, SPS/PPS before every IDR). It is not safe for
// concurrent use.
type VideoEncoder struct {
	o       VideoEncoderOptions
	cc      *astiav.CodecContext
	yuv     *astiav.Frame
	pkt     *astiav.Packet
	sc      scaler
	tb      astiav.Rational
	last    int64
	started bool
}

// NewVideoEncoder opens the encoder for o.Width×o.Height frames (even
// sizes: 4:2:0).
func NewVideoEncoder(o VideoEncoderOptions) (_ *VideoEncoder, err error) {
	if o.Width <= 0 || o.Height <= 0 || o.Width%2 != 0 || o.Height%2 != 0 || o.Width*o.Height > maxPacketPixels {
		return nil, fmt.Errorf("av: %s encoder: invalid size %dx%d (even, at most %d pixels)", o.Codec, o.Width, o.Height, maxPacketPixels)
	}
	if o.TimeBase.Num <= 0 || o.TimeBase.Den <= 0 {
		o.TimeBase = media.Rational{Num: 1, Den: 90000}
	}
	if o.Bitrate <= 0 {
		o.Bitrate = 1_500_000
	}
	if o.FrameRate.Num <= 0 || o.FrameRate.Den <= 0 {
		o.FrameRate = media.Rational{Num: 30, Den: 1}
	}
	if o.GOP <= 0 {
		o.GOP = 90
	}
	name, eo, err := encoderSettings(o.Codec)
	if err != nil {
		return nil, err
	}
	enc := astiav.FindEncoderByName(name)
	if enc == nil {
		return nil, fmt.Errorf("av: encoder %s is not in this FFmpeg build", name)
	}
	e := &VideoEncoder{o: o, sc: scaler{threads: 1}, tb: astiav.NewRational(o.TimeBase.Num, o.TimeBase.Den)}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.cc = astiav.AllocCodecContext(enc); e.cc == nil {
		return nil, errors.New("av: cannot allocate encoder")
	}
	setVideoCodec(e.cc, o.Width, o.Height, e.tb)
	e.cc.SetFramerate(astiav.NewRational(o.FrameRate.Num, o.FrameRate.Den))
	e.cc.SetGopSize(o.GOP)
	e.cc.SetBitRate(o.Bitrate)
	e.cc.SetThreadCount(max(o.Threads, 1))
	if err := openEncoder(e.cc, enc, eo); err != nil {
		return nil, fmt.Errorf("av: cannot open encoder %s: %w", name, err)
	}
	if e.yuv, err = newYUVFrame(o.Width, o.Height); err != nil {
		return nil, fmt.Errorf("av: encoder frame buffer: %w", err)
	}
	e.pkt = astiav.AllocPacket()
	return e, nil
}

// encoderSettings names the FFmpeg encoder of codec and its low-latency
// options.
func encoderSettings(codec string) (string, map[string]string, error) {
	switch codec {
	case "vp8":
		return "libvpx", map[string]string{"deadline": "realtime", "cpu-used": strconv.Itoa(8), "lag-in-frames": "0", "error-resilient": "1"}, nil
	case "h264":
		return "libx264", map[string]string{"preset": "superfast", "tune": "zerolatency", "profile": "baseline", "forced-idr": "1"}, nil
	}
	return "", nil, fmt.Errorf("av: unknown video codec %q (vp8 or h264)", codec)
}

// Width and Height are the encoder's frame size.
func (e *VideoEncoder) Width() int  { return e.o.Width }
func (e *VideoEncoder) Height() int { return e.o.Height }

// Encode encodes f (the encoder's size, PTS in its time base, strictly
// increasing) as a keyframe when key is set, and hands every packet that
// comes out to emit (its Data is a copy the callee may keep).
func (e *VideoEncoder) Encode(f *media.Frame, key bool, emit func(Packet) error) error {
	if f.Width != e.o.Width || f.Height != e.o.Height || len(f.RGB) < f.Width*f.Height*3 {
		return fmt.Errorf("av: frame %d: %dx%d (%d bytes) for a %dx%d encoder", f.Index, f.Width, f.Height, len(f.RGB), e.o.Width, e.o.Height)
	}
	pts := f.PTS
	if f.TimeBase != e.o.TimeBase && f.TimeBase.Num > 0 && f.TimeBase.Den > 0 {
		pts = astiav.RescaleQ(f.PTS, astiav.NewRational(f.TimeBase.Num, f.TimeBase.Den), e.tb)
	}
	if f.PTS == media.NoPTS || (e.started && pts <= e.last) {
		return fmt.Errorf("av: frame %d: pts %d not after %d: %w", f.Index, pts, e.last, ErrNonMonotonic)
	}
	if err := e.sc.fromRGB(f.RGB, f.Width, f.Height, e.yuv); err != nil {
		return fmt.Errorf("av: frame %d: %w", f.Index, err)
	}
	e.started, e.last = true, pts
	e.yuv.SetPts(pts)
	if key {
		e.yuv.SetPictureType(astiav.PictureTypeI)
	} else {
		e.yuv.SetPictureType(astiav.PictureTypeNone)
	}
	if err := e.cc.SendFrame(e.yuv); err != nil {
		return fmt.Errorf("av: frame %d: encode: %w", f.Index, err)
	}
	for {
		err := e.cc.ReceivePacket(e.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("av: encode: %w", err)
		}
		p := Packet{Data: e.pkt.Data(), PTS: e.pkt.Pts(), Key: e.pkt.Flags().Has(astiav.PacketFlagKey)}
		e.pkt.Unref()
		if err := emit(p); err != nil {
			return err
		}
	}
}

// Close releases the encoder (pending packets are dropped: the encoder
// runs without lag).
func (e *VideoEncoder) Close() error {
	release(&e.cc)
	release(&e.yuv)
	release(&e.pkt)
	e.sc.free()
	return nil
}
