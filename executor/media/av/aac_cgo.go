//go:build cgo

package av

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/asticode/go-astiav"

	"comfyrt/executor/media"
)

// aacRates are the sample rates AAC (and FFmpeg's native encoder) supports.
var aacRates = []int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// mpegtsAudio is what the MPEG-TS muxer stores; FFmpeg's query_codec does
// not know for mpegts (nor hls, which writes mpegts segments).
var mpegtsAudio = []astiav.CodecID{astiav.CodecIDAac, astiav.CodecIDAacLatm, astiav.CodecIDMp2,
	astiav.CodecIDMp3, astiav.CodecIDAc3, astiav.CodecIDEac3, astiav.CodecIDDts,
	astiav.CodecIDTruehd, astiav.CodecIDOpus, astiav.CodecIDS302M}

// audioFits reports whether the sink's container can store audio codec id,
// with a table for the muxers FFmpeg cannot answer for.
func audioFits(fc *astiav.FormatContext, id astiav.CodecID) bool {
	switch fc.OutputFormat().Name() {
	case "mpegts", "hls", "rtp_mpegts":
		return slices.Contains(mpegtsAudio, id)
	}
	return canHold(fc, id)
}

// aacEncoder decodes the source's audio packets and re-encodes them to AAC
// (FFmpeg's native encoder, fltp, its frame size) for a container that
// cannot take the source's codec. Output timestamps count samples from the
// first decoded frame's, so they are monotonic; gaps in the input audio are
// closed up rather than kept.
type aacEncoder struct {
	dec, enc  *astiav.CodecContext
	in, out   *astiav.Frame
	pkt       *astiav.Packet
	rs        *resampler
	inTB      astiav.Rational // the source stream's
	tb        astiav.Rational // 1/sample rate: encoder and sample clock
	frameSize int
	next      int64 // pts of the next encoder frame, in tb
	started   bool
	flushed   bool
	errs      int64      // packets the decoder refused
	proc      *procStage // SinkOptions.AudioProcessor's stage, or nil
}

// newAACEncoder sets up decoding of q's codec and an AAC encoder: the
// source's sample rate when AAC has it (else 48 kHz), mono for mono input,
// stereo otherwise; with a processor (aacproc_cgo.go), its output format.
func newAACEncoder(q *audioQueue, globalHeader bool, bitrate int64, proc media.AudioProcessor) (_ *aacEncoder, err error) {
	a := &aacEncoder{inTB: q.tb}
	defer func() {
		if err != nil {
			a.free()
		}
	}()
	par := q.par
	dec, dc, err := paramDecoder(par)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	a.dec = dec
	dd := astiav.NewDictionary()
	defer dd.Free()
	if q.tb.Num() > 0 && q.tb.Den() > 0 {
		_ = dd.Set("pkt_timebase", q.tb.String(), 0)
	}
	if err := a.dec.Open(dc, dd); err != nil {
		return nil, fmt.Errorf("open %s audio decoder: %w", par.CodecID(), err)
	}

	ec := astiav.FindEncoder(astiav.CodecIDAac)
	if ec == nil {
		return nil, errors.New("no AAC encoder in this FFmpeg build")
	}
	if a.enc = astiav.AllocCodecContext(ec); a.enc == nil {
		return nil, errors.New("cannot allocate AAC encoder")
	}
	rate := par.SampleRate()
	if !slices.Contains(aacRates, rate) {
		rate = 48000
	}
	ch := par.ChannelLayout().NbChannels()
	if ch <= 0 {
		ch = par.Channels()
	}
	if proc != nil {
		if rate, ch, err = a.useProc(proc, ch); err != nil {
			return nil, err
		}
	}
	layout := astiav.ChannelLayoutStereo
	if ch == 1 {
		layout = astiav.ChannelLayoutMono
	}
	sf := astiav.SampleFormatFltp
	if fs := ec.SampleFormats(); len(fs) > 0 && !slices.Contains(fs, sf) {
		sf = fs[0]
	}
	a.tb = astiav.NewRational(1, rate)
	a.enc.SetSampleFormat(sf)
	a.enc.SetSampleRate(rate)
	a.enc.SetChannelLayout(layout)
	a.enc.SetTimeBase(a.tb)
	if bitrate <= 0 {
		bitrate = 64000 * int64(layout.NbChannels())
	}
	a.enc.SetBitRate(bitrate)
	if globalHeader {
		a.enc.SetFlags(a.enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))
	}
	if err := a.enc.Open(ec, nil); err != nil {
		return nil, fmt.Errorf("open AAC encoder (%d Hz, %d channels): %w", rate, layout.NbChannels(), err)
	}
	if a.frameSize = a.enc.FrameSize(); a.frameSize <= 0 {
		a.frameSize = 1024
	}
	if a.rs, err = newResampler(sf, rate, layout.NbChannels()); err != nil {
		return nil, err
	}
	a.in, a.out, a.pkt = astiav.AllocFrame(), astiav.AllocFrame(), astiav.AllocPacket()
	return a, nil
}

