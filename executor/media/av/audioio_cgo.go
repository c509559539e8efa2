//go:build cgo

package av

// #include "audioio.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// monoReader converts decoded audio to packed float32 at one rate, keeping
// the source's channels, buffers it (resample.c's FIFO) and hands it out
// mixed to mono by averaging the channels, as ComfyStream's audio input
// does.
type monoReader struct {
	rs    *resampler
	chans int
	buf   []float32
}

func newMonoReader(rate, chans int) (*monoReader, error) {
	chans = max(chans, 1)
	rs, err := newResampler(astiav.SampleFormatFlt, rate, chans)
	if err != nil {
		return nil, err
	}
	return &monoReader{rs: rs, chans: chans}, nil
}

// read fills dst with the next len(dst) samples (as many must be
// buffered).
func (m *monoReader) read(dst []float32) error {
	n := len(dst)
	if need := n * m.chans; cap(m.buf) < need {
		m.buf = make([]float32, need)
	}
	b := m.buf[:n*m.chans]
	if ret := C.crt_ar_read_packed(m.rs.r, unsafe.Pointer(&b[0]), C.int(n)); ret < C.int(n) {
		return fmt.Errorf("audio buffer: %w", astiav.Error(min(ret, -1)))
	}
	if m.chans == 1 {
		copy(dst, b)
		return nil
	}
	inv := 1 / float32(m.chans)
	for i := range dst {
		var s float32
		for _, v := range b[i*m.chans : (i+1)*m.chans] {
			s += v
		}
		dst[i] = s * inv
	}
	return nil
}

func (m *monoReader) free() {
	if m != nil && m.rs != nil {
		m.rs.free()
		m.rs = nil
	}
}

