package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"comfyrt/graph/diag"
	"comfyrt/internal/metrics"
	"comfyrt/internal/trickle"
)

// Config configures a Server. Zero durations take the spec's defaults.
type Config struct {
	Runner   StreamRunner
	Pipeline string // "comfyui"
	ModelID  string // the model_id a start may name (default Pipeline)
	Version  string
	// Capacity is how many streams run at once (default 1). With 1, a
	// start on the ai-runner endpoint replaces the running stream, as
	// ai-runner does; otherwise a start on a full runner is refused (503).
	Capacity int
	// Token, when set, is required as "Authorization: Bearer" on every
	// control endpoint (start, params, stop, status, /prompt).
	Token string
	// DefaultWorkflow runs when params name no prompt.
	DefaultWorkflow []byte
	// Validate answers /prompt (ComfyUI's validation response and
	// whether it is valid) and ObjectInfo /object_info; nil: 404.
	Validate   func(body []byte) (resp []byte, status int)
	ObjectInfo func(class string) ([]byte, bool)
	// MaxBodyBytes limits request bodies (default 1 MiB);
	// MaxControlBytes limits one control message (default 1 MiB, as the
	// gateway's update endpoint).
	MaxBodyBytes    int64
	MaxControlBytes int64
	// BodyTimeout bounds the reading of a control endpoint's request body
	// (default 10 s): a slow or unfinished body is cut off (408).
	BodyTimeout time.Duration
	// MaxPromptChecks bounds the /prompt requests validated at once
	// (default 4); more are refused at once (429).
	MaxPromptChecks int
	// StatusInterval is the status event cadence (10 s); CheckInterval
	// how often a stream's state is evaluated (1 s); InputTimeout stops a
	// stream without input (60 s); StopTimeout bounds a replaced stream's
	// stop (10 s); DataFlush is the BYOC data segment cadence (1 s).
	StatusInterval time.Duration
	CheckInterval  time.Duration
	InputTimeout   time.Duration
	StopTimeout    time.Duration
	DataFlush      time.Duration
	Thresholds     Thresholds
	// Trickle are the trickle client options (self-signed HTTPS is
	// accepted by default, as the Python runners do).
	Trickle trickle.Options
	// Loading starts the server in LOADING until SetReady.
	Loading bool
	// Models, when not nil, is the inference engine's model use, served
	// on /metrics (metrics.NewModels: sessions loaded and shared, per model
	// the sessions opened and open and their Runs).
	Models func() metrics.ModelStats
	// Abandoned, when not nil, counts the runner's work that streams gave
	// up on and that still runs in the background (live.Abandoned): health
	// and metrics report it.
	Abandoned func() int64
	// Fatal, when not nil, reports a failure that puts the runner in
	// ERROR (health reports it with its error, so the orchestrator
	// restarts the runner); nil from it: no failure.
	Fatal func() error
	// Logger receives the server's structured logs: stream events carry
	// the stream id ("stream"), request logs the request id ("request",
	// also the X-Request-Id response header). Nil: quiet, a discard logger.
	Logger *slog.Logger
	// Preview, when set, is mounted under /preview/ (comfyrt preview's
	// handler: the page, WHIP, WHEP and its API, with its own bearer
	// check); GET /preview redirects there.
	Preview http.Handler
}

// Server is the HTTP API. Handler serves it; Shutdown stops every
// stream.
type Server struct {
	cfg    Config
	runner StreamRunner
	client *trickle.Client
	mux    *http.ServeMux

	ops  chan func()
	quit chan struct{}
	wg   sync.WaitGroup // the actor and the sessions
	once sync.Once

	// owned by the actor
	sessions map[string]*session
	draining bool
	pending  int // starts admitted and compiling, not yet in sessions

	promptSlots chan struct{} // MaxPromptChecks

	active             atomic.Int64
	ready              atomic.Bool
	started, stopped   atomic.Int64
	rejected, replaced atomic.Int64
	prompts            atomic.Int64
	// abandonedStreams counts streams whose stop did not finish within
	// StopTimeout: they were removed (their place freed) and left to end
	// in the background; stuckStreams those of them still running.
	abandonedStreams, stuckStreams atomic.Int64
}

