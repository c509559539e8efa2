package preview

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media/av"
)

// maxSDPBytes bounds an SDP offer.
const maxSDPBytes = 64 << 10

// ingest is the WHIP session: the camera's video track, decoded and fed
// to a pipeline running the current workflow.
type ingest struct {
	s          *Server
	id         string
	pc         *webrtc.PeerConnection
	ctx        context.Context
	cancel     context.CancelFunc
	decodeErrs atomic.Int64
	once       sync.Once
	swapped    chan struct{} // a swapped plan was taken (EventSwapped)
	resized    atomic.Bool   // a frame came at another size than the first

	mu sync.Mutex
	// cur is the plan the pipeline runs (taken, not merely queued), which
	// an update may adopt unchanged static steps from; nil when unsure (a
	// swap not seen taken, a resize: the pipeline closes the plans it
	// replaces, and Close closes the running one).
	cur  *compiler.Plan
	pipe *executor.Pipeline[*compiler.Plan]
	src  *frameSource
	sink *trackSink
}

func (in *ingest) pipeline() *executor.Pipeline[*compiler.Plan] {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.pipe
}

// watch reads the pipeline's events until the session ends, signalling
// swaps taken.
func (in *ingest) watch(events <-chan executor.Event) {
	for {
		select {
		case ev := <-events:
			if ev.Kind == executor.EventSwapped {
				select {
				case in.swapped <- struct{}{}:
				default:
				}
			}
		case <-in.ctx.Done():
			return
		}
	}
}

// sameSize reports that every frame so far had the first frame's size
// (the pipeline never resized, and so never closed, the plans it took).
func (in *ingest) sameSize() bool { return !in.resized.Load() }

func (in *ingest) size() (int, int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.src == nil {
		return 0, 0
	}
	return in.src.info.Width, in.src.info.Height
}

func (in *ingest) setCur(pl *compiler.Plan) {
	in.mu.Lock()
	in.cur = pl
	in.mu.Unlock()
}

// close ends the session: the peer connection and the pipeline (which
// closes its source, plan and encoder). It waits for a workflow load or
// update in progress (s.ctl), which may be adopting from the plan.
func (in *ingest) close() {
	in.once.Do(func() {
		in.cancel() // wakes an update waiting for its swap
		in.s.ctl.Lock()
		in.setCur(nil)
		in.s.ctl.Unlock()
		_ = in.pc.Close()
		if p := in.pipeline(); p != nil {
			_ = p.Close()
		}
	})
}

// readSDP reads an application/sdp body.
func readSDP(w http.ResponseWriter, r *http.Request) (string, bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		http.Error(w, "the body must be an SDP offer (Content-Type: application/sdp)", http.StatusUnsupportedMediaType)
		return "", false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSDPBytes))
	if err != nil || len(b) == 0 {
		http.Error(w, "unreadable or empty SDP offer", http.StatusBadRequest)
		return "", false
	}
	return string(b), true
}

// answer applies the offer and returns the answer with every ICE
// candidate in it (no trickle needed).
func answer(pc *webrtc.PeerConnection, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	<-gathered
	return pc.LocalDescription().SDP, nil
}

func (s *Server) created(w http.ResponseWriter, kind, id, sdp string) {
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", s.cfg.Prefix+"/"+kind+"/"+id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, sdp)
}

// postWHIP starts a WHIP session; it replaces the running one.
func (s *Server) postWHIP(w http.ResponseWriter, r *http.Request) {
	offer, ok := readSDP(w, r)
	if !ok {
		return
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		_ = pc.Close()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &ingest{s: s, id: newID(), pc: pc, ctx: ctx, cancel: cancel, swapped: make(chan struct{}, 1)}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			go in.readVideo(t)
			return
		}
		go discard(t) // audio is not processed (and not sent back)
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Info("whip", "session", in.id, "state", st.String())
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			s.endIngest(in)
		}
	})
	sdp, err := answer(pc, offer)
	if err != nil {
		in.close()
		http.Error(w, "WHIP offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		in.close()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	old := s.in
	s.in = in
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	s.created(w, "whip", in.id, sdp)
}

func (s *Server) deleteWHIP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	in := s.in
	s.mu.Unlock()
	if in == nil || in.id != r.PathValue("id") {
		http.Error(w, "no such WHIP session", http.StatusNotFound)
		return
	}
	s.endIngest(in)
	w.WriteHeader(http.StatusOK)
}

// endIngest closes in and forgets it (when it is still the current one).
func (s *Server) endIngest(in *ingest) {
	s.mu.Lock()
	if s.in == in {
		s.in = nil
	}
	s.mu.Unlock()
	in.close()
}

func discard(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}

// depacketizer picks the decoder and RTP depacketiser of a track's codec.
func depacketizer(mime string) (string, rtp.Depacketizer) {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return "vp8", &codecs.VP8Packet{}
	case strings.ToLower(webrtc.MimeTypeH264):
		return "h264", &codecs.H264Packet{}
	}
	return "", nil
}

// readVideo depacketises, decodes and feeds the camera's frames until the
// track ends. It asks for a keyframe at the start and after lost frames
// or decode errors (at most once a second).
func (in *ingest) readVideo(t *webrtc.TrackRemote) {
	codec, depack := depacketizer(t.Codec().MimeType)
	if codec == "" {
		in.s.log.Warn("whip: video codec not supported (VP8 or H.264)", "codec", t.Codec().MimeType)
		discard(t)
		return
	}
	dec, err := av.NewVideoDecoder(codec)
	if err != nil {
		in.s.log.Error("whip: decoder", "err", err)
		in.s.endIngest(in)
		return
	}
	defer dec.Close()
	pli := func() {
		_ = in.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
	}
	pli()
	lastPLI := time.Now()
	asm := &assembler{depack: depack}
	fd := &feeder{in: in, dec: dec}
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		data, ts, lost := asm.push(pkt)
		if data != nil {
			err = fd.frame(data, ts)
			if errors.Is(err, errSessionEnd) {
				return
			}
		}
		if lost || err != nil {
			in.decodeErrs.Add(1)
			if time.Since(lastPLI) > time.Second {
				pli()
				lastPLI = time.Now()
			}
		}
	}
}

var errSessionEnd = errors.New("preview: session ended")

// feeder decodes samples into frames for the session's source, starting
// the pipeline at the first frame (whose size it then has).
type feeder struct {
	in    *ingest
	dec   *av.VideoDecoder
	uw    unwrapper
	index int64
}

// frame decodes one encoded frame with RTP timestamp ts.
func (fd *feeder) frame(data []byte, ts uint32) error {
	captured := time.Now()
	pts := fd.uw.next(ts)
	in := fd.in
	in.mu.Lock()
	src := in.src
	in.mu.Unlock()
	f := newFrame(src)
	ok, err := fd.dec.Decode(data, pts, f)
	if err != nil || !ok {
		if src != nil {
			src.put(f)
		}
		return err
	}
	f.TimeBase, f.Captured, f.Index = clock90k, captured, fd.index
	fd.index++
	if src == nil {
		if src, err = in.s.startPipeline(in, f.Width, f.Height); err != nil {
			in.s.log.Error("whip: cannot start the stream", "err", err)
			in.s.endIngest(in)
			return errSessionEnd
		}
	}
	if f.Width != src.info.Width || f.Height != src.info.Height {
		in.resized.Store(true)
		in.setCur(nil)
	}
	src.push(f)
	return nil
}