// fillFrame makes f a frame of the packed float32 samples x (channels
// interleaved) at rate.
func fillFrame(f *astiav.Frame, x []float32, channels, rate int) error {
	n := len(x) / channels
	if n == 0 {
		return errors.New("no samples")
	}
	if ret := C.crt_frame_flt(cFrame(f), (*C.float)(unsafe.Pointer(&x[0])), C.int(n), C.int(channels), C.int(rate)); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

// AudioSource decodes the first audio stream of a file, pipe or URL into
// mono float32 samples (channels averaged) at a fixed rate. It is for one
// goroutine.
type AudioSource struct {
	fc      *astiav.FormatContext
	dec     *astiav.CodecContext
	pkt     *astiav.Packet
	frm     *astiav.Frame
	mono    *monoReader
	idx     int
	tb      astiav.Rational
	info    AudioInfo
	opened  bool
	eof     bool
	start   int64 // pts of the first decoded sample, in 1/Rate
	started bool
	errs    int
	restore func()
}

// OpenAudio opens url ("-" is stdin) and prepares decoding of its first
// audio stream.
func OpenAudio(url string, opts AudioOptions) (_ *AudioSource, err error) {
	s := &AudioSource{idx: -1}
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	in := url
	if url == "-" {
		in = "pipe:0"
	}
	s.restore = interruptiblePipe(in)
	if s.fc = astiav.AllocFormatContext(); s.fc == nil {
		return nil, errors.New("av: cannot allocate format context")
	}
	var ifmt *astiav.InputFormat
	if opts.Format != "" {
		if ifmt = astiav.FindInputFormat(opts.Format); ifmt == nil {
			return nil, fmt.Errorf("av: unknown input format %q", opts.Format)
		}
	}
	if err := s.fc.OpenInput(in, ifmt, nil); err != nil {
		return nil, fmt.Errorf("av: open %s: %w", url, err)
	}
	s.opened = true
	if err := s.fc.FindStreamInfo(nil); err != nil {
		return nil, fmt.Errorf("av: open %s: %w", url, err)
	}
	var as *astiav.Stream
	for _, st := range s.fc.Streams() {
		if st.CodecParameters().MediaType() == astiav.MediaTypeAudio {
			as = st
			break
		}
	}
	if as == nil {
		return nil, fmt.Errorf("av: open %s: no audio stream", url)
	}
	if err := s.openDecoder(url, as); err != nil {
		return nil, err
	}
	rate := opts.Rate
	if rate <= 0 {
		rate = 48000
	}
	cp := as.CodecParameters()
	chans := cp.ChannelLayout().NbChannels()
	s.info = AudioInfo{Codec: cp.CodecID().String(), SourceRate: cp.SampleRate(), SourceChannels: chans, Rate: rate}
	if d := as.Duration(); d > 0 && s.tb.Den() > 0 {
		s.info.Duration = time.Duration(float64(d) * s.tb.Float64() * float64(time.Second))
	} else if d := s.fc.Duration(); d > 0 {
		s.info.Duration = time.Duration(d) * time.Microsecond
	}
	if s.mono, err = newMonoReader(rate, chans); err != nil {
		return nil, fmt.Errorf("av: open %s: %w", url, err)
	}
	s.pkt, s.frm = astiav.AllocPacket(), astiav.AllocFrame()
	return s, nil
}

func (s *AudioSource) openDecoder(url string, as *astiav.Stream) error {
	s.idx, s.tb = as.Index(), as.TimeBase()
	cp := as.CodecParameters()
	dec, dc, err := paramDecoder(cp)
	if err != nil {
		return fmt.Errorf("av: open %s: audio: %w", url, err)
	}
	s.dec = dec
	if err := s.dec.Open(dc, nil); err != nil {
		return fmt.Errorf("av: open %s: %s audio decoder: %w", url, cp.CodecID(), err)
	}
	return nil
}

// Info describes the stream.
func (s *AudioSource) Info() AudioInfo { return s.info }

// StartPTS is the timestamp of the first sample, in 1/Rate (0 before the
// first ReadAudio, or when the input has none).
func (s *AudioSource) StartPTS() int64 { return s.start }

// ReadAudio fills dst with the next len(dst) mono samples. At the end of
// the input it returns the samples left (fewer, maybe none) with io.EOF.
func (s *AudioSource) ReadAudio(ctx context.Context, dst []float32) (int, error) {
	for s.mono.rs.buffered() < len(dst) && !s.eof {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := s.step(); err != nil {
			return 0, err
		}
	}
	n := min(len(dst), s.mono.rs.buffered())
	if n > 0 {
		if err := s.mono.read(dst[:n]); err != nil {
			return 0, err
		}
	}
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

// maxAudioErrors is how many packets in a row the decoder may refuse
// before the source gives up.
const maxAudioErrors = 50

// step reads one packet and decodes it; at the end of the input it drains
// the decoder and the resampler.
func (s *AudioSource) step() error {
	err := s.fc.ReadFrame(s.pkt)
	if errors.Is(err, astiav.ErrEof) {
		s.eof = true
		if err := s.dec.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
			return fmt.Errorf("av: audio decode: %w", err)
		}
		if err := s.receive(); err != nil {
			return err
		}
		return s.mono.rs.push(nil)
	}
	if err != nil {
		return fmt.Errorf("av: read: %w", err)
	}
	defer s.pkt.Unref()
	if s.pkt.StreamIndex() != s.idx {
		return nil
	}
	if err := s.dec.SendPacket(s.pkt); err != nil {
		if s.errs++; s.errs > maxAudioErrors {
			return fmt.Errorf("av: audio decode: %d packets refused in a row: %w", s.errs, err)
		}
		return nil
	}
	s.errs = 0
	return s.receive()
}

func (s *AudioSource) receive() error {
	for {
		err := s.dec.ReceiveFrame(s.frm)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("av: audio decode: %w", err)
		}
		if !s.started {
			s.started = true
			if pts := s.frm.Pts(); pts != astiav.NoPtsValue {
				s.start = astiav.RescaleQ(pts, s.tb, astiav.NewRational(1, s.info.Rate))
			}
		}
		err = s.mono.rs.push(s.frm)
		s.frm.Unref()
		if err != nil {
			return fmt.Errorf("av: audio conversion: %w", err)
		}
	}
}

// Close releases the source.
func (s *AudioSource) Close() error {
	s.free()
	return nil
}