// Errors of admission.
var (
	ErrFull         = errors.New("runner at capacity")
	ErrShuttingDown = errors.New("server shutting down")
)

// New returns a server and starts its control actor.
func New(cfg Config) *Server {
	if cfg.Pipeline == "" {
		cfg.Pipeline = "comfyui"
	}
	if cfg.ModelID == "" {
		cfg.ModelID = cfg.Pipeline
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.StatusInterval, 10*time.Second)
	def(&cfg.CheckInterval, time.Second)
	def(&cfg.InputTimeout, 60*time.Second)
	def(&cfg.StopTimeout, 10*time.Second)
	def(&cfg.DataFlush, time.Second)
	if cfg.CheckInterval > cfg.StatusInterval {
		cfg.CheckInterval = cfg.StatusInterval
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxControlBytes <= 0 {
		cfg.MaxControlBytes = 1 << 20
	}
	def(&cfg.BodyTimeout, 10*time.Second)
	if cfg.MaxPromptChecks <= 0 {
		cfg.MaxPromptChecks = 4
	}
	cfg.Thresholds.defaults()
	if cfg.Runner == nil {
		cfg.Runner = &Passthrough{}
	}
	if cfg.Trickle.HTTPClient == nil && !cfg.Trickle.InsecureSkipVerify {
		cfg.Trickle.InsecureSkipVerify = true
	}
	s := &Server{
		cfg: cfg, runner: cfg.Runner, client: trickle.NewClient(cfg.Trickle),
		ops: make(chan func()), quit: make(chan struct{}), sessions: map[string]*session{},
		promptSlots: make(chan struct{}, cfg.MaxPromptChecks),
	}
	s.ready.Store(!cfg.Loading)
	s.routes()
	s.wg.Add(1)
	go s.actor()
	return s
}

// log is the server's logger (a discard one when Config.Logger is nil).
func (s *Server) log() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

// SetReady ends LOADING.
func (s *Server) SetReady() { s.ready.Store(true) }

// fatal is Config.Fatal's failure (nil: none).
func (s *Server) fatal() error {
	if s.cfg.Fatal == nil {
		return nil
	}
	return s.cfg.Fatal()
}

// Handler is the HTTP handler.
func (s *Server) Handler() http.Handler { return s.requests(s.mux) }

// actor runs the control operations one at a time.
func (s *Server) actor() {
	defer s.wg.Done()
	for {
		select {
		case op := <-s.ops:
			op()
		case <-s.quit:
			return
		}
	}
}

// do runs op on the actor and waits for it.
func (s *Server) do(op func()) error {
	done := make(chan struct{})
	select {
	case s.ops <- func() { op(); close(done) }:
		<-done
		return nil
	case <-s.quit:
		return ErrShuttingDown
	}
}

// Shutdown refuses new streams, stops the running ones (their output and
// events channels are closed properly) and stops the actor. ctx bounds
// the wait.
func (s *Server) Shutdown(ctx context.Context) error {
	var all []*session
	s.do(func() {
		s.draining = true
		for _, ss := range s.sessions {
			all = append(all, ss)
		}
	})
	for _, ss := range all {
		ss.stop()
	}
	var err error
	for _, ss := range all {
		select {
		case <-ss.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.once.Do(func() { close(s.quit) })
	// A stream stuck in a kernel (which Go cannot interrupt) is not waited
	// for beyond ctx: the process may exit with it still running.
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		var stuck []string
		for _, ss := range all {
			select {
			case <-ss.done:
			default:
				stuck = append(stuck, ss.req.ID)
			}
		}
		err = fmt.Errorf("%w: streams still stopping, abandoned: %s", err, strings.Join(stuck, ", "))
	}
	s.client.CloseIdleConnections()
	return err
}

// stopWait stops ss and waits for it up to StopTimeout; a stream that did
// not stop by then is abandoned: removed from the streams, so that its
// place is free, and left to end in the background (its goroutines may
// be stuck in a kernel, which Go cannot interrupt). It reports whether
// the stream stopped.
func (s *Server) stopWait(ss *session) bool {
	ss.stop()
	select {
	case <-ss.done:
		return true
	case <-time.After(s.cfg.StopTimeout):
	}
	s.abandonedStreams.Add(1)
	s.stuckStreams.Add(1)
	go func() { <-ss.done; s.stuckStreams.Add(-1) }()
	s.log().Warn("stream did not stop in time; abandoned (its place is freed, its work ends in the background)", "stream", ss.req.ID, "timeout", s.cfg.StopTimeout)
	s.removeSession(ss)
	return false
}

// startStream admits, opens and runs a stream. replace says whether a
// full single-stream runner replaces its stream (the ai-runner contract).
func (s *Server) startStream(ctx context.Context, req startRequest, replace bool) error {
	if !s.ready.Load() {
		return fmt.Errorf("%w: the runner is loading", ErrFull)
	}
	// Capacity is checked before the workflow is compiled: a start that
	// is refused compiles and allocates nothing. An admitted start holds
	// a place while it compiles.
	if err := s.reserve(req.ID, replace); err != nil {
		s.rejected.Add(1)
		return err
	}
	prep, err := s.runner.Prepare(ctx, req.Params)
	if err != nil {
		s.do(func() { s.pending-- })
		return &paramsError{err}
	}
	ss := newSession(s, req)
	var victims []*session
	var admitErr error
	err = s.do(func() {
		s.pending--
		if s.draining {
			admitErr = ErrShuttingDown
			return
		}
		if old := s.sessions[req.ID]; old != nil {
			victims = append(victims, old)
			delete(s.sessions, req.ID)
		} else if len(s.sessions) >= s.cfg.Capacity {
			if !replace || s.cfg.Capacity != 1 {
				admitErr = fmt.Errorf("%w (%d of %d streams running)", ErrFull, len(s.sessions), s.cfg.Capacity)
				return
			}
			for id, old := range s.sessions {
				victims = append(victims, old)
				delete(s.sessions, id)
			}
		}
		s.sessions[req.ID] = ss
		s.active.Store(int64(len(s.sessions)))
	})
	if err == nil {
		err = admitErr
	}
	if err != nil {
		prep.Close()
		s.rejected.Add(1)
		return err
	}
	for _, v := range victims {
		s.replaced.Add(1)
		s.stopWait(v)
	}
	if err := ss.open(prep); err != nil {
		s.removeSession(ss)
		close(ss.done)
		return err
	}
	s.started.Add(1)
	s.log().Info("stream started", "stream", req.ID, "request", RequestID(ctx), "replaced", len(victims))
	s.wg.Add(1)
	go func() { defer s.wg.Done(); ss.run() }()
	return nil
}

// reserve admits a start before its workflow is compiled: it fails with
// ErrFull when the streams running and the starts compiling fill the
// capacity (a start that would replace a stream is admitted as long as no
// other start is compiling), and with ErrShuttingDown while draining.
func (s *Server) reserve(id string, replace bool) error {
	var admitErr error
	err := s.do(func() {
		switch {
		case s.draining:
			admitErr = ErrShuttingDown
			return
		case s.sessions[id] != nil:
		case len(s.sessions)+s.pending < s.cfg.Capacity:
		case replace && s.cfg.Capacity == 1 && s.pending == 0:
		default:
			admitErr = fmt.Errorf("%w (%d of %d streams running, %d starting)", ErrFull, len(s.sessions), s.cfg.Capacity, s.pending)
			return
		}
		s.pending++
	})
	if err != nil {
		return err
	}
	return admitErr
}

func (s *Server) removeSession(ss *session) {
	s.do(func() {
		if s.sessions[ss.req.ID] == ss {
			delete(s.sessions, ss.req.ID)
			s.stopped.Add(1)
		}
		s.active.Store(int64(len(s.sessions)))
	})
}

// session finds a stream by id; with id "" the only one.
func (s *Server) session(id string) *session {
	var ss *session
	s.do(func() {
		if id != "" {
			ss = s.sessions[id]
			return
		}
		if len(s.sessions) == 1 {
			for _, v := range s.sessions {
				ss = v
			}
		}
	})
	return ss
}

func (s *Server) list() []*session {
	var l []*session
	s.do(func() {
		for _, v := range s.sessions {
			l = append(l, v)
		}
	})
	return l
}

// abandonedWork is the runner's abandoned work still running (0 unknown).
func (s *Server) abandonedWork() int64 {
	if s.cfg.Abandoned == nil {
		return 0
	}
	return s.cfg.Abandoned()
}

// Health is the /health status: LOADING, IDLE, OK or ERROR.
func (s *Server) Health() string {
	switch {
	case s.fatal() != nil:
		return "ERROR"
	case !s.ready.Load():
		return "LOADING"
	case s.active.Load() == 0:
		return "IDLE"
	}
	return "OK"
}

type paramsError struct{ err error }

func (e *paramsError) Error() string { return errText(e.err) }
func (e *paramsError) Unwrap() error { return e.err }

// errText renders an error; a diag.List names every diagnostic.
func errText(err error) string {
	var l diag.List
	if errors.As(err, &l) && len(l) > 0 {
		parts := make([]string, 0, len(l))
		for _, d := range l {
			parts = append(parts, d.Error())
		}
		return "invalid workflow: " + strings.Join(parts, "; ")
	}
	return err.Error()
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- HTTP ----

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /live-video-to-video", s.auth(s.handleLive))
	m.HandleFunc("POST /live-video-to-video/", s.auth(s.handleLive))
	m.HandleFunc("POST /stream/start", s.auth(s.handleByocStart))
	m.HandleFunc("POST /stream/params", s.auth(s.handleByocParams))
	m.HandleFunc("POST /stream/stop", s.auth(s.handleByocStop))
	m.HandleFunc("GET /stream/status", s.auth(s.handleStatus))
	m.HandleFunc("POST /prompt", s.auth(s.handlePrompt))
	m.HandleFunc("GET /health", s.handleHealth)
	m.HandleFunc("GET /version", s.handleVersion)
	m.HandleFunc("GET /app-version", s.handleVersion)
	m.HandleFunc("GET /hardware/info", s.handleHardwareInfo)
	m.HandleFunc("GET /hardware/stats", s.handleHardwareStats)
	m.Handle("GET /metrics", s.metricsHandler())
	m.HandleFunc("GET /object_info", s.handleObjectInfo)
	m.HandleFunc("GET /object_info/{class}", s.handleObjectInfo)
	if s.cfg.Preview != nil {
		m.Handle("/preview/", http.StripPrefix("/preview", s.cfg.Preview))
		m.Handle("GET /preview", http.RedirectHandler("/preview/", http.StatusMovedPermanently))
	}
	s.mux = m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeDetail writes ai-runner's error body {"detail":{"msg":...}}.
func writeDetail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"detail": map[string]any{"msg": msg}})
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", "Bearer")
				writeDetail(w, http.StatusUnauthorized, "Invalid bearer token")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		// The body must arrive within BodyTimeout (readBody lifts the
		// deadline once it has); recorders in tests do not support it.
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
		h(w, r)
	}
}

