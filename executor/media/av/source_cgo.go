//go:build cgo

package av

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asticode/go-astiav"

	"comfyrt/executor/media"
)

// Source decodes a video stream into RGB24 frames. ReadFrame and Close may
// be called from different goroutines; ReadFrame itself is not for
// concurrent use.
type Source struct {
	mu     sync.Mutex // held by ReadFrame and Close
	closed atomic.Bool

	fc     *astiav.FormatContext
	cc     *astiav.CodecContext
	pkt    *astiav.Packet
	frm    *astiav.Frame
	intr   *interrupter
	intrMu sync.Mutex // guards freeing intr against late callbacks
	// timer fires the interrupter when a read takes longer than
	// ReadTimeout; timedOut says it did.
	timer    *time.Timer
	timedOut atomic.Bool
	ctxStop  atomic.Bool

	sc       scaler
	vidx     int
	tb       media.Rational
	info     media.StreamInfo
	timeout  time.Duration
	maxErrs  int
	draining bool
	opened   bool   // OpenInput succeeded: CloseInput on free
	restore  func() // undoes interruptiblePipe
	endErr   error  // the read error that ended input (nil: clean EOF)
	done     error  // the terminal error, once reached
	consec   int

	frames, errs atomic.Int64
	lastPTS      int64 // the last delivered frame's pts
	havePTS      bool

	audio *audioQueue
	// audioDst, when set, receives the audio packets instead of audio
	// (a Chain's later programs feed the first one's queue).
	audioDst *audioQueue
}

// OpenSource opens url ("-" is stdin; files, pipe:N, udp://, srt://,
// rtmp://, … as FFmpeg supports) and prepares decoding of its best video
// stream into frames of the size the options ask for.
func OpenSource(url string, opts SourceOptions) (_ *Source, err error) {
	// Capture devices and FFmpeg's own sources (v4l2, lavfi, …) are
	// input formats once libavdevice has registered them.
	devicesOnce.Do(astiav.RegisterAllDevices)
	s := &Source{vidx: -1, timeout: opts.ReadTimeout, maxErrs: opts.MaxErrors}
	if s.maxErrs <= 0 {
		s.maxErrs = 50
	}
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	in := url
	if url == "-" {
		in = "pipe:0"
	}
	if err = s.openInput(url, in, opts); err != nil {
		return nil, err
	}
	vs, as := bestStreams(s.fc)
	if vs == nil {
		return nil, fmt.Errorf("av: open %s: no video stream", url)
	}
	if err = s.openDecoder(url, vs, opts.Threads); err != nil {
		return nil, err
	}
	s.describe(in, vs, as != nil, opts)
	if opts.Audio && as != nil {
		s.audio = newAudioQueue(as)
	}
	return s, nil
}

// openInput opens in (url as given) with the options and reads its
// stream info, interruptible by the read timeout.
func (s *Source) openInput(url, in string, opts SourceOptions) (err error) {
	s.restore = interruptiblePipe(in)
	if s.fc = astiav.AllocFormatContext(); s.fc == nil {
		return errors.New("av: cannot allocate format context")
	}
	if s.intr, err = newInterrupter(s.fc); err != nil {
		return err
	}
	s.timer = time.AfterFunc(time.Hour, s.fire)
	s.timer.Stop()
	var ifmt *astiav.InputFormat
	if opts.Format != "" {
		if ifmt = astiav.FindInputFormat(opts.Format); ifmt == nil {
			return fmt.Errorf("av: unknown input format %q", opts.Format)
		}
	}
	d := astiav.NewDictionary()
	defer d.Free()
	for k, v := range opts.Options {
		if err := d.Set(k, v, 0); err != nil {
			return fmt.Errorf("av: option %s: %w", k, err)
		}
	}
	if opts.ReadTimeout > 0 && d.Get("rw_timeout", nil, 0) == nil && isNetwork(in) {
		_ = d.Set("rw_timeout", fmt.Sprint(opts.ReadTimeout.Microseconds()), 0)
	}
	s.arm()
	err = s.fc.OpenInput(in, ifmt, d)
	if err == nil {
		s.opened = true
		err = s.fc.FindStreamInfo(nil)
	}
	s.disarm()
	if err != nil {
		if s.timedOut.Load() {
			err = fmt.Errorf("no input within %v: %w", opts.ReadTimeout, err)
		}
		return fmt.Errorf("av: open %s: %w", url, err)
	}
	return nil
}

// bestStreams returns the largest video stream and the first audio one.
func bestStreams(fc *astiav.FormatContext) (vs, as *astiav.Stream) {
	area := func(st *astiav.Stream) int { return st.CodecParameters().Width() * st.CodecParameters().Height() }
	for _, st := range fc.Streams() {
		switch st.CodecParameters().MediaType() {
		case astiav.MediaTypeVideo:
			if vs == nil || area(st) > area(vs) {
				vs = st
			}
		case astiav.MediaTypeAudio:
			if as == nil {
				as = st
			}
		}
	}
	return vs, as
}

