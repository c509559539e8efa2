//go:build cgo

package av

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"comfyrt/executor/media"
)

// Chain decodes a byte stream that may change program midway, as a live
// input does when its publisher restarts with another muxer or encoder:
// other TS PIDs, another PMT, another codec. It reads the bytes itself,
// follows the MPEG-TS PAT and PMT (tsProgramWatch, on executor/media/mpegts)
// and gives each program its own demuxer and decoder: the current one
// reaches its end where the next program starts, and the next is opened on
// the bytes from there.
// Inputs that are not MPEG-TS are decoded as one program.
//
// Every program's frames have the first program's output size (later
// programs are scaled to it). Timestamps are the programs' own: wrap the
// chain in media.NewMonotonic to keep them increasing. The first
// program's audio queue serves a sink (AudioSource) for the whole chain:
// later programs whose audio has the same codec, rate and channels feed
// it.
//
// ReadFrame and Close may be called from different goroutines.
type Chain struct {
	opts SourceOptions
	r    io.Reader

	mu       sync.Mutex // held by ReadFrame
	cur      *Source
	curA     atomic.Pointer[Source] // cur, for Close
	curR     *os.File               // the current program's pipe (read end)
	info     media.StreamInfo
	first    *Source
	audio    *audioQueue // the first program's, fed by later ones
	base     int64       // frames of the programs before cur
	errs     int64       // errors of the programs before cur
	baseA    atomic.Int64
	errsA    atomic.Int64
	programs atomic.Int64
	pumped   atomic.Int64 // bytes passed to the programs' pipes
	closed   atomic.Bool

	next     chan *os.File // read ends of the following programs' pipes
	pumpDone chan struct{}
	endMu    sync.Mutex
	pumpErr  error // why the input ended (nil: its end), once ended
	ended    bool  // the pump read the input to its end or failed
	stop     chan struct{}
	stopOnce sync.Once
	wmu      sync.Mutex
	w        *os.File // the write end the pump fills (nil: none)
}

// OpenChain reads r (a pipe, stdin, a live feed) and opens its first
// program with opts (see Chain). It returns once the first program is
// open; r is read until its end or Close.
func OpenChain(r io.Reader, opts SourceOptions) (_ *Chain, err error) {
	c := &Chain{opts: opts, r: r, next: make(chan *os.File, 1), pumpDone: make(chan struct{}), stop: make(chan struct{})}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.w = pw
	go c.pump()
	src, err := c.open(pr)
	if err != nil {
		ended, perr := c.inputEnd()
		c.Close()
		switch {
		case perr != nil:
			return nil, fmt.Errorf("av: reading input: %w", perr)
		case ended && c.pumped.Load() == 0:
			return nil, errors.New("av: the input ended before any data")
		}
		return nil, err
	}
	c.cur, c.curR, c.first = src, pr, src
	c.curA.Store(src)
	c.info = src.Info()
	c.info.Live = true
	c.audio = src.audio
	c.programs.Store(1)
	return c, nil
}

// open opens a program's source on its pipe.
func (c *Chain) open(r *os.File) (*Source, error) {
	opts := c.opts
	if c.first != nil {
		opts.Width, opts.Height = c.info.Width, c.info.Height
	}
	url := fmt.Sprintf("pipe:%d", r.Fd())
	src, err := OpenSource(url, opts)
	if err != nil {
		r.Close()
		// The pipe is internal: name the input's program instead.
		return nil, &chainError{msg: strings.Replace(err.Error(), "open "+url, fmt.Sprintf("program %d of the input", c.programs.Load()+1), 1), err: err}
	}
	if c.first != nil && src.audio != nil {
		if c.audio != nil && sameAudio(c.audio, src.audio) {
			src.audioDst = c.audio
		}
	}
	return src, nil
}

func sameAudio(a, b *audioQueue) bool {
	return a.par.CodecID() == b.par.CodecID() && a.par.SampleRate() == b.par.SampleRate() &&
		a.par.ChannelLayout().NbChannels() == b.par.ChannelLayout().NbChannels()
}

// pump copies r into the programs' pipes, starting a new pipe at every
// program change.
func (c *Chain) pump() {
	defer close(c.pumpDone)
	defer close(c.next)
	dead := false // the current program's reader is gone: drop its bytes
	watch := newTSProgramWatch(func(b []byte, cut bool) error {
		if cut {
			pr, pw, err := os.Pipe()
			if err != nil {
				return err
			}
			c.wmu.Lock()
			old := c.w
			c.w = pw
			c.wmu.Unlock()
			if old != nil {
				old.Close() // the current program ends here
			}
			select {
			case c.next <- pr:
			case <-c.stop:
				pr.Close()
				return errChainClosed
			}
			dead = false
		}
		if dead {
			return nil
		}
		c.wmu.Lock()
		w := c.w
		c.wmu.Unlock()
		if w == nil {
			return errChainClosed
		}
		c.pumped.Add(int64(len(b)))
		if _, err := w.Write(b); err != nil {
			if c.closed.Load() {
				return errChainClosed
			}
			dead = true // its decoder gave up: skip to the next program
		}
		return nil
	})
	if c.opts.Format != "" && c.opts.Format != "mpegts" {
		watch.started, watch.isTS = true, false
	}
	_, err := io.Copy(watch, c.r)
	if err == nil {
		err = watch.Flush()
	}
	if errors.Is(err, errChainClosed) {
		err = nil
	}
	c.endMu.Lock()
	c.pumpErr, c.ended = err, true
	c.endMu.Unlock()
	c.wmu.Lock()
	if c.w != nil {
		c.w.Close()
		c.w = nil
	}
	c.wmu.Unlock()
}

