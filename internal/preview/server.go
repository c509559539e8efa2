package preview

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"comfyrt/compiler"
	"comfyrt/executor"
)

// Config configures a Server.
type Config struct {
	// Compiler is the compile configuration (schemas, registry, engines);
	// Width and Height are the frame size until a camera connects.
	Compiler compiler.Config
	// Workflow is the workflow run first (UI or API format), named
	// WorkflowName in errors; it must compile.
	Workflow     []byte
	WorkflowName string
	// Examples are workflows the page offers to pick, by file name.
	Examples map[string][]byte
	// Token, when set, is the bearer token the WHIP, WHEP and API
	// endpoints require (the page itself is open).
	Token string
	// Prefix is the path the handler is mounted under ("" or "/preview"),
	// for the Location headers.
	Prefix string
	// Budget is the latency budget (capture → output) of the executor; 0
	// means 500 ms, negative none. MaxFPS caps the input rate (0: the
	// executor's default, negative: none).
	Budget time.Duration
	MaxFPS float64
	// Codec is the codec sent to viewers: "vp8" (default) or "h264".
	Codec string
	// Loopback lets ICE use the loopback interface (tests and a browser
	// on the same machine).
	Loopback bool
	Logger   *slog.Logger
}

// Server is the preview: an http.Handler serving the page, WHIP, WHEP and
// the workflow API. Close ends every session.
type Server struct {
	cfg     Config
	api     *webrtc.API
	mux     *http.ServeMux
	track   *webrtc.TrackLocalStaticRTP
	wantKey atomic.Bool
	out     rtpOut
	log     *slog.Logger

	ctl     sync.Mutex // serialises workflow loads and updates
	mu      sync.Mutex // guards what follows
	wf      *workflow
	in      *ingest
	viewers map[string]*viewer
	gen     int64 // workflow changes
	closed  bool
}

// New checks the first workflow and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Codec == "" {
		cfg.Codec = "vp8"
	}
	mime := map[string]string{"vp8": webrtc.MimeTypeVP8, "h264": webrtc.MimeTypeH264}[cfg.Codec]
	if mime == "" {
		return nil, fmt.Errorf("preview: unknown codec %q (vp8 or h264)", cfg.Codec)
	}
	if cfg.Budget == 0 {
		cfg.Budget = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, viewers: map[string]*viewer{}}
	name := cfg.WorkflowName
	if name == "" {
		name = "workflow"
	}
	wf, err := s.prepare(name, cfg.Workflow)
	if err != nil {
		return nil, err
	}
	s.wf = wf
	if s.api, err = newAPI(cfg.Loopback); err != nil {
		return nil, err
	}
	s.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000}, "video", "comfyrt")
	if err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// newAPI is pion's API with the default codecs and interceptors (NACK,
// RTCP reports), host candidates on UDP4 only.
func newAPI(loopback bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(loopback)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)), nil
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.Handle("GET /", pageHandler())
	s.mux.HandleFunc("POST /whip", s.auth(s.postWHIP))
	s.mux.HandleFunc("DELETE /whip/{id}", s.auth(s.deleteWHIP))
	s.mux.HandleFunc("POST /whep", s.auth(s.postWHEP))
	s.mux.HandleFunc("DELETE /whep/{id}", s.auth(s.deleteWHEP))
	s.mux.HandleFunc("GET /api/workflow", s.auth(s.getWorkflow))
	s.mux.HandleFunc("POST /api/workflow", s.auth(s.postWorkflow))
	s.mux.HandleFunc("POST /api/params", s.auth(s.postParams))
	s.mux.HandleFunc("GET /api/examples", s.auth(s.getExamples))
	s.mux.HandleFunc("GET /api/stats", s.auth(s.getStats))
}

// ServeHTTP serves the page and the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// auth checks the bearer token (when one is configured).
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="comfyrt preview"`)
				http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
		}
		h(w, r)
	}
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Close ends the WHIP session and every viewer.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	in := s.in
	s.in = nil
	vs := s.viewers
	s.viewers = map[string]*viewer{}
	s.mu.Unlock()
	if in != nil {
		in.close()
	}
	for _, v := range vs {
		_ = v.pc.Close()
	}
	return nil
}

// adoptable is the running stream's plan to adopt static steps from
// (nil: none). Callers hold s.ctl, which the session's close takes before
// its pipeline closes that plan.
func (s *Server) adoptable() *compiler.Plan {
	s.mu.Lock()
	in := s.in
	s.mu.Unlock()
	if in == nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cur
}

// Stats are the running stream's figures, as the page shows them.
type Stats struct {
	// Workflow counts workflow changes (loads, updates, a recompile at
	// the camera's size): the page refetches the workflow when it moves.
	Workflow   int64   `json:"workflow"`
	Connected  bool    `json:"connected"`
	Viewers    int     `json:"viewers"`
	Width      int     `json:"width,omitempty"`
	Height     int     `json:"height,omitempty"`
	FramesIn   int64   `json:"frames_in"`
	FramesOut  int64   `json:"frames_out"`
	Dropped    int64   `json:"frames_dropped"`
	FPSIn      float64 `json:"fps_in"`
	FPSOut     float64 `json:"fps_out"`
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	PlanMS     float64 `json:"plan_ms"`
	Swaps      int64   `json:"swaps"`
	Errors     int64   `json:"errors"`
	DecodeErrs int64   `json:"decode_errors"`
	Packets    int64   `json:"packets_out"`
}

// Stats reports the running stream (zero figures when none runs).
func (s *Server) Stats() Stats {
	s.mu.Lock()
	in := s.in
	st := Stats{Viewers: len(s.viewers), Workflow: s.gen}
	s.mu.Unlock()
	if in == nil {
		return st
	}
	st.Connected = true
	st.DecodeErrs = in.decodeErrs.Load()
	p := in.pipeline()
	if p == nil {
		return st
	}
	es := p.Stats()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	st.Width, st.Height = in.src.info.Width, in.src.info.Height
	st.FramesIn, st.FramesOut = es.FramesIn, es.FramesOut
	st.Dropped = es.DroppedTotal() + in.src.replaced.Load()
	st.FPSIn, st.FPSOut = es.FPSIn, es.FPSOut
	st.LatencyP50, st.LatencyP99 = ms(es.Latency.P50), ms(es.Latency.P99)
	st.PlanMS, st.Swaps, st.Errors = ms(es.PlanTime), es.Swaps, es.Errors()
	st.Packets = in.sink.packets.Load()
	return st
}

// swapIn hands a compiled plan to the running pipeline, if any; it
// returns false (the caller keeps the plan) when none runs.
func (s *Server) swapIn(ctx context.Context, pl *compiler.Plan) (bool, error) {
	s.mu.Lock()
	in := s.in
	s.mu.Unlock()
	var p *executor.Pipeline[*compiler.Plan]
	if in != nil {
		p = in.pipeline()
	}
	if p == nil {
		return false, nil
	}
	in.setCur(nil)
	select { // a stale signal of a swap not waited for
	case <-in.swapped:
	default:
	}
	if err := p.Swap(ctx, pl); err != nil {
		if errors.Is(err, executor.ErrClosed) {
			return false, nil // the stream ended meanwhile
		}
		return false, err
	}
	// The pipeline owns pl now; it is adopted from once it is seen taken.
	select {
	case <-in.swapped:
		if in.sameSize() {
			in.setCur(pl)
		}
	case <-ctx.Done():
	case <-in.ctx.Done():
	}
	return true, nil
}