// openDecoder opens the decoder of the video stream vs.
func (s *Source) openDecoder(url string, vs *astiav.Stream, threads int) error {
	s.vidx = vs.Index()
	cp := vs.CodecParameters()
	if cp.Width() <= 0 || cp.Height() <= 0 {
		return fmt.Errorf("av: open %s: video stream has no picture size (an mp4 with its index at the end read from a pipe? use a faststart mp4 or mpegts)", url)
	}
	cc, dec, err := paramDecoder(cp)
	if err != nil {
		return fmt.Errorf("av: open %s: %w", url, err)
	}
	s.cc = cc
	s.sc.threads = max(threads, 0)
	if threads > 0 {
		s.cc.SetThreadCount(threads)
	}
	if err := s.cc.Open(dec, nil); err != nil {
		return fmt.Errorf("av: open %s: decoder: %w", url, err)
	}
	s.pkt = astiav.AllocPacket()
	s.frm = astiav.AllocFrame()
	return nil
}

// describe fills the source's StreamInfo from the video stream vs.
func (s *Source) describe(in string, vs *astiav.Stream, hasAudio bool, opts SourceOptions) {
	cp := vs.CodecParameters()
	tb := vs.TimeBase()
	s.tb = media.Rational{Num: tb.Num(), Den: tb.Den()}
	w, h := outputSize(cp.Width(), cp.Height(), opts.Width, opts.Height)
	fr := vs.AvgFrameRate()
	if fr.Num() <= 0 || fr.Den() <= 0 {
		fr = vs.RFrameRate()
	}
	s.info = media.StreamInfo{Width: w, Height: h, TimeBase: s.tb,
		FrameRate: media.Rational{Num: max(fr.Num(), 0), Den: max(fr.Den(), 0)},
		Frames:    max(vs.NbFrames(), 0), HasAudio: hasAudio, Live: isLive(in)}
	if d := vs.Duration(); d > 0 && tb.Den() > 0 {
		s.info.Duration = time.Duration(float64(d) * tb.Float64() * float64(time.Second))
	} else if d := s.fc.Duration(); d > 0 {
		s.info.Duration = time.Duration(d) * time.Microsecond
	}
}

var devicesOnce sync.Once

func isNetwork(url string) bool {
	i := strings.Index(url, "://")
	return i > 0 && url[:i] != "file"
}

func isLive(url string) bool {
	return isNetwork(url) || strings.HasPrefix(url, "pipe:")
}

func (s *Source) fire() {
	s.timedOut.Store(true)
	s.interrupt()
}

func (s *Source) ctxInterrupt() {
	s.ctxStop.Store(true)
	s.interrupt()
}

// interrupt sets the flag unless the source is already freed (timer and
// context callbacks may run late).
func (s *Source) interrupt() {
	s.intrMu.Lock()
	defer s.intrMu.Unlock()
	if s.intr != nil && s.intr.p != nil {
		s.intr.Interrupt()
	}
}

func (s *Source) arm() {
	if s.timeout > 0 {
		s.timer.Reset(s.timeout)
	}
}

func (s *Source) disarm() {
	if s.timeout > 0 {
		s.timer.Stop()
	}
}

// Info describes the delivered stream (Width/Height are the output size).
func (s *Source) Info() media.StreamInfo { return s.info }

// Stats returns the counters so far; safe from any goroutine.
func (s *Source) Stats() Stats {
	st := Stats{Frames: s.frames.Load(), Errors: s.errs.Load()}
	if s.audio != nil {
		st.AudioPackets, st.AudioDropped = s.audio.counts()
	}
	return st
}

// ReadFrame decodes the next frame into f (reusing f.RGB). It returns
// io.EOF at a clean end, a *media.FatalError when the input broke off or a
// read timed out, ctx's error when ctx ends, and a *DecodeError (non-fatal)
// for a corrupt packet or an unconvertible frame.
func (s *Source) ReadFrame(ctx context.Context, f *media.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return &media.FatalError{Err: ErrClosed}
	}
	if s.done != nil {
		return s.done
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, s.ctxInterrupt)
		defer stop()
	}
	for {
		err := s.cc.ReceiveFrame(s.frm)
		if err == nil {
			return s.deliver(f)
		}
		if errors.Is(err, astiav.ErrEof) {
			return s.finish(io.EOF)
		}
		if !errors.Is(err, astiav.ErrEagain) {
			if e := s.countErr(err); e != nil {
				return e
			}
			continue
		}
		if s.draining {
			// EAGAIN while draining should not happen; end rather than spin.
			return s.finish(io.EOF)
		}
		s.arm()
		err = s.fc.ReadFrame(s.pkt)
		s.disarm()
		if err != nil {
			switch {
			case s.closed.Load():
				return &media.FatalError{Err: ErrClosed}
			case s.ctxStop.Swap(false):
				s.intr.Resume()
				return ctx.Err()
			case s.timedOut.Load():
				s.endErr = fmt.Errorf("no input for %v: %w", s.timeout, err)
			case errors.Is(err, astiav.ErrEof):
			case errors.Is(err, astiav.ErrEagain):
				continue
			default:
				s.errs.Add(1)
				s.endErr = fmt.Errorf("reading input: %w", err)
			}
			s.draining = true
			if err := s.cc.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
				return s.finish(io.EOF)
			}
			continue
		}
		if s.pkt.StreamIndex() != s.vidx {
			if s.audio != nil && s.pkt.StreamIndex() == s.audio.index {
				if s.audioDst != nil {
					s.audioDst.push(s.pkt)
				} else {
					s.audio.push(s.pkt)
				}
			}
			s.pkt.Unref()
			continue
		}
		err = s.cc.SendPacket(s.pkt)
		s.pkt.Unref()
		if err != nil && !errors.Is(err, astiav.ErrEagain) {
			if e := s.countErr(err); e != nil {
				return e
			}
		}
	}
}