// readBody reads a limited body, answering 413 or 400 itself on failure.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeDetail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mb.Limit))
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			writeDetail(w, http.StatusRequestTimeout, "the request body did not arrive in time")
		} else {
			writeDetail(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		}
		return nil, false
	}
	// The body is in: lift the deadline, or the server's background read
	// would hit it and cancel the request's context while it is handled.
	http.NewResponseController(w).SetReadDeadline(time.Time{})
	return b, true
}

// startError maps a start failure to a status.
func startError(w http.ResponseWriter, err error) {
	var pe *paramsError
	switch {
	case errors.As(err, &pe):
		writeDetail(w, http.StatusBadRequest, pe.Error())
	case errors.Is(err, ErrFull), errors.Is(err, ErrShuttingDown):
		writeDetail(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeDetail(w, http.StatusInternalServerError, err.Error())
	}
}

type liveRequest struct {
	SubscribeURL     *string         `json:"subscribe_url"`
	PublishURL       *string         `json:"publish_url"`
	ControlURL       string          `json:"control_url"`
	EventsURL        string          `json:"events_url"`
	ModelID          string          `json:"model_id"`
	Params           json.RawMessage `json:"params"`
	GatewayRequestID string          `json:"gateway_request_id"`
	ManifestID       string          `json:"manifest_id"`
	StreamID         string          `json:"stream_id"`
}

// handleLive is ai-runner's POST /live-video-to-video.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req liveRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []any{map[string]any{
			"loc": []string{"body"}, "msg": "JSON decode error: " + jsonErr(err), "type": "json_invalid"}}})
		return
	}
	var missing []any
	for name, v := range map[string]*string{"subscribe_url": req.SubscribeURL, "publish_url": req.PublishURL} {
		if v == nil {
			missing = append(missing, map[string]any{"loc": []string{"body", name}, "msg": "Field required", "type": "missing"})
		}
	}
	if len(missing) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": missing})
		return
	}
	if req.ModelID != "" && req.ModelID != s.cfg.ModelID {
		writeDetail(w, http.StatusBadRequest, fmt.Sprintf("model_id %q is not served here (this runner serves %q)", req.ModelID, s.cfg.ModelID))
		return
	}
	p, err := parseParams(req.Params, s.cfg.DefaultWorkflow, true)
	if err != nil {
		writeDetail(w, http.StatusBadRequest, err.Error())
		return
	}
	id := firstNonEmpty(req.StreamID, req.ManifestID, req.GatewayRequestID, newID())
	sr := startRequest{ID: id, Kind: "live", SubscribeURL: *req.SubscribeURL, PublishURL: *req.PublishURL,
		ControlURL: req.ControlURL, EventsURL: req.EventsURL, RequestID: req.GatewayRequestID, Params: p}
	if err := s.startStream(r.Context(), sr, true); err != nil {
		startError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"publish_url": "", "subscribe_url": "", "control_url": ""})
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

