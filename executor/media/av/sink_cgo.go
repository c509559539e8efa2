//go:build cgo

package av

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/asticode/go-astiav"

	"comfyrt/executor/media"
)

// Sink encodes RGB24 frames to H.264 and muxes them to a file, stdout or a
// URL. WriteFrame and Close must not be called concurrently.
type Sink struct {
	mu      sync.Mutex
	closed  bool
	fc      *astiav.FormatContext
	cc      *astiav.CodecContext
	st      *astiav.Stream
	yuv     *astiav.Frame
	pkt     *astiav.Packet
	sc      scaler
	encTB   astiav.Rational
	ioOpen  bool
	header  bool
	last    int64
	started bool
	key     bool // force the next frame to be an IDR

	audio       *audioQueue
	ast         *astiav.Stream
	aWriter     func(*astiav.Packet)
	aErr        error
	aac         *aacEncoder // re-encodes the audio when not copied
	aEmit       func(*astiav.Packet) error
	aMono       tsRebase // keeps the audio's timestamps increasing
	rebaseAudio bool     // SinkOptions.RebaseAudio

	frames, packets int64
}

// CreateSink opens url for writing ("-" is stdout and needs
// opts.Format) and sets up an H.264 encoder for info.Width×info.Height
// frames whose PTS are in info.TimeBase (default 1/90000).
func CreateSink(url string, info media.StreamInfo, opts SinkOptions) (_ *Sink, err error) {
	out, err := sinkTarget(url, info, opts)
	if err != nil {
		return nil, err
	}
	s := &Sink{rebaseAudio: opts.RebaseAudio}
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	if s.fc, err = astiav.AllocOutputFormatContext(nil, opts.Format, out); err != nil || s.fc == nil {
		if err == nil {
			err = errors.New("unknown")
		}
		return nil, fmt.Errorf("av: sink %s: no output format (format %q): %w", url, opts.Format, err)
	}
	if err = s.openVideo(url, info, opts); err != nil {
		return nil, err
	}
	if src := opts.AudioFrom; src != nil {
		if err = s.addAudio(url, src, opts); err != nil {
			return nil, err
		}
	}
	if err = s.writeHeader(url, out, opts.Options); err != nil {
		return nil, err
	}
	if s.yuv, err = newYUVFrame(info.Width, info.Height); err != nil {
		return nil, fmt.Errorf("av: sink %s: frame buffer: %w", url, err)
	}
	s.pkt = astiav.AllocPacket()
	if s.aac != nil {
		s.aWriter = s.transcodeAudio
		s.aEmit = s.writeAAC
	} else if s.audio != nil {
		s.aWriter = s.writeAudio
	}
	return s, nil
}

// sinkTarget checks the frame size and returns what FFmpeg opens for url.
func sinkTarget(url string, info media.StreamInfo, opts SinkOptions) (string, error) {
	if info.Width <= 0 || info.Height <= 0 {
		return "", fmt.Errorf("av: sink %s: invalid size %dx%d", url, info.Width, info.Height)
	}
	if info.Width%2 != 0 || info.Height%2 != 0 {
		return "", fmt.Errorf("av: sink %s: H.264 4:2:0 needs an even size, got %dx%d", url, info.Width, info.Height)
	}
	if url != "-" {
		return url, nil
	}
	if opts.Format == "" {
		return "", errors.New("av: sink to stdout needs a format (e.g. mpegts)")
	}
	return "pipe:1", nil
}

