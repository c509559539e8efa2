package trickle

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RingSize is the number of segments a channel keeps (slot = seq % 5).
const RingSize = 5

// ServerConfig configures a trickle Server.
type ServerConfig struct {
	// BasePath is the URL path prefix of every channel, ending in "/"
	// (default "/"; orchestrators use "/ai/trickle/").
	BasePath string
	// Autocreate creates a channel on its first POST (or on
	// POST {channel}). Orchestrators run with it off: channels exist only
	// when pre-created (CreateChannel).
	Autocreate bool
	// IdleTimeout closes a channel with no new segment data for this long
	// (default 5 min); SweepInterval is how often that is checked (default
	// 1 min; negative: never).
	IdleTimeout   time.Duration
	SweepInterval time.Duration
	// FirstByteTimeout is how long a POST waits for its first body byte
	// before the server sends an interim "100 Continue" (repeated at the
	// same interval; default 10 s).
	FirstByteTimeout time.Duration
}

// Server is a trickle server (LIVEPEER.md §1.1-1.5), written as a test peer
// for the client: the same URL layout, sequence semantics, headers and
// status codes as go-livepeer's. It is an http.Handler. Close stops its
// sweeper and closes every channel.
type Server struct {
	cfg ServerConfig

	mu       sync.Mutex
	channels map[string]*channel

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// NewServer returns a server and starts its idle sweeper.
func NewServer(cfg ServerConfig) *Server {
	if cfg.BasePath == "" {
		cfg.BasePath = "/"
	}
	if !strings.HasSuffix(cfg.BasePath, "/") {
		cfg.BasePath += "/"
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.FirstByteTimeout <= 0 {
		cfg.FirstByteTimeout = 10 * time.Second
	}
	s := &Server{cfg: cfg, channels: map[string]*channel{}, stop: make(chan struct{})}
	if cfg.SweepInterval > 0 {
		s.wg.Add(1)
		go s.sweeper()
	}
	return s
}

// Close stops the sweeper and closes every channel (waiting readers and
// writers get Lp-Trickle-Closed).
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.mu.Lock()
		chs := s.channels
		s.channels = map[string]*channel{}
		s.mu.Unlock()
		for _, c := range chs {
			c.close()
		}
	})
}

// CreateChannel creates a channel (as an orchestrator pre-creates a
// session's channels); an existing one is kept.
func (s *Server) CreateChannel(name, mime string) {
	s.channel(name, mime, true)
}

// DeleteChannel closes and removes a channel; false if it did not exist.
func (s *Server) DeleteChannel(name string) bool {
	s.mu.Lock()
	c := s.channels[name]
	delete(s.channels, name)
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.close()
	return true
}

// Channels lists the open channels' names.
func (s *Server) Channels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.channels {
		out = append(out, n)
	}
	return out
}

// channel returns the named channel, creating it when create is set.
func (s *Server) channel(name, mime string, create bool) *channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[name]
	if c == nil && create {
		c = &channel{name: name, mime: mime, writeTime: time.Now(), done: make(chan struct{})}
		s.channels[name] = c
	}
	return c
}

func (s *Server) sweeper() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.mu.Lock()
			var idle []string
			for n, c := range s.channels {
				c.mu.Lock()
				if now.Sub(c.writeTime) > s.cfg.IdleTimeout {
					idle = append(idle, n)
				}
				c.mu.Unlock()
			}
			s.mu.Unlock()
			for _, n := range idle {
				s.DeleteChannel(n)
			}
		}
	}
}