// String describes the conversion (for errors and logs).
func (a *aacEncoder) String() string {
	return a.dec.CodecID().String() + "→aac " + strconv.Itoa(a.enc.SampleRate()) + "Hz/" +
		strconv.Itoa(a.enc.ChannelLayout().NbChannels()) + "ch"
}

// decode feeds one source packet (nil: end of input) and passes every AAC
// packet that comes out to emit, in the encoder's time base (a.tb). A packet
// the decoder refuses is counted and skipped.
func (a *aacEncoder) decode(p *astiav.Packet, emit func(*astiav.Packet) error) error {
	if a.flushed {
		return nil
	}
	if err := a.dec.SendPacket(p); err != nil && !errors.Is(err, astiav.ErrEof) {
		if p == nil || errors.Is(err, astiav.ErrEagain) {
			return fmt.Errorf("audio decode: %w", err)
		}
		a.errs++
		return nil
	}
	for {
		err := a.dec.ReceiveFrame(a.in)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			break
		}
		if err != nil {
			a.errs++
			continue
		}
		if !a.started {
			pts := a.in.Pts()
			if pts == astiav.NoPtsValue {
				pts = a.in.PktDts()
			}
			if pts != astiav.NoPtsValue {
				a.next = astiav.RescaleQ(pts, a.inTB, a.tb)
			}
			a.started = true
		}
		err = a.push(a.in)
		a.in.Unref()
		if err != nil {
			return fmt.Errorf("audio conversion: %w", err)
		}
		if err := a.encode(a.frameSize, emit); err != nil {
			return err
		}
	}
	return nil
}

// encode sends every whole frame of n samples buffered to the encoder.
func (a *aacEncoder) encode(n int, emit func(*astiav.Packet) error) error {
	for a.rs.buffered() >= n && n > 0 {
		if err := a.rs.read(a.out, n); err != nil {
			return fmt.Errorf("audio buffer: %w", err)
		}
		a.out.SetPts(a.next)
		a.next += int64(n)
		err := a.enc.SendFrame(a.out)
		a.out.Unref()
		if err != nil {
			return fmt.Errorf("audio encode: %w", err)
		}
		if err := a.receive(emit); err != nil {
			return err
		}
	}
	return nil
}

func (a *aacEncoder) receive(emit func(*astiav.Packet) error) error {
	for {
		err := a.enc.ReceivePacket(a.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("audio encode: %w", err)
		}
		err = emit(a.pkt)
		a.pkt.Unref()
		if err != nil {
			return err
		}
	}
}

// flush drains decoder, resampler and encoder (the last frame may be short;
// the encoder pads it).
func (a *aacEncoder) flush(emit func(*astiav.Packet) error) error {
	if a.flushed {
		return nil
	}
	err := a.decode(nil, emit)
	a.flushed = true
	if err != nil {
		return err
	}
	if a.proc != nil {
		if err := a.proc.flush(a.rs); err != nil {
			return fmt.Errorf("audio processing: %w", err)
		}
	}
	if err := a.rs.push(nil); err != nil {
		return fmt.Errorf("audio conversion: %w", err)
	}
	if err := a.encode(a.frameSize, emit); err != nil {
		return err
	}
	if err := a.encode(a.rs.buffered(), emit); err != nil {
		return err
	}
	if err := a.enc.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		return fmt.Errorf("audio encode flush: %w", err)
	}
	return a.receive(emit)
}

func (a *aacEncoder) free() {
	if a.proc != nil {
		a.proc.free()
		a.proc = nil
	}
	if a.rs != nil {
		a.rs.free()
		a.rs = nil
	}
	release(&a.in, &a.out)
	release(&a.pkt)
	release(&a.dec, &a.enc)
}