// openVideo opens the sink's video encoder and adds its stream.
func (s *Sink) openVideo(url string, info media.StreamInfo, opts SinkOptions) error {
	name := opts.Encoder
	if name == "" {
		name = "libx264"
	}
	enc := astiav.FindEncoderByName(name)
	if enc == nil {
		return fmt.Errorf("av: sink %s: encoder %s is not in this FFmpeg build", url, name)
	}
	if s.cc = astiav.AllocCodecContext(enc); s.cc == nil {
		return errors.New("av: cannot allocate encoder")
	}
	tb := info.TimeBase
	if tb.Num <= 0 || tb.Den <= 0 {
		tb = media.Rational{Num: 1, Den: 90000}
	}
	s.encTB = astiav.NewRational(tb.Num, tb.Den)
	setVideoCodec(s.cc, info.Width, info.Height, s.encTB)
	fr, fps := info.FrameRate, 0.0
	if fr.Num > 0 && fr.Den > 0 {
		s.cc.SetFramerate(astiav.NewRational(fr.Num, fr.Den))
		fps = fr.Float()
	}
	gop := opts.GOP
	if gop <= 0 {
		gop = 60
		if fps > 0 {
			gop = max(1, int(2*fps+0.5))
		}
	}
	s.cc.SetGopSize(gop)
	if opts.Bitrate > 0 {
		s.cc.SetBitRate(opts.Bitrate)
	}
	s.sc.threads = max(opts.Threads, 0)
	if opts.Threads > 0 {
		s.cc.SetThreadCount(opts.Threads)
	}
	if s.fc.OutputFormat().Flags().Has(astiav.IOFormatFlagGlobalheader) {
		s.cc.SetFlags(s.cc.Flags().Add(astiav.CodecContextFlagGlobalHeader))
	}
	if err := openEncoder(s.cc, enc, sinkEncoderOptions(name, opts)); err != nil {
		if errors.Is(err, errEncoderOption) {
			return fmt.Errorf("av: sink %s: %w", url, err)
		}
		if strings.Contains(name, "nvenc") {
			return fmt.Errorf("av: sink %s: cannot open %s (no NVIDIA GPU or driver here?): %w", url, name, err)
		}
		return fmt.Errorf("av: sink %s: cannot open encoder %s: %w", url, name, err)
	}
	if s.st = s.fc.NewStream(nil); s.st == nil {
		return errors.New("av: cannot add output stream")
	}
	if err := s.cc.ToCodecParameters(s.st.CodecParameters()); err != nil {
		return fmt.Errorf("av: sink %s: stream parameters: %w", url, err)
	}
	s.st.SetTimeBase(s.encTB)
	if fr.Num > 0 && fr.Den > 0 {
		s.st.SetAvgFrameRate(astiav.NewRational(fr.Num, fr.Den))
	}
	return nil
}

// sinkEncoderOptions are the low-latency options of the sink's encoder
// name, with opts' preset, tune, CRF and extra options ("-" drops a
// preset or tune).
func sinkEncoderOptions(name string, opts SinkOptions) map[string]string {
	eo := map[string]string{}
	preset, tune := opts.Preset, opts.Tune
	switch {
	case strings.Contains(name, "nvenc"):
		preset, tune = cmp.Or(preset, "p1"), cmp.Or(tune, "ll")
		eo["forced-idr"] = "1"
		eo["zerolatency"] = "1"
	case name == "libx264":
		preset, tune = cmp.Or(preset, "superfast"), cmp.Or(tune, "zerolatency")
		eo["forced-idr"] = "1"
		if opts.CRF > 0 && opts.Bitrate == 0 {
			eo["crf"] = strconv.Itoa(opts.CRF)
		}
	}
	if preset != "" && preset != "-" {
		eo["preset"] = preset
	}
	if tune != "" && tune != "-" {
		eo["tune"] = tune
	}
	maps.Copy(eo, opts.EncoderOptions)
	return eo
}

// addAudio adds the audio stream of src's kept audio: copied when the
// container holds its codec (and opts allow), else re-encoded to AAC.
func (s *Sink) addAudio(url string, src *Source, opts SinkOptions) (err error) {
	if src.audio == nil {
		return fmt.Errorf("av: sink %s: AudioFrom source has no audio kept (no audio stream, or opened without SourceOptions.Audio)", url)
	}
	q, ofmt := src.audio, s.fc.OutputFormat()
	reencode, err := audioReencode(url, opts, audioFits(s.fc, q.par.CodecID()), ofmt.Name(), q.par.CodecID())
	if err != nil {
		return err
	}
	if s.ast = s.fc.NewStream(nil); s.ast == nil {
		return errors.New("av: cannot add audio stream")
	}
	if reencode {
		if !audioFits(s.fc, astiav.CodecIDAac) {
			return fmt.Errorf("av: sink %s: %s can hold neither %s nor AAC audio", url, ofmt.Name(), q.par.CodecID())
		}
		if s.aac, err = newAACEncoder(q, ofmt.Flags().Has(astiav.IOFormatFlagGlobalheader), opts.AudioBitrate, opts.AudioProcessor); err != nil {
			return fmt.Errorf("av: sink %s: re-encoding %s audio to AAC: %w", url, q.par.CodecID(), err)
		}
		if err := s.aac.enc.ToCodecParameters(s.ast.CodecParameters()); err != nil {
			return fmt.Errorf("av: sink %s: audio parameters: %w", url, err)
		}
		s.ast.SetTimeBase(s.aac.tb)
	} else {
		if err := q.par.Copy(s.ast.CodecParameters()); err != nil {
			return fmt.Errorf("av: sink %s: audio parameters: %w", url, err)
		}
		s.ast.CodecParameters().SetCodecTag(0)
		s.ast.SetTimeBase(q.tb)
	}
	s.audio = q
	q.mu.Lock()
	q.taken = true
	q.mu.Unlock()
	return nil
}

