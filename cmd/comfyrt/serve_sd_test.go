package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle"
	"comfyrt/internal/trickle/trickletest"

	dto "github.com/prometheus/client_model/go"
)

// The models of ComfyStream's sd15-tensorrt-api.json (controlNetModels),
// as serve's model metrics name them.
const (
	sdTextModel = "text_encoders/CLIPText/model.fp16/model.onnx"
	sdUNetModel = "tensorrt/static-dreamshaper8_SD15_$stat-b-1-h-512-w-512_00001_.onnx"
)

// sdServeStream starts stream id running wf through the BYOC contract and
// feeds it seg; it returns the control channel's URL.
func sdServeStream(t *testing.T, base string, orch *trickletest.Orchestrator, id, wf string, seg []byte) string {
	t.Helper()
	ch := orch.Channels(id, false)
	start := fmt.Sprintf(`{"gateway_request_id":%q,"subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"params":{"prompt":%s}}`,
		id, ch, ch+"-out", ch+"-control", ch+"-events", wf)
	if code, body := budgetPost(t, base+"/stream/start", start); code != http.StatusOK {
		t.Fatalf("/stream/start %s: %d %s", id, code, body)
	}
	in := trickle.NewPublisher(trickle.NewClient(trickle.Options{}), ch, trickle.PublisherOptions{ContentType: "video/mp2t"})
	// A publisher sends the segment (a second of frames) once a second
	// until the test ends, as a live source would.
	done, fed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(fed)
		for {
			if err := in.Write(seg); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		in.Close()
		<-fed
	})
	return ch + "-control"
}

// sdServe is a serve process under TestBinary_ServeSDStream and what the
// phases share.
type sdServe struct {
	t      *testing.T
	base   string
	orch   *trickletest.Orchestrator
	wf     []byte
	seg    []byte
	loaded float64 // ONNX Runtime sessions loaded by the first stream
}

// scrape waits for /metrics to satisfy ready and returns its families.
func (e *sdServe) scrape(ready func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	e.t.Helper()
	return metricsParse(e.t, metricsWait(e.t, e.base+"/metrics", nil, func() string { return "" }, ready))
}

// sdRan is true once stream id wrote frames and the UNet ran unetRuns times
// (frames pass through while a workflow loads: frames alone prove nothing).
func sdRan(id string, frames, unetRuns float64) func(map[string]*dto.MetricFamily) bool {
	return func(f map[string]*dto.MetricFamily) bool {
		v, _ := metricsValue(f, "comfyrt_frames_out_total", "stream", id)
		u, _ := metricsValue(f, "comfyrt_model_runs_total", "model", sdUNetModel)
		return v >= frames && u >= unetRuns
	}
}

func metricAt(f map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	v, _ := metricsValue(f, name, labels...)
	return v
}

// TestBinary_ServeSDStream: `comfyrt serve` as a real process runs the
// corpus's ComfyStream SD1.5 workflow (TensorRTLoader, CLIPLoader, two
// prompts, the frame's depth through a ControlNet, KSampler lcm, TAESD
// decode) on tiny models as a live stream: output frames come out; a
// prompt change on the control channel re-runs the text encoder once (the
// changed prompt; the unchanged negative one is adopted) and no model
// session is loaded anew; a second stream of the same workflow shares
// every loaded ONNX Runtime session of the first (serve's model metrics).
func TestBinary_ServeSDStream(t *testing.T) {
	needORTBinary(t)
	r1NeedFFmpeg(t)
	testkit.NeedTools(t, "ffmpeg")
	e := &sdServe{t: t, orch: trickletest.New(t)}
	var err error
	if e.wf, err = os.ReadFile(testkit.CorpusFile(t, "comfystream/sd15-tensorrt-api.json")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	controlNetModels(t, models)
	if e.seg, err = os.ReadFile(liveinClip(t, dir, "seg.ts", 30, "libx264")); err != nil {
		t.Fatal(err)
	}
	var stop func() (error, string)
	e.base, stop = startServe(t, "--models-dir", models, "--capacity", "2")
	control := sdServeStream(t, e.base, e.orch, "g1", string(e.wf), e.seg)
	fams := e.scrape(sdRan("g1", 3, 3))
	if v := metricAt(fams, "comfyrt_model_runs_total", "model", sdTextModel); v != 2 {
		t.Fatalf("text encoder ran %v times at the start, want 2 (the two prompts)", v)
	}
	if e.loaded = metricAt(fams, "comfyrt_onnxruntime_sessions_loaded"); e.loaded < 5 {
		t.Fatalf("%v ONNX Runtime sessions loaded; want the five models\n%s", e.loaded, strings.Join(metricLines(fams, "comfyrt_model_", "comfyrt_onnxruntime_"), "\n"))
	}
	fams = e.promptChange(control)
	fams = e.secondStream(fams)
	var st struct {
		Streams []struct {
			ID        string `json:"stream_id"`
			LastError string `json:"last_error"`
		} `json:"streams"`
	}
	r1Get(t, e.base+"/stream/status", &st)
	for _, s := range st.Streams {
		if s.LastError != "" {
			t.Errorf("stream %s: %s", s.ID, s.LastError)
		}
	}
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	} else if t.Failed() {
		t.Logf("serve's log:\n%s\nmodels:\n%s", stderr, strings.Join(metricLines(fams, "comfyrt_model_", "comfyrt_onnxruntime_"), "\n"))
	}
}

