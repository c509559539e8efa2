package trickle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PublisherOptions configure a Publisher.
type PublisherOptions struct {
	// ContentType of the segments (default video/MP2T).
	ContentType string
	// Start is the first sequence number (default 0).
	Start int
	// Reset sends Lp-Trickle-Reset on the first POST, telling the server
	// that this publisher restarted (older servers ignore it).
	Reset bool
	// KeepChannel makes Close skip the DELETE of the channel (pytrickle's
	// behaviour).
	KeepChannel bool
}

// Publisher writes a channel's segments in order. While segment N is being
// written it preconnects the POST for N+1, so the next segment starts with
// no round trip. One goroutine writes at a time; Close may be called from
// any.
type Publisher struct {
	c    *Client
	url  string
	opts PublisherOptions

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	seq    int
	next   *pendingPost
	reset  bool
	closed bool
}

var errResponded = errors.New("trickle: the server answered before the segment was complete")

type pendingPost struct {
	seq    int
	pw     *io.PipeWriter
	done   chan struct{}
	status int
	header http.Header
	err    error
	cancel context.CancelFunc
}

// result maps the POST's outcome to an error (nil on success).
func (pp *pendingPost) result() error {
	switch {
	case pp.err != nil:
		return pp.err
	case pp.status == http.StatusNotFound:
		return ErrStreamNotFound
	case pp.header.Get(HeaderClosed) != "":
		return ErrEOS
	case pp.status != http.StatusOK:
		return fmt.Errorf("trickle: publish segment %d: status %d", pp.seq, pp.status)
	}
	return nil
}

func (pp *pendingPost) finished() bool {
	select {
	case <-pp.done:
		return true
	default:
		return false
	}
}

// NewPublisher returns a publisher for the channel at url.
func NewPublisher(c *Client, url string, o PublisherOptions) *Publisher {
	if o.ContentType == "" {
		o.ContentType = "video/MP2T"
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Publisher{c: c, url: strings.TrimSuffix(url, "/"), opts: o, ctx: ctx, cancel: cancel, seq: max(o.Start, 0), reset: o.Reset}
}

// post starts POST {url}/{seq} whose body is fed through a pipe.
func (p *Publisher) post(seq int) *pendingPost {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(p.ctx)
	pp := &pendingPost{seq: seq, pw: pw, done: make(chan struct{}), cancel: cancel}
	// Repeated interim "100 Continue" answers keep an idle preconnect
	// alive; taking them here also resets the header size budget.
	trace := &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error { return nil }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, p.url+"/"+strconv.Itoa(seq), pr)
	if err != nil {
		pp.err = err
		close(pp.done)
		return pp
	}
	req.Header.Set("Content-Type", p.opts.ContentType)
	if p.reset {
		req.Header.Set(HeaderReset, "1")
		p.reset = false
	}
	// A cancelled request must also unblock the transport's body copy,
	// which waits on the pipe (an open segment writer would otherwise hold
	// Close forever).
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(pp.done)
		defer stop()
		resp, err := p.c.http.Do(req)
		if err != nil {
			pp.err = err
			pr.CloseWithError(err)
			return
		}
		drain(resp)
		pp.status, pp.header = resp.StatusCode, resp.Header
		pr.CloseWithError(errResponded)
	}()
	return pp
}

// Next returns the writer of the next segment (the preconnected one when
// there is one) and preconnects the one after it.
func (p *Publisher) Next() (*SegmentWriter, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	pp := p.next
	if pp == nil || pp.seq != p.seq {
		pp = p.post(p.seq)
	}
	p.seq++
	p.next = p.post(p.seq)
	return &SegmentWriter{p: p, pp: pp}, nil
}

// Seq is the sequence number the next segment will get.
func (p *Publisher) Seq() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

// Write publishes one whole segment.
func (p *Publisher) Write(data []byte) error {
	w, err := p.Next()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Close DELETEs the channel (unless KeepChannel), which ends every reader
// with Lp-Trickle-Closed, cancels the preconnected POST and waits for the
// publisher's requests.
func (p *Publisher) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	next := p.next
	p.next = nil
	p.mu.Unlock()
	var err error
	if !p.opts.KeepChannel {
		err = p.request(http.MethodDelete, p.url)
		if errors.Is(err, ErrStreamNotFound) {
			err = nil // already gone
		}
	}
	if next != nil {
		next.pw.CloseWithError(ErrClosed)
		next.cancel()
	}
	p.cancel()
	p.wg.Wait()
	return err
}

// request sends a bodiless request with a 5 s limit.
func (p *Publisher) request(method, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := p.c.http.Do(req)
	if err != nil {
		return err
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
		return ErrStreamNotFound
	}
	return fmt.Errorf("trickle: %s %s: status %d", method, url, resp.StatusCode)
}

// SegmentWriter streams one segment. Bytes reach subscribers as they are
// written. Close completes the segment; Abort drops it.
type SegmentWriter struct {
	p       *Publisher
	pp      *pendingPost
	n       int64
	retries int
}

// Seq is the segment's sequence number.
func (w *SegmentWriter) Seq() int { return w.pp.seq }

// Write sends bytes. A POST that failed before any byte was sent is
// reconnected on the same sequence number; a terminal answer (404,
// Lp-Trickle-Closed) is returned as ErrStreamNotFound or ErrEOS.
func (w *SegmentWriter) Write(b []byte) (int, error) {
	for {
		n, err := w.pp.pw.Write(b)
		w.n += int64(n)
		if err == nil {
			return n, nil
		}
		<-w.pp.done
		if rerr := w.pp.result(); rerr != nil && IsTerminal(rerr) {
			return n, rerr
		}
		if w.n > 0 || w.p.ctx.Err() != nil || w.retries >= w.p.c.maxRetries {
			if r := w.pp.result(); r != nil {
				return n, r
			}
			return n, err
		}
		w.retries++
		if err := sleepCtx(w.p.ctx, w.p.c.retryDelay); err != nil {
			return 0, ErrClosed
		}
		w.pp = w.p.post(w.pp.seq) // reconnect the same seq
	}
}

// Close ends the segment and waits for the server's answer.
func (w *SegmentWriter) Close() error {
	w.pp.pw.Close()
	<-w.pp.done
	return w.pp.result()
}

// Abort drops the segment: the POST is cancelled and the segment closed
// on the server (DELETE {channel}/{seq}), so its readers move on.
func (w *SegmentWriter) Abort() error {
	if !w.pp.finished() {
		w.pp.pw.CloseWithError(errors.New("trickle: segment dropped"))
		w.pp.cancel()
		<-w.pp.done
	}
	err := w.p.request(http.MethodDelete, w.p.url+"/"+strconv.Itoa(w.pp.seq))
	if err != nil && !IsTerminal(err) {
		return err
	}
	return nil
}