// audioReencode decides from opts.AudioCodec whether the sink re-encodes
// audio of codec, which the container fits or not.
func audioReencode(url string, opts SinkOptions, fits bool, container string, codec astiav.CodecID) (bool, error) {
	switch opts.AudioCodec {
	case "", "auto":
		return !fits || opts.AudioProcessor != nil, nil
	case "copy":
		if opts.AudioProcessor != nil {
			return false, fmt.Errorf("av: sink %s: AudioCodec \"copy\" with an AudioProcessor (processed audio is re-encoded)", url)
		}
		if !fits {
			return false, fmt.Errorf("av: sink %s: %s cannot hold %s audio (AudioCodec \"copy\"; use \"auto\" or \"aac\" to re-encode)", url, container, codec)
		}
		return false, nil
	case "aac":
		return true, nil
	}
	return false, fmt.Errorf("av: sink %s: unknown AudioCodec %q (copy, aac or auto)", url, opts.AudioCodec)
}

// writeHeader opens the output's I/O (unless the format has none) and
// writes the container header, with the muxer options.
func (s *Sink) writeHeader(url, out string, options map[string]string) error {
	if !s.fc.OutputFormat().Flags().Has(astiav.IOFormatFlagNofile) {
		d, err := newCDict(options)
		if err != nil {
			return fmt.Errorf("av: sink %s: %w", url, err)
		}
		err = avioOpen(s.fc, out, d)
		d.free()
		if err != nil {
			return fmt.Errorf("av: sink %s: open: %w", url, err)
		}
		s.ioOpen = true
	}
	md := astiav.NewDictionary()
	defer md.Free()
	for k, v := range options {
		_ = md.Set(k, v, 0)
	}
	if err := s.fc.WriteHeader(md); err != nil {
		return fmt.Errorf("av: sink %s: write header: %w", url, err)
	}
	s.header = true
	return nil
}

// ForceKeyFrame makes the next written frame an IDR frame.
func (s *Sink) ForceKeyFrame() {
	s.mu.Lock()
	s.key = true
	s.mu.Unlock()
}

// WriteFrame encodes f. Its PTS (in f.TimeBase) is rescaled to the
// encoder's time base and must be strictly after the previous frame's
// (ErrNonMonotonic otherwise; the frame is not written). f may have any
// size; it is scaled to the sink's size.
func (s *Sink) WriteFrame(f *media.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if f.Width <= 0 || f.Height <= 0 || len(f.RGB) < f.Width*f.Height*3 {
		return fmt.Errorf("av: frame %d: %dx%d with %d bytes of RGB", f.Index, f.Width, f.Height, len(f.RGB))
	}
	if f.PTS == media.NoPTS {
		return fmt.Errorf("av: frame %d: no pts", f.Index)
	}
	if f.TimeBase.Num <= 0 || f.TimeBase.Den <= 0 {
		return fmt.Errorf("av: frame %d: invalid time base %v", f.Index, f.TimeBase)
	}
	pts := f.PTS
	if f.TimeBase.Num != s.encTB.Num() || f.TimeBase.Den != s.encTB.Den() {
		pts = astiav.RescaleQ(f.PTS, astiav.NewRational(f.TimeBase.Num, f.TimeBase.Den), s.encTB)
	}
	if s.started && pts <= s.last {
		return fmt.Errorf("av: frame %d: pts %d after %d (encoder time base %s): %w", f.Index, pts, s.last, s.encTB, ErrNonMonotonic)
	}
	if err := s.sc.fromRGB(f.RGB, f.Width, f.Height, s.yuv); err != nil {
		return fmt.Errorf("av: frame %d: %w", f.Index, err)
	}
	s.started, s.last = true, pts
	s.yuv.SetPts(pts)
	if s.key {
		s.yuv.SetPictureType(astiav.PictureTypeI)
		s.key = false
	} else {
		s.yuv.SetPictureType(astiav.PictureTypeNone)
	}
	if err := s.cc.SendFrame(s.yuv); err != nil {
		return fmt.Errorf("av: frame %d: encode: %w", f.Index, err)
	}
	s.frames++
	return s.drainPackets()
}