// promptChange sends a new positive prompt on g1's control channel and
// checks that only it re-ran once the update is in and frames ran again.
func (e *sdServe) promptChange(control string) map[string]*dto.MetricFamily {
	t := e.t
	var w map[string]map[string]any
	if err := json.Unmarshal(e.wf, &w); err != nil {
		t.Fatal(err)
	}
	w["5"]["inputs"].(map[string]any)["text"] = "a red fox in the snow"
	upd, _ := json.Marshal(map[string]any{"prompt": w})
	cp := trickle.NewPublisher(trickle.NewClient(trickle.Options{}), control, trickle.PublisherOptions{ContentType: "application/json"})
	defer cp.Close()
	if err := cp.Write(upd); err != nil {
		t.Fatal(err)
	}
	fams := e.scrape(func(f map[string]*dto.MetricFamily) bool {
		return metricAt(f, "comfyrt_stream_params_updates_total", "stream", "g1") >= 1
	})
	out, unet := metricAt(fams, "comfyrt_frames_out_total", "stream", "g1"), metricAt(fams, "comfyrt_model_runs_total", "model", sdUNetModel)
	fams = e.scrape(sdRan("g1", out+3, unet+3))
	if v := metricAt(fams, "comfyrt_model_runs_total", "model", sdTextModel); v != 3 {
		t.Errorf("text encoder ran %v times after the prompt change, want 3 (only the changed prompt again)", v)
	}
	if v := metricAt(fams, "comfyrt_onnxruntime_sessions_loaded"); v != e.loaded {
		t.Errorf("%v ONNX Runtime sessions loaded after the update, %v before: the new plan should share them", v, e.loaded)
	}
	return fams
}

// secondStream starts g2 on the same workflow and checks that its
// sessions hold the first stream's loads.
func (e *sdServe) secondStream(fams map[string]*dto.MetricFamily) map[string]*dto.MetricFamily {
	t := e.t
	refs, unet := metricAt(fams, "comfyrt_onnxruntime_session_refs"), metricAt(fams, "comfyrt_model_runs_total", "model", sdUNetModel)
	sdServeStream(t, e.base, e.orch, "g2", string(e.wf), e.seg)
	fams = e.scrape(func(f map[string]*dto.MetricFamily) bool {
		return sdRan("g2", 3, unet+3)(f) && metricAt(f, "comfyrt_model_sessions_open", "model", sdUNetModel) >= 2
	})
	if v := metricAt(fams, "comfyrt_onnxruntime_sessions_loaded"); v != e.loaded {
		t.Errorf("%v ONNX Runtime sessions loaded with two streams, %v with one: want them shared", v, e.loaded)
	}
	if v := metricAt(fams, "comfyrt_onnxruntime_session_refs"); v <= refs {
		t.Errorf("session references %v with two streams, %v with one: want the second stream's sessions on the same loads", v, refs)
	}
	return fams
}

// metricLines lists the series of the families with one of the prefixes.
func metricLines(fams map[string]*dto.MetricFamily, prefixes ...string) []string {
	var out []string
	for name, f := range fams {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				for _, m := range f.GetMetric() {
					out = append(out, fmt.Sprintf("%s %v %v %v", name, m.GetLabel(), m.GetCounter().GetValue(), m.GetGauge().GetValue()))
				}
			}
		}
	}
	return out
}