var errChainClosed = errors.New("av: chain closed")

// chainError is an OpenSource error renamed for the chain's input.
type chainError struct {
	msg string
	err error
}

func (e *chainError) Error() string { return e.msg }
func (e *chainError) Unwrap() error { return e.err }

// Info describes the delivered stream (the first program's, at its output
// size).
func (c *Chain) Info() media.StreamInfo { return c.info }

// AudioSource is the source to give a sink as SinkOptions.AudioFrom: the
// first program's, whose audio queue the later programs feed.
func (c *Chain) AudioSource() *Source { return c.first }

// programCount reports how many programs were opened so far.
func (c *Chain) programCount() int { return int(c.programs.Load()) }

// ReadFrame reads the next frame, moving on to the next program when the
// current one ends. Errors are those of Source.ReadFrame; a program that
// cannot be opened is skipped (a DecodeError).
func (c *Chain) ReadFrame(ctx context.Context, f *media.Frame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.closed.Load() {
			return &media.FatalError{Err: ErrClosed}
		}
		if c.cur != nil {
			err := c.cur.ReadFrame(ctx, f)
			if err == nil {
				f.Index += c.base
				return nil
			}
			var de *DecodeError
			if errors.As(err, &de) {
				return &DecodeError{Index: de.Index + c.base, Err: de.Err}
			}
			if !errors.Is(err, io.EOF) && !media.IsFatal(err) {
				return err // ctx's
			}
			if media.IsFatal(err) && !c.hasNext() {
				return err
			}
			// This program ended (or broke off): go on with the next.
			c.base += c.cur.frames.Load()
			c.errs += c.cur.errs.Load()
			c.baseA.Store(c.base)
			c.errsA.Store(c.errs)
			c.retire()
		}
		var r *os.File
		var ok bool
		select {
		case r, ok = <-c.next:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.stop:
			return &media.FatalError{Err: ErrClosed}
		}
		if !ok {
			<-c.pumpDone
			if _, perr := c.inputEnd(); perr != nil {
				return &media.FatalError{Err: fmt.Errorf("av: reading input: %w", perr)}
			}
			return io.EOF
		}
		src, err := c.open(r)
		if err != nil {
			if c.closed.Load() {
				return &media.FatalError{Err: ErrClosed}
			}
			return &DecodeError{Index: c.base, Err: fmt.Errorf("new program in the input: %w", err)}
		}
		c.cur, c.curR = src, r
		c.curA.Store(src)
		c.programs.Add(1)
	}
}

// inputEnd reports whether the pump is done with the input, and its read
// error.
func (c *Chain) inputEnd() (bool, error) {
	c.endMu.Lock()
	defer c.endMu.Unlock()
	return c.ended, c.pumpErr
}

// hasNext reports whether another program has begun.
func (c *Chain) hasNext() bool { return len(c.next) > 0 }

// retire closes the current program (its audio queue stays when it feeds
// the sink).
func (c *Chain) retire() {
	if c.cur == c.first {
		c.cur.audio = nil // owned by the chain from here
	}
	c.curA.Store(nil)
	c.cur.Close()
	c.curR.Close()
	c.cur, c.curR = nil, nil
}

// Stats adds up the programs' counters; safe from any goroutine.
func (c *Chain) Stats() Stats {
	st := Stats{Frames: c.baseA.Load(), Errors: c.errsA.Load()}
	if cur := c.curA.Load(); cur != nil {
		s := cur.Stats()
		st.Frames += s.Frames
		st.Errors += s.Errors
	}
	if c.audio != nil {
		st.AudioPackets, st.AudioDropped = c.audio.counts()
	}
	return st
}

// Close stops reading and releases every program.
func (c *Chain) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.stopOnce.Do(func() { close(c.stop) })
	if cl, ok := c.r.(io.Closer); ok && c.r != os.Stdin {
		cl.Close()
	}
	c.wmu.Lock()
	if c.w != nil {
		c.w.Close()
		c.w = nil
	}
	c.wmu.Unlock()
	if cur := c.curA.Load(); cur != nil {
		cur.interrupt()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		if c.cur == c.first {
			c.cur.audio = nil
		}
		c.cur.Close()
		c.curR.Close()
		c.cur = nil
	}
	for r := range c.drainNext() {
		r.Close()
	}
	if c.audio != nil {
		c.audio.close()
	}
	return nil
}

// drainNext yields the pipes queued for programs that never opened.
func (c *Chain) drainNext() func(func(*os.File) bool) {
	return func(yield func(*os.File) bool) {
		for {
			select {
			case r, ok := <-c.next:
				if !ok || !yield(r) {
					return
				}
			default:
				return
			}
		}
	}
}

var _ media.Source = (*Chain)(nil)