func (s *Sink) drainPackets() error {
	if s.audio != nil {
		s.aErr = nil
		s.audio.drain(s.aWriter)
		if s.aErr != nil {
			return s.aErr
		}
	}
	for {
		err := s.cc.ReceivePacket(s.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("av: encode: %w", err)
		}
		s.pkt.SetStreamIndex(s.st.Index())
		s.pkt.RescaleTs(s.encTB, s.st.TimeBase())
		err = s.fc.WriteInterleavedFrame(s.pkt)
		s.pkt.Unref()
		if err != nil {
			return fmt.Errorf("av: write: %w", err)
		}
		s.packets++
	}
}

func (s *Sink) writeAudio(p *astiav.Packet) {
	p.SetStreamIndex(s.ast.Index())
	p.RescaleTs(s.audio.tb, s.ast.TimeBase())
	if s.rebaseAudio {
		s.aMono.apply(p, s.ast.TimeBase())
	}
	p.SetPos(-1)
	if err := s.fc.WriteInterleavedFrame(p); err != nil && s.aErr == nil {
		s.aErr = fmt.Errorf("av: write audio: %w", err)
	}
}

// transcodeAudio decodes p and writes the AAC packets that come out.
func (s *Sink) transcodeAudio(p *astiav.Packet) {
	if s.aErr != nil {
		return
	}
	s.aErr = s.aac.decode(p, s.aEmit)
}

func (s *Sink) writeAAC(p *astiav.Packet) error {
	p.SetStreamIndex(s.ast.Index())
	p.RescaleTs(s.aac.tb, s.ast.TimeBase())
	if s.rebaseAudio {
		s.aMono.apply(p, s.ast.TimeBase())
	}
	if err := s.fc.WriteInterleavedFrame(p); err != nil {
		return fmt.Errorf("av: write audio: %w", err)
	}
	return nil
}

// Close flushes the encoder, finalises the container and releases
// everything; it returns the first error met doing so.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var first error
	if s.header {
		if err := s.cc.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
			first = fmt.Errorf("av: flush: %w", err)
		}
		if err := s.drainPackets(); err != nil && first == nil {
			first = err
		}
		if s.aac != nil {
			if err := s.aac.flush(s.aEmit); err != nil && first == nil {
				first = fmt.Errorf("av: %s: %w", s.aac, err)
			}
		}
		if err := s.fc.WriteTrailer(); err != nil && first == nil {
			first = fmt.Errorf("av: write trailer: %w", err)
		}
	}
	s.free()
	return first
}

func (s *Sink) free() {
	s.sc.free()
	release(&s.yuv)
	release(&s.pkt)
	release(&s.cc)
	if s.fc != nil {
		if s.ioOpen {
			avioClose(s.fc)
		}
		s.fc.Free()
		s.fc = nil
	}
	if s.aac != nil {
		s.aac.free()
		s.aac = nil
	}
	if s.audio != nil {
		s.audio.mu.Lock()
		s.audio.taken = false
		s.audio.mu.Unlock()
	}
}

var _ media.Sink = (*Sink)(nil)
var _ media.Source = (*Source)(nil)

// tsRebase keeps a stream's packet timestamps increasing across input
// discontinuities (a live publisher that restarts its timestamps, a
// concatenation), with the rule media.NewMonotonic applies to the video
// frames: a packet whose dts goes backwards, or jumps more than 5 s ahead,
// moves the offset so that it follows the previous packet by its
// duration. At a timestamp reset both streams continue right after their
// last timestamps, which were within about a frame of each other in an
// interleaved input, so they stay in step to that precision; a forward
// jump of about 5 s can be rebased in one stream and not the other.
type tsRebase struct {
	have      bool
	last, off int64 // in the output stream's time base
}

func (r *tsRebase) apply(p *astiav.Packet, tb astiav.Rational) {
	dts := p.Dts()
	if dts == astiav.NoPtsValue {
		dts = p.Pts()
	}
	if dts == astiav.NoPtsValue {
		return // the muxer fills it in
	}
	d := dts + r.off
	if r.have {
		maxJump := int64(5)
		if tb.Num() > 0 {
			maxJump = 5 * int64(tb.Den()) / int64(tb.Num())
		}
		if d <= r.last || d > r.last+maxJump {
			r.off = r.last + max(p.Duration(), 1) - dts
			d = dts + r.off
		}
	}
	r.have, r.last = true, d
	if r.off != 0 {
		p.SetDts(d)
		if pts := p.Pts(); pts != astiav.NoPtsValue {
			p.SetPts(pts + r.off)
		}
	}
}
