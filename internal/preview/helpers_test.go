package preview

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/known"
)

// invertWorkflow is the camera inverted.
const invertWorkflow = `{
  "1": {"class_type": "LoadImage", "inputs": {"image": "frame.png"}},
  "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
  "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
}`

// needAV skips without FFmpeg (a CGO_ENABLED=0 build).
func needAV(t testing.TB) {
	if !av.Available {
		t.Skip("built without cgo: no FFmpeg to encode and decode video")
	}
}

func testCompiler(t testing.TB) compiler.Config {
	t.Helper()
	s := known.Schemas()
	r := nodes.NewRegistry()
	builtin.Register(r)
	unl, err := builtin.FolderLists(s, "")
	if err != nil {
		t.Fatal(err)
	}
	return compiler.Config{Schemas: s, Registry: r, Unlisted: unl, MaxBytes: 1 << 30}
}

// signal posts an SDP offer (gathered in full) to url and applies the
// answer; it returns the Location.
func signal(t testing.TB, pc *webrtc.PeerConnection, url, token string) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/sdp" {
		t.Fatalf("POST %s: %s %s", url, resp.Status, body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("Location")
}

func testAPI(t testing.TB) *webrtc.API {
	t.Helper()
	api, err := newAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// receiver is a WHEP client: it decodes the frames it receives.
type receiver struct {
	mu     sync.Mutex
	frames map[int64]*media.Frame // by PTS (90 kHz, from the first); nil: not kept
	at     map[int64]time.Time    // when each PTS was decoded
}

func startReceiver(t testing.TB, url, token string) (*receiver, *webrtc.PeerConnection) {
	t.Helper()
	pc, err := testAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	rc := &receiver{frames: map[int64]*media.Frame{}, at: map[int64]time.Time{}}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { go rc.read(t, pc, tr) })
	signal(t, pc, url, token)
	return rc, pc
}

func (rc *receiver) read(t testing.TB, pc *webrtc.PeerConnection, tr *webrtc.TrackRemote) {
	codec, depack := depacketizer(tr.Codec().MimeType)
	dec, err := av.NewVideoDecoder(codec)
	if err != nil {
		t.Error(err)
		return
	}
	defer dec.Close()
	_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
	asm := &assembler{depack: depack}
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		data, ts, _ := asm.push(pkt)
		if data == nil {
			continue
		}
		f := &media.Frame{}
		if ok, err := dec.Decode(data, int64(ts), f); err != nil || !ok {
			continue
		}
		rc.mu.Lock()
		rc.at[int64(ts)] = time.Now()
		if rc.frames != nil {
			rc.frames[int64(ts)] = f
		}
		rc.mu.Unlock()
	}
}

// publisher is a WHIP client sending frames of FFmpeg's testsrc2 (read
// through av), encoded and packetised as the server does, at 30 fps; sent keeps each frame's picture by its RTP offset.
type publisher struct {
	pc   *webrtc.PeerConnection
	sink *trackSink // the server's own packetiser: RTP timestamps are the PTS
	key  atomic.Bool
	mu   sync.Mutex
	sent map[int64][]byte // nil: pictures not kept
	at   map[int64]time.Time
}

func startPublisher(t testing.TB, url, token, codec string) *publisher {
	t.Helper()
	pc, err := testAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	mime := map[string]string{"vp8": webrtc.MimeTypeVP8, "h264": webrtc.MimeTypeH264}[codec]
	cap := webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000}
	if codec == "h264" {
		cap.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	}
	track, err := webrtc.NewTrackLocalStaticRTP(cap, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{pc: pc, sent: map[int64][]byte{}, at: map[int64]time.Time{}}
	p.sink = newTrackSink(track, codec, &p.key, &rtpOut{})
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, k := range pkts {
				if _, ok := k.(*rtcp.PictureLossIndication); ok {
					p.key.Store(true)
				}
			}
		}
	}()
	signal(t, pc, url, token)
	return p
}

// run sends frames until ctx ends, or n frames when n > 0.
func (p *publisher) run(ctx context.Context, t testing.TB, codec string, n int64) {
	src, err := av.OpenSource("testsrc2=size=320x240:rate=30", av.SourceOptions{Format: "lavfi"})
	if err != nil {
		t.Error(err)
		return
	}
	defer src.Close()
	defer p.sink.Close()
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	var f media.Frame
	for i := int64(0); ctx.Err() == nil && (n <= 0 || i < n); i++ {
		if err := src.ReadFrame(ctx, &f); err != nil {
			return
		}
		f.PTS, f.TimeBase = i*3000, clock90k
		p.mu.Lock()
		if p.sent != nil {
			p.sent[f.PTS] = append([]byte(nil), f.RGB...)
		}
		p.at[f.PTS] = time.Now()
		p.mu.Unlock()
		if err := p.sink.WriteFrame(&f); err != nil {
			t.Error(err)
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

func meanAbs(a, b []byte, invert bool) float64 {
	s := 0
	for i := range a {
		x := int(b[i])
		if invert {
			x = 255 - x
		}
		d := int(a[i]) - x
		s += max(d, -d)
	}
	return float64(s) / float64(len(a))
}