// ServeHTTP routes POST/GET/DELETE {base}{channel}[/{seq}|/next].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, s.cfg.BasePath)
	if !ok || rest == "" {
		http.NotFound(w, r)
		return
	}
	name, idx, hasIdx := strings.Cut(rest, "/")
	if name == "" || strings.Contains(idx, "/") {
		http.NotFound(w, r)
		return
	}
	switch {
	case r.Method == http.MethodPost && !hasIdx:
		if !s.cfg.Autocreate && s.channel(name, "", false) == nil {
			notFound(w)
			return
		}
		s.channel(name, r.Header.Get(HeaderExpectContent), true)
	case r.Method == http.MethodPost:
		s.handlePost(w, r, name, idx)
	case r.Method == http.MethodGet && hasIdx:
		s.handleGet(w, r, name, idx)
	case r.Method == http.MethodDelete && !hasIdx:
		if !s.DeleteChannel(name) {
			notFound(w)
		}
	case r.Method == http.MethodDelete:
		c := s.channel(name, "", false)
		if c == nil {
			notFound(w)
			return
		}
		seq, err := strconv.Atoi(idx)
		if err != nil || seq < 0 {
			http.Error(w, "Invalid idx", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		seg := c.segs[seq%RingSize]
		c.mu.Unlock()
		if seg == nil || seg.idx != seq {
			http.Error(w, "Nonexistent segment", http.StatusBadRequest)
			return
		}
		seg.close()
	default:
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
	}
}

func notFound(w http.ResponseWriter) {
	// Connection: close wakes clients that preconnected on a kept-alive
	// connection.
	w.Header().Set("Connection", "close")
	http.Error(w, "Stream not found", http.StatusNotFound)
}

func writeClosed(w http.ResponseWriter, seq int) {
	w.Header().Set(HeaderSeq, strconv.Itoa(seq))
	w.Header().Set(HeaderClosed, "terminated")
	w.WriteHeader(http.StatusOK)
}

type readResult struct {
	n   int
	err error
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request, name, idx string) {
	c := s.channel(name, r.Header.Get("Content-Type"), s.cfg.Autocreate)
	if c == nil {
		notFound(w)
		return
	}
	seq, err := strconv.Atoi(idx)
	if err != nil || seq < SeqNext {
		http.Error(w, "Invalid idx", http.StatusBadRequest)
		return
	}
	seg, seq, ok := c.forWrite(seq, r.Header.Get(HeaderReset) != "")
	if !ok {
		writeClosed(w, seq)
		return
	}
	defer c.release(seg)
	w.Header().Set(HeaderSeq, strconv.Itoa(seq))

	// Wait for the first byte, sending "100 Continue" every
	// FirstByteTimeout, and answer Lp-Trickle-Closed if the channel closes
	// meanwhile.
	buf := make([]byte, 32<<10)
	res := make(chan readResult, 1)
	go func() {
		n, err := r.Body.Read(buf)
		res <- readResult{n, err}
	}()
	t := time.NewTimer(s.cfg.FirstByteTimeout)
	defer t.Stop()
	var first readResult
wait:
	for {
		select {
		case first = <-res:
			break wait
		case <-t.C:
			w.WriteHeader(http.StatusContinue)
			t.Reset(s.cfg.FirstByteTimeout)
		case <-c.done:
			writeClosed(w, seq)
			return
		case <-r.Context().Done():
			return
		}
	}
	total := 0
	n, err := first.n, first.err
	for {
		if n > 0 {
			if total == 0 {
				c.wrote(seq)
			}
			seg.write(buf[:n])
			total += n
		}
		if err != nil {
			break
		}
		n, err = r.Body.Read(buf)
	}
	if total == 0 && errors.Is(err, io.EOF) {
		c.wrote(seq) // an empty POST also advances nextWrite
	}
	seg.close()
	if c.isClosed() {
		writeClosed(w, seq)
		return
	}
	if err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, "Server error", http.StatusInternalServerError)
	}
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, name, idx string) {
	c := s.channel(name, "", false)
	if c == nil {
		notFound(w)
		return
	}
	if idx == "next" {
		c.mu.Lock()
		next := c.nextWrite
		c.mu.Unlock()
		w.Header().Set(HeaderLatest, strconv.Itoa(next))
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(strconv.Itoa(next)))
		return
	}
	seq, err := strconv.Atoi(idx)
	if err != nil || seq < SeqCurrent {
		http.Error(w, "Invalid idx", http.StatusBadRequest)
		return
	}
	seg, seq, latest, closed := c.forRead(seq)
	if closed {
		writeClosed(w, seq)
		return
	}
	if seg == nil {
		w.Header().Set(HeaderLatest, strconv.Itoa(latest))
		w.Header().Set(HeaderSeq, strconv.Itoa(seq))
		w.WriteHeader(StatusEntryNotFound)
		w.Write([]byte("Entry not found"))
		return
	}
	flusher, _ := w.(http.Flusher)
	pos := 0
	wrote := false
	for {
		chunk, eof, err := seg.read(r.Context(), pos)
		if err != nil {
			return
		}
		if len(chunk) > 0 {
			if !wrote {
				wrote = true
				if seg.idx != latest {
					w.Header().Set(HeaderLatest, strconv.Itoa(latest))
				}
				w.Header().Set(HeaderSeq, strconv.Itoa(seg.idx))
				w.Header().Set("Content-Type", c.mime)
				w.WriteHeader(http.StatusOK)
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			pos += len(chunk)
		}
		if eof {
			if !wrote {
				if c.isClosed() {
					writeClosed(w, seg.idx)
					return
				}
				// An empty, dropped or replaced segment: 200 with no body.
				w.Header().Set(HeaderSeq, strconv.Itoa(seg.idx))
				w.Header().Set("Content-Type", c.mime)
				w.WriteHeader(http.StatusOK)
			}
			return
		}
	}
}

