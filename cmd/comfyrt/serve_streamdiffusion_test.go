package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle"
	"comfyrt/internal/trickle/trickletest"

	dto "github.com/prometheus/client_model/go"
)

// sdTurboUNet is the UNet of the pack's img2img_no_acceleration_turbo
// workflow (checkpoint sd_turbo), as serve's model metrics name it.
const (
	sdTurboUNet = "checkpoints/sd_turbo/unet/model.onnx"
	sdTurboText = "checkpoints/sd_turbo/text_encoder/model.onnx"
)

// TestBinary_ServeStreamDiffusion: `comfyrt serve` as a real process runs
// pschroedl/ComfyUI-StreamDiffusion's img2img_no_acceleration_turbo
// workflow, unchanged, on tiny models as a live stream: output frames come
// out with the UNet running (the stream's warm-up and then one batched run
// per frame); a new prompt on the control channel is taken (encoded, the
// sampler's stream starting afresh on it) without any model session loaded
// anew, and frames keep coming with the UNet running; the stream reports
// no error.
func TestBinary_ServeStreamDiffusion(t *testing.T) {
	needORTBinary(t)
	r1NeedFFmpeg(t)
	testkit.NeedTools(t, "ffmpeg")
	wf, err := os.ReadFile(testkit.CorpusFile(t, "pschroedl-ComfyUI-StreamDiffusion/img2img_no_acceleration_turbo_API_FORMAT.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	streamDiffusionModels(t, models)
	seg, err := os.ReadFile(liveinClip(t, dir, "seg.ts", 30, "libx264"))
	if err != nil {
		t.Fatal(err)
	}
	orch := trickletest.New(t)
	base, stop := startServe(t, "--models-dir", models)
	e := &sdServe{t: t, base: base, orch: orch}
	control := sdServeStream(t, base, orch, "sd1", string(wf), seg)
	ran := func(frames, unet float64) func(map[string]*dto.MetricFamily) bool {
		return func(f map[string]*dto.MetricFamily) bool {
			return metricAt(f, "comfyrt_frames_out_total", "stream", "sd1") >= frames && metricAt(f, "comfyrt_model_runs_total", "model", sdTurboUNet) >= unet
		}
	}
	fams := e.scrape(ran(3, 3))
	loaded, texts := metricAt(fams, "comfyrt_onnxruntime_sessions_loaded"), metricAt(fams, "comfyrt_model_runs_total", "model", sdTurboText)
	if texts < 1 {
		t.Fatalf("the text encoder ran %v times at the start", texts)
	}
	if loaded < 4 { // text encoder, UNet, TAESD encoder and decoder
		t.Fatalf("%v ONNX Runtime sessions loaded, want at least the four models\n%s", loaded, strings.Join(metricLines(fams, "comfyrt_model_"), "\n"))
	}

	var w map[string]map[string]any
	if err := json.Unmarshal(wf, &w); err != nil {
		t.Fatal(err)
	}
	w["184"]["inputs"].(map[string]any)["prompt"] = "a watercolour city at dusk"
	upd, _ := json.Marshal(map[string]any{"prompt": w})
	cp := trickle.NewPublisher(trickle.NewClient(trickle.Options{}), control, trickle.PublisherOptions{ContentType: "application/json"})
	defer cp.Close()
	if err := cp.Write(upd); err != nil {
		t.Fatal(err)
	}
	fams = e.scrape(func(f map[string]*dto.MetricFamily) bool {
		return metricAt(f, "comfyrt_stream_params_updates_total", "stream", "sd1") >= 1
	})
	out, unet := metricAt(fams, "comfyrt_frames_out_total", "stream", "sd1"), metricAt(fams, "comfyrt_model_runs_total", "model", sdTurboUNet)
	fams = e.scrape(ran(out+3, unet+3))
	if v := metricAt(fams, "comfyrt_model_runs_total", "model", sdTurboText); v <= texts {
		t.Errorf("the text encoder ran %v times after the prompt update, %v before: the new prompt was not encoded", v, texts)
	}
	if v := metricAt(fams, "comfyrt_onnxruntime_sessions_loaded"); v != loaded {
		t.Errorf("%v ONNX Runtime sessions loaded after the prompt update, %v before: the new plan should share them", v, loaded)
	}
	var st struct {
		Streams []struct {
			ID        string `json:"stream_id"`
			LastError string `json:"last_error"`
		} `json:"streams"`
	}
	r1Get(t, base+"/stream/status", &st)
	if len(st.Streams) != 1 || st.Streams[0].LastError != "" {
		t.Errorf("stream status %+v, want sd1 without an error", st.Streams)
	}
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	} else if t.Failed() {
		t.Logf("serve's log:\n%s\nmodels:\n%s", stderr, strings.Join(metricLines(fams, "comfyrt_model_", "comfyrt_onnxruntime_"), "\n"))
	}
}