func (s *AudioSource) free() {
	s.mono.free()
	s.mono = nil
	release(&s.frm)
	release(&s.pkt)
	release(&s.dec)
	if s.fc != nil {
		if s.opened {
			s.fc.CloseInput()
		}
		s.fc.Free()
		s.fc = nil
	}
	if s.restore != nil {
		s.restore()
		s.restore = nil
	}
}

// AudioSink encodes float32 samples to a file, stdout or a URL: PCM in WAV,
// AAC in MP4/M4A/MPEG-TS/Matroska. It is for one goroutine.
type AudioSink struct {
	fc          *astiav.FormatContext
	enc         *astiav.CodecContext
	st          *astiav.Stream
	rs          *resampler
	in, out     *astiav.Frame
	pkt         *astiav.Packet
	tb          astiav.Rational // 1/rate: encoder and sample clock
	rate, chans int
	frameSize   int
	next        int64 // pts of the next encoder frame
	ioOpen      bool
	header      bool
	closed      bool
}

// CreateAudioSink opens url for writing ("-" is stdout and needs
// opts.Format) with an encoder for channels channels at rate; the first
// sample's timestamp is start (in 1/rate).
func CreateAudioSink(url string, rate, channels int, start int64, opts AudioSinkOptions) (_ *AudioSink, err error) {
	if channels < 1 || channels > 2 || rate <= 0 {
		return nil, fmt.Errorf("av: audio sink %s: %d channels at %d Hz (want 1 or 2 channels)", url, channels, rate)
	}
	out := url
	if url == "-" {
		if opts.Format == "" {
			return nil, errors.New("av: audio sink to stdout needs a format (e.g. wav)")
		}
		out = "pipe:1"
	}
	s := &AudioSink{rate: rate, chans: channels, next: start, tb: astiav.NewRational(1, rate)}
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	if s.fc, err = astiav.AllocOutputFormatContext(nil, opts.Format, out); err != nil || s.fc == nil {
		if err == nil {
			err = errors.New("unknown")
		}
		return nil, fmt.Errorf("av: audio sink %s: no output format (format %q): %w", url, opts.Format, err)
	}
	if err := s.openEncoder(url, opts); err != nil {
		return nil, err
	}
	if s.st = s.fc.NewStream(nil); s.st == nil {
		return nil, errors.New("av: cannot add audio stream")
	}
	if err := s.enc.ToCodecParameters(s.st.CodecParameters()); err != nil {
		return nil, fmt.Errorf("av: audio sink %s: stream parameters: %w", url, err)
	}
	s.st.SetTimeBase(s.tb)
	if !s.fc.OutputFormat().Flags().Has(astiav.IOFormatFlagNofile) {
		d, _ := newCDict(nil)
		err := avioOpen(s.fc, out, d)
		d.free()
		if err != nil {
			return nil, fmt.Errorf("av: audio sink %s: open: %w", url, err)
		}
		s.ioOpen = true
	}
	if err := s.fc.WriteHeader(nil); err != nil {
		return nil, fmt.Errorf("av: audio sink %s: write header: %w", url, err)
	}
	s.header = true
	s.in, s.out, s.pkt = astiav.AllocFrame(), astiav.AllocFrame(), astiav.AllocPacket()
	return s, nil
}