type channel struct {
	name, mime string
	done       chan struct{} // closed with the channel

	mu        sync.Mutex
	segs      [RingSize]*segment
	nextWrite int
	writeTime time.Time
	closed    bool
}

func (c *channel) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *channel) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	segs := c.segs
	c.segs = [RingSize]*segment{}
	close(c.done)
	c.mu.Unlock()
	for _, s := range segs {
		if s != nil {
			s.close()
		}
	}
}

// wrote records the first byte (or the EOF of an empty POST) of seq.
func (c *channel) wrote(seq int) {
	c.mu.Lock()
	c.nextWrite = seq + 1
	c.writeTime = time.Now()
	c.mu.Unlock()
}

// forWrite returns the segment a POST to seq writes (seq -1 resolved), or
// ok=false when the channel is closed. reset is Lp-Trickle-Reset: close
// every other segment except preconnected ones.
func (c *channel) forWrite(seq int, reset bool) (_ *segment, _ int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, seq, false
	}
	if seq == SeqNext {
		seq = c.nextWrite
	}
	if reset {
		for _, s := range c.segs {
			if s != nil && s.idx != seq && !s.preconnected() {
				s.close()
			}
		}
		c.nextWrite = seq
	}
	slot := seq % RingSize
	s := c.segs[slot]
	switch {
	case s != nil && s.idx == seq:
		s.overwrite() // a retry of the same seq starts it again
	default:
		if s != nil {
			s.close() // an older segment leaves the window
		}
		s = newSegment(seq)
		c.segs[slot] = s
	}
	s.mu.Lock()
	s.writers++
	s.mu.Unlock()
	return s, seq, true
}

func (c *channel) release(s *segment) {
	s.mu.Lock()
	s.writers--
	s.mu.Unlock()
}

// forRead resolves seq (-1, -2) and returns its segment, pre-creating it
// when it is the next one to be written; nil when absent (470).
func (c *channel) forRead(seq int) (_ *segment, _ int, latest int, closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, seq, c.nextWrite, true
	}
	switch seq {
	case SeqNext:
		seq = c.nextWrite
	case SeqCurrent:
		seq = max(c.nextWrite-1, 0)
	}
	slot := seq % RingSize
	s := c.segs[slot]
	if s == nil || s.idx != seq {
		s = nil
		if seq == c.nextWrite || (c.nextWrite == 0 && seq == 1) {
			if old := c.segs[slot]; old != nil {
				old.close()
			}
			s = newSegment(seq)
			c.segs[slot] = s
		}
	}
	return s, seq, c.nextWrite, false
}

type segment struct {
	idx int

	mu      sync.Mutex
	data    []byte
	closed  bool
	writers int           // POSTs attached (a preconnect before its first byte included)
	changed chan struct{} // closed and replaced on every change
}

func newSegment(idx int) *segment {
	return &segment{idx: idx, changed: make(chan struct{})}
}

func (s *segment) bump() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *segment) preconnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writers > 0 && len(s.data) == 0 && !s.closed
}

func (s *segment) write(p []byte) {
	s.mu.Lock()
	s.data = append(s.data, p...)
	s.bump()
	s.mu.Unlock()
}

// overwrite restarts the segment: readers inside it see EOF.
func (s *segment) overwrite() {
	s.mu.Lock()
	if len(s.data) > 0 || s.closed {
		s.data = nil // a new array: earlier readers' views stay valid
		s.closed = false
		s.bump()
	}
	s.mu.Unlock()
}

func (s *segment) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.bump()
	}
	s.mu.Unlock()
}

// read returns the bytes after pos (a view that stays valid) and whether
// the segment is complete, waiting for data when there is none yet.
func (s *segment) read(ctx context.Context, pos int) ([]byte, bool, error) {
	for {
		s.mu.Lock()
		switch {
		case pos < len(s.data):
			d, closed := s.data[pos:len(s.data):len(s.data)], s.closed
			s.mu.Unlock()
			return d, closed, nil
		case pos > len(s.data) || s.closed:
			// pos beyond the data: the segment was restarted.
			s.mu.Unlock()
			return nil, true, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}
