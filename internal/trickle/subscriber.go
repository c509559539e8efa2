package trickle

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Segment is one subscribed segment. Its body streams as the publisher
// writes it; a body that ends early (the segment left the server's window)
// is a truncated segment, not an error. An empty body is an empty or
// dropped segment. Close it when done.
type Segment struct {
	Seq int
	// Latest is the server's nextWrite when the reader is behind, else -1.
	Latest      int
	ContentType string
	io.ReadCloser
}

// Subscriber reads a channel's segments in order, starting at a sequence
// number or SeqNext (-1, the next segment) or SeqCurrent (-2, the segment
// being written now, from byte 0). After each segment it preconnects the
// GET for the following one. Next is called by one goroutine; Close may be
// called from any.
type Subscriber struct {
	c   *Client
	url string

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// mu orders the goroutines Next starts (wg.Add) with Close's wg.Wait:
	// Close may run while Next is in flight on another goroutine.
	mu     sync.Mutex
	closed bool

	seq int
	pre *pendingGet

	jumps atomic.Int64
}

type pendingGet struct {
	seq    int
	done   chan struct{}
	resp   *http.Response
	err    error
	cancel context.CancelFunc
}

// NewSubscriber subscribes to the channel at url (no trailing slash)
// starting at seq.
func NewSubscriber(c *Client, url string, start int) *Subscriber {
	ctx, cancel := context.WithCancel(context.Background())
	return &Subscriber{c: c, url: strings.TrimSuffix(url, "/"), ctx: ctx, cancel: cancel, seq: start}
}

// Jumps counts the 470 answers that moved the subscriber to the live edge.
func (s *Subscriber) Jumps() int64 { return s.jumps.Load() }

// Close cancels the pending requests and waits for the preconnect.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// goWait runs f on a goroutine Close waits for; after Close it runs f at
// once (its context is already cancelled).
func (s *Subscriber) goWait(f func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		f()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// cancelBody cancels its request's context when closed.
type cancelBody struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// get issues GET {url}/{seq}, re-issuing it when no headers arrived within
// the refresh interval. The request ends with ctx or Close.
func (s *Subscriber) get(ctx context.Context, seq int) (*http.Response, error) {
	for {
		rctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(s.ctx, cancel)
		var refreshed atomic.Bool
		t := time.AfterFunc(s.c.refresh, func() { refreshed.Store(true); cancel() })
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, s.url+"/"+strconv.Itoa(seq), nil)
		if err != nil {
			t.Stop()
			stop()
			cancel()
			return nil, err
		}
		resp, err := s.c.http.Do(req)
		fired := !t.Stop()
		if err != nil || fired {
			if resp != nil {
				resp.Body.Close()
			}
			stop()
			cancel()
			if refreshed.Load() && ctx.Err() == nil && s.ctx.Err() == nil {
				continue // a blocked GET is normal: ask again
			}
			if err == nil {
				err = context.Canceled
			}
			return nil, err
		}
		resp.Body = &cancelBody{resp.Body, func() { stop(); cancel() }}
		return resp, nil
	}
}

func (s *Subscriber) preconnect(seq int) {
	ctx, cancel := context.WithCancel(s.ctx)
	p := &pendingGet{seq: seq, done: make(chan struct{}), cancel: cancel}
	s.pre = p
	s.goWait(func() {
		defer close(p.done)
		p.resp, p.err = s.get(ctx, seq)
		if p.resp != nil && ctx.Err() != nil {
			p.resp.Body.Close() // dropped while it connected
			p.resp, p.err = nil, ctx.Err()
		}
	})
}

func (s *Subscriber) dropPre() {
	if p := s.pre; p != nil {
		s.pre = nil
		p.cancel()
		s.goWait(func() {
			<-p.done
			if p.resp != nil {
				p.resp.Body.Close()
			}
		})
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func headerInt(h http.Header, key string) (int, bool) {
	v, err := strconv.Atoi(h.Get(key))
	return v, err == nil
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// Next returns the next segment. It follows 470 answers to the live edge,
// retries transient failures (at most MaxRetries in a row), and returns
// ErrEOS when the channel was closed, ErrStreamNotFound on 404 (no
// retries), ErrClosed after Close.
func (s *Subscriber) Next(ctx context.Context) (*Segment, error) {
	failures := 0
	for {
		if s.ctx.Err() != nil {
			return nil, ErrClosed
		}
		resp, err := s.fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if s.ctx.Err() != nil {
				return nil, ErrClosed
			}
			if failures++; failures > s.c.maxRetries {
				return nil, fmt.Errorf("trickle: subscribe %s/%d: %w", s.url, s.seq, err)
			}
			if err := sleepCtx(ctx, s.c.retryDelay); err != nil {
				return nil, err
			}
			continue
		}
		switch resp.StatusCode {
		case http.StatusNotFound:
			drain(resp)
			return nil, ErrStreamNotFound
		case StatusEntryNotFound:
			drain(resp)
			s.jumps.Add(1)
			latest, ok := headerInt(resp.Header, HeaderLatest)
			if !ok || latest == s.seq {
				// No usable live edge: count it as a failure.
				if failures++; failures > s.c.maxRetries {
					return nil, &SequenceNonexistentError{Seq: s.seq, Latest: latest}
				}
				if err := sleepCtx(ctx, s.c.retryDelay); err != nil {
					return nil, err
				}
				if !ok {
					s.seq = SeqNext
				}
				continue
			}
			s.seq = latest
			continue
		case http.StatusOK:
			return s.segment(resp)
		default:
			drain(resp)
			if failures++; failures > s.c.maxRetries {
				return nil, fmt.Errorf("trickle: subscribe %s/%d: status %s", s.url, s.seq, resp.Status)
			}
			if err := sleepCtx(ctx, s.c.retryDelay); err != nil {
				return nil, err
			}
		}
	}
}

// fetch is the answer for s.seq: the preconnected request's when there is
// one for it (waiting for it, or for ctx), else a new GET.
func (s *Subscriber) fetch(ctx context.Context) (*http.Response, error) {
	p := s.pre
	if p == nil || p.seq != s.seq {
		s.dropPre()
		return s.get(ctx, s.seq)
	}
	select {
	case <-p.done:
		s.pre = nil
		return p.resp, p.err
	case <-ctx.Done():
		// An error the caller sees as ctx's (Next checks ctx first).
		return nil, ctx.Err()
	}
}

// segment is the Segment of a 200 answer (ErrEOS when it says the channel
// closed), moving to the next sequence number and preconnecting to it.
func (s *Subscriber) segment(resp *http.Response) (*Segment, error) {
	if resp.Header.Get(HeaderClosed) != "" {
		drain(resp)
		return nil, ErrEOS
	}
	seq, ok := headerInt(resp.Header, HeaderSeq)
	if !ok {
		seq = s.seq
	}
	latest, ok := headerInt(resp.Header, HeaderLatest)
	if !ok {
		latest = -1
	}
	if seq >= 0 {
		s.seq = seq + 1
		s.preconnect(s.seq)
	}
	return &Segment{Seq: seq, Latest: latest, ContentType: resp.Header.Get("Content-Type"), ReadCloser: resp.Body}, nil
}