type byocRequest struct {
	Params           json.RawMessage `json:"params"`
	GatewayRequestID string          `json:"gateway_request_id"`
	SubscribeURL     string          `json:"subscribe_url"`
	PublishURL       string          `json:"publish_url"`
	ControlURL       string          `json:"control_url"`
	EventsURL        string          `json:"events_url"`
	DataURL          string          `json:"data_url"`
}

// handleByocStart is pytrickle's POST /stream/start.
func (s *Server) handleByocStart(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req byocRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeDetail(w, http.StatusBadRequest, "invalid JSON: "+jsonErr(err))
		return
	}
	if req.GatewayRequestID == "" {
		writeDetail(w, http.StatusBadRequest, "gateway_request_id is required")
		return
	}
	if req.SubscribeURL == "" || req.PublishURL == "" {
		writeDetail(w, http.StatusBadRequest, "comfyrt needs video ingress and egress: subscribe_url and publish_url are required")
		return
	}
	raw := req.Params
	if len(raw) > 0 && raw[0] == '"' { // params as a JSON string
		var str string
		if json.Unmarshal(raw, &str) == nil {
			raw = json.RawMessage(str)
		}
	}
	p, err := parseParams(raw, s.cfg.DefaultWorkflow, false)
	if err != nil {
		writeDetail(w, http.StatusBadRequest, err.Error())
		return
	}
	id := firstNonEmpty(r.Header.Get("X-Stream-Id"), req.GatewayRequestID)
	sr := startRequest{ID: id, Kind: "byoc", SubscribeURL: req.SubscribeURL, PublishURL: req.PublishURL,
		ControlURL: req.ControlURL, EventsURL: req.EventsURL, DataURL: req.DataURL, RequestID: req.GatewayRequestID, Params: p}
	if err := s.startStream(r.Context(), sr, false); err != nil {
		startError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "message": "Stream started successfully",
		"request_id": req.GatewayRequestID, "current_state": s.Health()})
}

