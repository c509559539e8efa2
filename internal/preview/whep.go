package preview

import (
	"fmt"
	"net/http"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"comfyrt/compiler"
	"comfyrt/executor"
)

// maxViewers bounds the WHEP sessions.
const maxViewers = 16

// viewer is one WHEP session: it receives the shared output track.
type viewer struct {
	id string
	pc *webrtc.PeerConnection
}

// startPipeline compiles the current workflow at the camera's size and
// starts the stream's pipeline; it returns the source to feed.
func (s *Server) startPipeline(in *ingest, w, h int) (*frameSource, error) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.mu.Lock()
	wf := s.wf
	s.mu.Unlock()
	pl, err := compile(wf.prompt, s.cfg.Compiler, w, h, nil)
	if err != nil {
		return nil, fmt.Errorf("workflow %s at %dx%d: %w", wf.name, w, h, err)
	}
	s.setWorkflow(s.describe(wf.name, wf.prompt, pl)) // the plan at the camera's size
	budget := max(s.cfg.Budget, 0)
	src := newFrameSource(w, h)
	sink := newTrackSink(s.track, s.cfg.Codec, &s.wantKey, &s.out)
	events := make(chan executor.Event, 64)
	p, err := executor.New(executor.Config[*compiler.Plan]{Source: src, Sink: sink, Plan: pl, MaxFPS: s.cfg.MaxFPS,
		Budget: budget, Queue: executor.LatestWins, OnError: executor.PassThrough, Events: events})
	if err != nil {
		return nil, err
	}
	if err := p.Start(in.ctx); err != nil {
		_ = p.Close()
		return nil, err
	}
	go in.watch(events)
	in.mu.Lock()
	in.pipe, in.src, in.sink, in.cur = p, src, sink, pl
	in.mu.Unlock()
	if in.ctx.Err() != nil { // closed meanwhile: close's pipeline() saw none
		_ = p.Close()
		return nil, errSessionEnd
	}
	s.log.Info("stream started", "session", in.id, "width", w, "height", h, "workflow", wf.name)
	go func() { // a pipeline that fails (its encoder, say) ends the session
		<-p.Done()
		if err := p.Err(); err != nil && in.ctx.Err() == nil {
			s.log.Error("stream failed", "session", in.id, "err", err)
			s.endIngest(in)
		}
	}()
	return src, nil
}

// postWHEP adds a viewer of the processed stream.
func (s *Server) postWHEP(w http.ResponseWriter, r *http.Request) {
	offer, ok := readSDP(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	n := len(s.viewers)
	s.mu.Unlock()
	if n >= maxViewers {
		http.Error(w, fmt.Sprintf("at most %d viewers", maxViewers), http.StatusServiceUnavailable)
		return
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sender, err := pc.AddTrack(s.track)
	if err != nil {
		_ = pc.Close()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	v := &viewer{id: newID(), pc: pc}
	go s.readRTCP(sender)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Info("whep", "viewer", v.id, "state", st.String())
		switch st {
		case webrtc.PeerConnectionStateConnected:
			s.wantKey.Store(true) // a new viewer starts on a keyframe
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			s.removeViewer(v.id)
		}
	})
	sdp, err := answer(pc, offer)
	if err != nil {
		_ = pc.Close()
		http.Error(w, "WHEP offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = pc.Close()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	s.viewers[v.id] = v
	s.mu.Unlock()
	s.created(w, "whep", v.id, sdp)
}

// readRTCP turns a viewer's PLI and FIR into a keyframe request.
func (s *Server) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.wantKey.Store(true)
			}
		}
	}
}

func (s *Server) deleteWHEP(w http.ResponseWriter, r *http.Request) {
	if !s.removeViewer(r.PathValue("id")) {
		http.Error(w, "no such WHEP session", http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// removeViewer closes and forgets a viewer; false when there is none.
func (s *Server) removeViewer(id string) bool {
	s.mu.Lock()
	v := s.viewers[id]
	delete(s.viewers, id)
	s.mu.Unlock()
	if v == nil {
		return false
	}
	_ = v.pc.Close()
	return true
}