// openEncoder picks and opens the encoder: 16-bit PCM for WAV, AAC for
// the rest (the container must hold it).
func (s *AudioSink) openEncoder(url string, opts AudioSinkOptions) error {
	ofmt := s.fc.OutputFormat()
	name := opts.Codec
	if name == "" {
		name = "aac"
		if strings.Contains(ofmt.Name(), "wav") {
			name = "pcm_s16le"
		}
	}
	ec := astiav.FindEncoderByName(name)
	if ec == nil {
		return fmt.Errorf("av: audio sink %s: encoder %s is not in this FFmpeg build", url, name)
	}
	if !audioFits(s.fc, ec.ID()) {
		return fmt.Errorf("av: audio sink %s: %s cannot hold %s audio", url, ofmt.Name(), ec.ID())
	}
	if s.enc = astiav.AllocCodecContext(ec); s.enc == nil {
		return errors.New("av: cannot allocate audio encoder")
	}
	sf := astiav.SampleFormatFltp
	if fs := ec.SampleFormats(); len(fs) > 0 && !containsFormat(fs, sf) {
		sf = fs[0]
	}
	layout := astiav.ChannelLayoutMono
	if s.chans == 2 {
		layout = astiav.ChannelLayoutStereo
	}
	s.enc.SetSampleFormat(sf)
	s.enc.SetSampleRate(s.rate)
	s.enc.SetChannelLayout(layout)
	s.enc.SetTimeBase(s.tb)
	if ec.ID() == astiav.CodecIDAac {
		br := opts.Bitrate
		if br <= 0 {
			br = 64000 * int64(s.chans)
		}
		s.enc.SetBitRate(br)
	}
	if ofmt.Flags().Has(astiav.IOFormatFlagGlobalheader) {
		s.enc.SetFlags(s.enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))
	}
	if err := s.enc.Open(ec, nil); err != nil {
		return fmt.Errorf("av: audio sink %s: open %s (%d Hz, %d channels): %w", url, name, s.rate, s.chans, err)
	}
	if s.frameSize = s.enc.FrameSize(); s.frameSize <= 0 {
		s.frameSize = 1024
	}
	var err error
	s.rs, err = newResampler(sf, s.rate, s.chans)
	return err
}

func containsFormat(fs []astiav.SampleFormat, f astiav.SampleFormat) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// WriteAudio encodes x: samples with the sink's channels interleaved, at
// its rate, following the previous ones.
func (s *AudioSink) WriteAudio(x []float32) error {
	if s.closed {
		return ErrClosed
	}
	if len(x) == 0 {
		return nil
	}
	if len(x)%s.chans != 0 {
		return fmt.Errorf("av: %d values is not a whole number of %d-channel samples", len(x), s.chans)
	}
	if err := fillFrame(s.in, x, s.chans, s.rate); err != nil {
		return fmt.Errorf("av: audio frame: %w", err)
	}
	err := s.rs.push(s.in)
	s.in.Unref()
	if err != nil {
		return fmt.Errorf("av: audio conversion: %w", err)
	}
	return s.encode(s.frameSize)
}

// encode sends every whole frame of n buffered samples to the encoder.
func (s *AudioSink) encode(n int) error {
	for n > 0 && s.rs.buffered() >= n {
		if err := s.rs.read(s.out, n); err != nil {
			return fmt.Errorf("av: audio buffer: %w", err)
		}
		s.out.SetPts(s.next)
		s.next += int64(n)
		err := s.enc.SendFrame(s.out)
		s.out.Unref()
		if err != nil {
			return fmt.Errorf("av: audio encode: %w", err)
		}
		if err := s.receive(); err != nil {
			return err
		}
	}
	return nil
}

func (s *AudioSink) receive() error {
	for {
		err := s.enc.ReceivePacket(s.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("av: audio encode: %w", err)
		}
		s.pkt.RescaleTs(s.tb, s.st.TimeBase())
		s.pkt.SetStreamIndex(s.st.Index())
		err = s.fc.WriteInterleavedFrame(s.pkt)
		s.pkt.Unref()
		if err != nil {
			return fmt.Errorf("av: write audio: %w", err)
		}
	}
}

// Close encodes what is buffered (the last frame may be short), flushes
// the encoder and finishes the container.
func (s *AudioSink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var first error
	if s.header {
		first = s.rs.push(nil)
		if first == nil {
			first = s.encode(s.frameSize)
		}
		if first == nil {
			first = s.encode(s.rs.buffered())
		}
		if err := s.enc.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) && first == nil {
			first = fmt.Errorf("av: audio encode flush: %w", err)
		}
		if err := s.receive(); err != nil && first == nil {
			first = err
		}
		if err := s.fc.WriteTrailer(); err != nil && first == nil {
			first = fmt.Errorf("av: write trailer: %w", err)
		}
	}
	s.free()
	return first
}

func (s *AudioSink) free() {
	if s.rs != nil {
		s.rs.free()
		s.rs = nil
	}
	release(&s.in, &s.out)
	release(&s.pkt)
	release(&s.enc)
	if s.fc != nil {
		if s.ioOpen {
			avioClose(s.fc)
		}
		s.fc.Free()
		s.fc = nil
	}
}