// countErr counts a decode error and returns what ReadFrame reports.
func (s *Source) countErr(err error) error {
	s.errs.Add(1)
	s.consec++
	if s.consec >= s.maxErrs {
		return s.finish(&media.FatalError{Err: fmt.Errorf("av: %d consecutive decode errors, last: %w", s.consec, err)})
	}
	return &DecodeError{Index: s.frames.Load(), Err: err}
}

func (s *Source) finish(err error) error {
	if errors.Is(err, io.EOF) && s.endErr == nil && s.info.Frames > 0 && !s.info.Live {
		// A file whose container announced more frames than it gave is
		// truncated (FFmpeg itself reports a clean end).
		if n := s.frames.Load(); n < s.info.Frames*95/100 {
			s.errs.Add(1)
			s.endErr = fmt.Errorf("input ended after %d of %d frames (truncated?)", n, s.info.Frames)
		}
	}
	if errors.Is(err, io.EOF) && s.endErr != nil {
		err = &media.FatalError{Err: fmt.Errorf("av: %w", s.endErr)}
	}
	s.done = err
	return err
}

func (s *Source) deliver(f *media.Frame) error {
	captured := time.Now()
	idx := s.frames.Add(1) - 1
	defer s.frm.Unref()
	pts := s.frm.Pts()
	if pts == astiav.NoPtsValue {
		pts = s.frm.PktDts()
	}
	if pts == astiav.NoPtsValue {
		// No timestamp (damaged or missing PES timestamps): one frame
		// after the previous frame's, else none.
		pts = media.NoPTS
		if s.havePTS {
			pts = s.lastPTS + s.frameTicks()
		}
	}
	if pts != media.NoPTS {
		s.lastPTS, s.havePTS = pts, true
	}
	w, h := s.info.Width, s.info.Height
	sw, sh := s.frm.Width(), s.frm.Height()
	cx, cy, cw, ch := coverCrop(sw, sh, w, h)
	f.Resize(w, h)
	if err := s.sc.toRGB(s.frm, cx, cy, cw, ch, f.RGB, w, h); err != nil {
		s.errs.Add(1)
		s.consec++
		if s.consec >= s.maxErrs {
			return s.finish(&media.FatalError{Err: fmt.Errorf("av: %d consecutive unconvertible frames: %w", s.consec, err)})
		}
		return &DecodeError{Index: idx, Err: fmt.Errorf("%dx%d %s: %w", sw, sh, s.frm.PixelFormat(), err)}
	}
	s.consec = 0
	f.PTS, f.TimeBase, f.Index, f.Captured = pts, s.tb, idx, captured
	return nil
}

// frameTicks is one frame interval in the stream's time base (30 fps
// when the rate is unknown).
func (s *Source) frameTicks() int64 {
	fps := s.info.FrameRate.Float()
	if fps <= 0 || fps > 240 {
		fps = 30
	}
	if s.tb.Num <= 0 || s.tb.Den <= 0 {
		return 1
	}
	return max(1, int64(float64(s.tb.Den)/(float64(s.tb.Num)*fps)+0.5))
}

// Close releases the source, unblocking a pending ReadFrame.
func (s *Source) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.interrupt()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free()
	return nil
}

func (s *Source) free() {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.sc.free()
	release(&s.frm)
	release(&s.pkt)
	release(&s.cc)
	if s.fc != nil {
		if s.opened {
			s.fc.CloseInput()
		}
		s.fc.Free()
		s.fc = nil
	}
	s.intrMu.Lock()
	if s.intr != nil {
		s.intr.free()
	}
	s.intrMu.Unlock()
	if s.audio != nil {
		s.audio.close()
	}
	if s.restore != nil {
		s.restore()
		s.restore = nil
	}
}