// handleByocParams is POST /stream/params: the body is the params.
func (s *Server) handleByocParams(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	ss := s.session(r.Header.Get("X-Stream-Id"))
	if ss == nil {
		writeDetail(w, http.StatusBadRequest, "no active stream")
		return
	}
	p, err := parseParams(body, s.cfg.DefaultWorkflow, false)
	if err != nil {
		writeDetail(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := ss.fitSize(&p); err != nil {
		ss.reject("params update rejected, the running workflow stays: " + err.Error())
		writeDetail(w, http.StatusBadRequest, err.Error())
		return
	}
	if !ss.preparing.CompareAndSwap(false, true) {
		w.Header().Set("Retry-After", "1")
		writeDetail(w, http.StatusTooManyRequests, "another params update of this stream is being compiled")
		return
	}
	defer ss.preparing.Store(false)
	testPrepareHook(ss.req.ID)
	prep, err := s.runner.Prepare(r.Context(), p)
	if err != nil {
		ss.reject("params update rejected, the running workflow stays: " + errText(err))
		writeDetail(w, http.StatusBadRequest, errText(err))
		return
	}
	if err := ss.submit(r.Context(), p, prep); err != nil {
		writeDetail(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "message": "Parameters updated successfully"})
}

// handleByocStop is POST /stream/stop.
func (s *Server) handleByocStop(w http.ResponseWriter, r *http.Request) {
	ss := s.session(r.Header.Get("X-Stream-Id"))
	if ss == nil {
		writeDetail(w, http.StatusBadRequest, "no active stream")
		return
	}
	msg := "Stream stopped"
	s.log().Info("stream stop requested", "stream", ss.req.ID, "request", RequestID(r.Context()))
	if !s.stopWait(ss) {
		msg = fmt.Sprintf("Stream stopped; it did not end within %v and was abandoned (its place is free)", s.cfg.StopTimeout)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "message": msg})
}

func (s *Server) streamStatus(ss *session) map[string]any {
	info := ss.snapshot()
	return map[string]any{
		"stream_id": ss.req.ID, "request_id": ss.req.RequestID, "state": info.State,
		"start_time": ms(ss.start), "last_params_hash": info.ParamsHash, "last_error": info.LastError,
		"segments_in": ss.segsIn.Load(), "segments_out": ss.segsOut.Load(),
		"params_updates": info.Updates, "params_rejected": info.Rejects,
	}
}

// handleStatus is GET /stream/status.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	streams := []any{}
	if id := r.Header.Get("X-Stream-Id"); id != "" {
		ss := s.session(id)
		if ss == nil {
			writeDetail(w, http.StatusNotFound, "no such stream")
			return
		}
		streams = append(streams, s.streamStatus(ss))
	} else {
		for _, ss := range s.list() {
			streams = append(streams, s.streamStatus(ss))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": s.Health(), "capacity": s.cfg.Capacity, "streams": streams})
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	h := map[string]any{"status": s.Health()}
	if err := s.fatal(); err != nil {
		h["error"] = err.Error() // an ERROR says why
	}
	// Work given up on but still running: the runner is degraded (a CPU
	// may be held) though it accepts streams.
	stuck, bg := s.stuckStreams.Load(), s.abandonedWork()
	if stuck > 0 || bg > 0 {
		h["degraded"] = fmt.Sprintf("%d stopped stream(s) and %d workflow load(s) abandoned, still running in the background", stuck, bg)
		h["abandoned_streams"] = stuck
		h["abandoned_goroutines"] = bg
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"pipeline": s.cfg.Pipeline, "model_id": s.cfg.ModelID, "version": s.cfg.Version})
}

func (s *Server) handleObjectInfo(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ObjectInfo == nil {
		http.NotFound(w, r)
		return
	}
	b, ok := s.cfg.ObjectInfo(r.PathValue("class"))
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// handlePrompt is ComfyUI's POST /prompt, validation only.
func (s *Server) handlePrompt(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Validate == nil {
		http.NotFound(w, r)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	select {
	case s.promptSlots <- struct{}{}:
		defer func() { <-s.promptSlots }()
	default:
		w.Header().Set("Retry-After", "1")
		writeDetail(w, http.StatusTooManyRequests, fmt.Sprintf("too many prompts being validated (at most %d at once)", s.cfg.MaxPromptChecks))
		return
	}
	s.prompts.Add(1)
	resp, status := s.cfg.Validate(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(resp)
}
