package live_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/live"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/internal/server"
	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle"
	"comfyrt/internal/trickle/trickletest"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

const (
	invertWF   = `{"1":{"class_type":"LoadTensor","inputs":{}},"2":{"class_type":"ImageInvert","inputs":{"image":["1",0]}},"3":{"class_type":"SaveTensor","inputs":{"images":["2",0]}}}`
	identityWF = `{"1":{"class_type":"LoadTensor","inputs":{}},"2":{"class_type":"SaveTensor","inputs":{"images":["1",0]}}}`
	badWF      = `{"1":{"class_type":"Nope","inputs":{}}}`
	size       = 384
	fps        = 30
)

func needAV(t *testing.T) {
	t.Helper()
	if !av.Available {
		t.Skip("built without FFmpeg")
	}
	testkit.NeedTools(t, "ffprobe")
}

func compilerConfig(t *testing.T) compiler.Config {
	s := schema.NewSet()
	s.Merge(builtin.Schemas())
	full := nodes.NewRegistry()
	builtin.Register(full)
	// The builtin classes, with EmptyImage failing at run for color
	// failColor (a static step that compiles but fails while it loads).
	r := nodes.NewRegistry()
	for _, c := range full.Classes() {
		f, _ := full.Lookup(c)
		if c == "EmptyImage" {
			inner := f
			f = func(cfg nodes.Config) (nodes.Kernel, error) {
				k, err := inner(cfg)
				if err != nil {
					return k, err
				}
				switch fmt.Sprint(cfg.Widgets["color"]) {
				case strconv.Itoa(failColor):
					return failKernel{k}, nil
				case strconv.Itoa(brokenColor):
					if broken.Load() {
						return failKernel{k}, nil
					}
				}
				return k, nil
			}
		}
		r.MustRegister(c, f)
	}
	unl, err := builtin.FolderLists(s, "")
	if err != nil {
		t.Fatal(err)
	}
	return compiler.Config{Schemas: s, Registry: r, Unlisted: unl, Static: compiler.NewStaticCache()}
}

// inputSegments encodes n synthetic stamped frames (frame i carries stamp
// i) as one MPEG-TS stream with a keyframe every second and cuts it into
// 1 s segments at the keyframes.
func inputSegments(t *testing.T, n int) [][]byte {
	t.Helper()
	name := filepath.Join(t.TempDir(), "in.ts")
	syn := &media.Synthetic{W: size, H: size, N: int64(n)}
	snk, err := av.CreateSink(name, syn.Info(), av.SinkOptions{Format: "mpegts", Preset: "ultrafast", GOP: fps})
	if err != nil {
		t.Fatal(err)
	}
	var f media.Frame
	for syn.ReadFrame(context.Background(), &f) == nil {
		if err := snk.WriteFrame(&f); err != nil {
			snk.Close()
			t.Fatal(err)
		}
	}
	if err := snk.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	segs := live.SplitTS(data)
	if len(segs) < n/fps {
		t.Fatalf("%d input segments for %d frames", len(segs), n)
	}
	return segs
}

// env is an orchestrator's trickle server plus comfyrt's server with the
// executor runner.
type env struct {
	t      *testing.T
	orch   *trickletest.Orchestrator
	hs     *httptest.Server
	client *trickle.Client
	mu     sync.Mutex
	logs   []string
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the runner adjusted by tune.
func newEnvWith(t *testing.T, tune func(*live.Runner)) *env {
	testkit.CheckGoroutines(t)
	e := &env{t: t}
	e.orch = trickletest.New(t)
	logger := slog.New(slog.NewTextHandler(slogWriter(func(line string) {
		e.mu.Lock()
		e.logs = append(e.logs, line)
		e.mu.Unlock()
		t.Log(line)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	runner := &live.Runner{Compiler: compilerConfig(t), SegmentDuration: time.Second, Preset: "ultrafast", Logger: logger,
		RestartDelay: 50 * time.Millisecond, MaxRestarts: 2}
	if tune != nil {
		tune(runner)
	}
	srv := server.New(server.Config{
		Runner:         runner,
		Version:        "test",
		StatusInterval: 200 * time.Millisecond, CheckInterval: 50 * time.Millisecond,
		Trickle: trickle.Options{RetryDelay: 10 * time.Millisecond},
		Logger:  logger,
	})
	e.hs = httptest.NewServer(srv.Handler())
	e.client = trickle.NewClient(trickle.Options{RetryDelay: 10 * time.Millisecond})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		e.hs.Close()
		e.client.CloseIdleConnections()
	})
	return e
}

func (e *env) channels(mid string) string { return e.orch.Channels(mid, false) }

// startWF creates the channels of stream mid, follows its events and
// output, and starts it on the workflow wf at the test size.
func (e *env) startWF(mid, wf string) (base string, saw func(string) bool, out func() [][]byte) {
	e.t.Helper()
	base = e.channels(mid)
	saw = e.events(base + "-events")
	out = e.collect(base + "-out")
	e.start(base, fmt.Sprintf(`{"prompt":%s,"width":%d,"height":%d}`, wf, size, size))
	return base, saw, out
}

func (e *env) start(base, params string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"model_id":"comfyui","params":%s,"gateway_request_id":"g1","manifest_id":"m1","stream_id":"s1"}`,
		base, base+"-out", base+"-control", base+"-events", params)
	resp, err := http.Post(e.hs.URL+"/live-video-to-video", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("start: %d %s", resp.StatusCode, b)
	}
}

func (e *env) health() string {
	resp, err := http.Get(e.hs.URL + "/health")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var m map[string]string
	json.NewDecoder(resp.Body).Decode(&m)
	return m["status"]
}

func (e *env) waitHealth(want string, d time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for e.health() != want {
		if time.Now().After(deadline) {
			e.t.Fatalf("health %s, want %s", e.health(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// collect reads a channel's segments until it ends; wait returns them.
func (e *env) collect(url string) (wait func() [][]byte) {
	sub := trickle.NewSubscriber(e.client, url, 0)
	var segs [][]byte
	done := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	go func() {
		defer close(done)
		for {
			seg, err := sub.Next(ctx)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(seg)
			seg.Close()
			if len(b) > 0 {
				segs = append(segs, b)
			}
		}
	}()
	e.t.Cleanup(func() { cancel(); sub.Close(); <-done })
	return func() [][]byte {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			e.t.Fatal("output channel did not end")
		}
		return segs
	}
}

// eventsWith reads the events channel and reports whether one contains s.
func (e *env) events(url string) (saw func(s string) bool) {
	sub := trickle.NewSubscriber(e.client, url, 0)
	var mu sync.Mutex
	var all []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			seg, err := sub.Next(context.Background())
			if err != nil {
				return
			}
			b, _ := io.ReadAll(seg)
			seg.Close()
			mu.Lock()
			all = append(all, string(b))
			mu.Unlock()
		}
	}()
	e.t.Cleanup(func() { sub.Close(); <-done })
	return func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range all {
			if strings.Contains(a, s) {
				return true
			}
		}
		return false
	}
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publish streams one input segment over d, in small chunks, as a live
// gateway does (its bytes arrive while the segment is produced).
func publish(t *testing.T, p *trickle.Publisher, seg []byte, d time.Duration) {
	t.Helper()
	w, err := p.Next()
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	const parts = 15
	step := (len(seg) + parts - 1) / parts
	for off := 0; off < len(seg); off += step {
		if _, err := w.Write(seg[off:min(off+step, len(seg))]); err != nil {
			t.Fatalf("publish: %v", err)
		}
		time.Sleep(d / parts)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// publishAll publishes segs on the stream's input channel base, each over
// d, then closes the input.
func (e *env) publishAll(t *testing.T, base string, segs [][]byte, d time.Duration) {
	t.Helper()
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{ContentType: "video/mp2t"})
	defer in.Close()
	for _, seg := range segs {
		publish(t, in, seg, d)
	}
}

// publishAsync is publishAll in a goroutine; the channel closes when it is
// done.
func (e *env) publishAsync(t *testing.T, base string, segs [][]byte, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.publishAll(t, base, segs, d)
	}()
	return done
}

type outFrame struct {
	seg      int
	pts      int64
	key      bool
	inverted bool
	stamp    int64
}

// probe checks one output segment with ffprobe (first frame a keyframe,
// frame PTS) and decodes it with av (content).
func probe(t *testing.T, dir string, i int, seg []byte) []outFrame {
	t.Helper()
	name := filepath.Join(dir, fmt.Sprintf("out%03d.ts", i))
	if err := os.WriteFile(name, seg, 0o644); err != nil {
		t.Fatal(err)
	}
	out := testkit.FFprobe(t, name, "-select_streams", "v:0", "-show_entries", "frame=key_frame,pts,pict_type", "-of", "csv=p=0")
	var frames []outFrame
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		pts, _ := strconv.ParseInt(f[1], 10, 64)
		frames = append(frames, outFrame{seg: i, key: f[0] == "1", pts: pts})
	}
	if len(frames) == 0 {
		t.Fatalf("segment %d: no frames", i)
	}
	src, err := av.OpenSource(name, av.SourceOptions{})
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	defer src.Close()
	var f media.Frame
	k := 0
	for src.ReadFrame(context.Background(), &f) == nil && k < len(frames) {
		// The synthetic picture's green is the row number: 100 on row
		// 100 (155 inverted); the mean over the row resists coding noise.
		sum := 0
		for x := 0; x < f.Width; x++ {
			sum += int(f.RGB[(100*f.Width+x)*3+1])
		}
		frames[k].inverted = sum/f.Width > 128
		frames[k].stamp = media.ReadStamp(&f, frames[k].inverted)
		k++
	}
	if k != len(frames) {
		t.Errorf("segment %d: decoded %d of %d frames", i, k, len(frames))
	}
	return frames
}

// Scenarios 14, 15, 17, 18 with the executor: real MPEG-TS in, the invert
// workflow, every output segment starts with an IDR and decodes alone,
// PTS monotonic across segments, stamps read back inverted, an invalid
// update leaves the workflow running, a valid one takes effect without a
// gap, input EOS ends the stream.
func TestExecutorStream(t *testing.T) {
	needAV(t)
	e := newEnv(t)
	segs := inputSegments(t, 10*fps)
	base, saw, out := e.startWF("m1", invertWF)
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{ContentType: "video/mp2t"})
	ctrl := trickle.NewPublisher(e.client, base+"-control", trickle.PublisherOptions{ContentType: "application/json"})
	defer ctrl.Close()
	pace := 700 * time.Millisecond
	for i, seg := range segs {
		if i == 3 {
			// Stats reach the server: latency quantiles, drops, not loading.
			resp, err := http.Get(e.hs.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !regexp.MustCompile(`comfyrt_latency_seconds_count\{stream="s1"\} [1-9]`).Match(m) {
				t.Errorf("no latency in metrics:\n%s", m)
			}
			if !strings.Contains(string(m), `comfyrt_health{status="OK"} 1`) {
				t.Errorf("health not OK while streaming:\n%s", m)
			}
		}
		if i == 4 {
			ctrl.Write([]byte(`{"prompt":` + badWF + `}`))
			waitFor(t, "the rejected update's error event", 5*time.Second, func() bool { return saw("running workflow stays") })
			ctrl.Write([]byte(fmt.Sprintf(`{"prompt":%q,"width":%d,"height":%d}`, identityWF, size, size)))
		}
		publish(t, in, seg, pace)
	}
	in.Close() // input EOS: the stream ends
	got := out()
	e.waitHealth("IDLE", 10*time.Second)

	if len(got) < 4 {
		t.Fatalf("%d output segments", len(got))
	}
	dir := t.TempDir()
	var all []outFrame
	for i, seg := range got {
		fr := probe(t, dir, i, seg)
		if !fr[0].key {
			t.Errorf("segment %d does not start with a keyframe", i)
		}
		all = append(all, fr...)
	}
	inv, plain, switches := 0, 0, 0
	for i, f := range all {
		if f.inverted {
			inv++
		} else {
			plain++
		}
		if i == 0 {
			continue
		}
		p := all[i-1]
		if f.pts <= p.pts {
			t.Errorf("pts %d after %d (segments %d, %d)", f.pts, p.pts, p.seg, f.seg)
		}
		// Startup excepted (the frames buffered while the demuxer probes
		// come at once and the latest wins), no gap above half a second.
		if f.pts-all[0].pts > 90000 && f.pts-p.pts > 90000/2 {
			t.Errorf("output gap of %v between frames (segments %d, %d)", time.Duration(f.pts-p.pts)*time.Second/90000, p.seg, f.seg)
		}
		if f.stamp <= p.stamp {
			t.Errorf("stamp %d after %d (inverted %v)", f.stamp, p.stamp, f.inverted)
		}
		if f.inverted != p.inverted {
			switches++
		}
	}
	t.Logf("%d output segments, %d frames: %d inverted, %d plain, first stamp %d, last %d", len(got), len(all), inv, plain, all[0].stamp, all[len(all)-1].stamp)
	if !all[0].inverted || all[len(all)-1].inverted || switches != 1 {
		t.Errorf("want inverted frames, then plain ones after the update: first inverted %v, last inverted %v, %d switches", all[0].inverted, all[len(all)-1].inverted, switches)
	}
	if len(all) < 3*fps { // -race and a loaded machine process fewer
		t.Errorf("only %d output frames for %d input frames", len(all), 10*fps)
	}
}

// A stream whose input is not MPEG-TS fails; the next stream on the same
// server works.
func TestStreamAfterBadOne(t *testing.T) {
	needAV(t)
	e := newEnv(t)
	segs := inputSegments(t, 3*fps)
	params := fmt.Sprintf(`{"prompt":%s,"width":%d,"height":%d}`, invertWF, size, size)

	bad := e.channels("bad")
	badOut := e.collect(bad + "-out")
	e.start(bad, params)
	in := trickle.NewPublisher(e.client, bad, trickle.PublisherOptions{})
	for i := 0; i < 3; i++ {
		in.Write(bytes.Repeat([]byte("not a transport stream "), 4000))
	}
	in.Close()
	badOut()
	e.waitHealth("IDLE", 20*time.Second)

	good := e.channels("good")
	out := e.collect(good + "-out")
	e.start(good, params)
	in = trickle.NewPublisher(e.client, good, trickle.PublisherOptions{})
	for _, seg := range segs {
		publish(t, in, seg, 300*time.Millisecond)
	}
	in.Close()
	got := out()
	if len(got) == 0 {
		t.Fatal("no output from the second stream")
	}
	fr := probe(t, t.TempDir(), 0, got[0])
	if !fr[0].key || !fr[0].inverted {
		t.Errorf("second stream's first frame: key %v inverted %v", fr[0].key, fr[0].inverted)
	}
}

// Audio is passed through: testdata/media/sample.mp4 (H.264 + AAC) as
// MPEG-TS in, video and audio out.
func TestAudioPassthrough(t *testing.T) {
	needAV(t)
	ts, err := exec.Command("ffmpeg", "-v", "error", "-i", filepath.Join("..", "..", "testdata", "media", "sample.mp4"),
		"-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "mpegts", "-").Output()
	if err != nil {
		t.Skipf("ffmpeg: %v", err)
	}
	segs := live.SplitTS(ts)
	if len(segs) == 0 {
		t.Fatal("no keyframe in the sample")
	}
	e := newEnv(t)
	base := e.channels("a1")
	out := e.collect(base + "-out")
	e.start(base, fmt.Sprintf(`{"prompt":%s,"width":%d,"height":%d}`, invertWF, size, size))
	e.publishAll(t, base, segs, 5*time.Second/time.Duration(len(segs)))
	got := out()
	if len(got) == 0 {
		t.Fatal("no output")
	}
	name := filepath.Join(t.TempDir(), "all.ts")
	os.WriteFile(name, bytes.Join(got, nil), 0o644)
	s := testkit.FFprobe(t, name, "-show_entries", "stream=codec_type,codec_name,width,height", "-of", "csv=p=0")
	t.Logf("%d output segments; streams:\n%s", len(got), s)
	if !strings.Contains(s, "h264,video,384,384") || !strings.Contains(s, "audio") {
		t.Errorf("output streams: %s", s)
	}
	for i, seg := range got {
		if fr := probe(t, t.TempDir(), i, seg); !fr[0].key {
			t.Errorf("segment %d does not start with a keyframe", i)
		}
	}
}

// failColor makes the test registry's EmptyImage fail at run;
// brokenColor makes the kernels made while broken is set fail at run (a
// kernel whose state went bad: only a fresh one works).
const (
	failColor   = 12345
	brokenColor = 0x00303A
)

var broken atomic.Bool

// blendWF blends each frame half and half with an EmptyImage of color (a
// static step; failColor and brokenColor make it fail).
func blendWF(color int) string {
	return fmt.Sprintf(`{"1":{"class_type":"LoadTensor","inputs":{}},"2":{"class_type":"EmptyImage","inputs":{"width":%d,"height":%d,"batch_size":1,"color":%d}},"3":{"class_type":"ImageBlend","inputs":{"image1":["1",0],"image2":["2",0],"blend_factor":0.5,"blend_mode":"normal"}},"4":{"class_type":"SaveTensor","inputs":{"images":["3",0]}}}`, size, size, color)
}

type failKernel struct{ nodes.Kernel }

func (failKernel) Run(_, _ []value.Value) error { return errors.New("test kernel: static step failed") }

// A workflow that compiles but whose static step fails while it loads (a
// test EmptyImage that fails at run) is reported as an error event, and in
// the status event's last_error; the stream goes on (its frames pass
// through).
func TestStaticStepFails(t *testing.T) {
	needAV(t)
	e := newEnv(t)
	segs := inputSegments(t, 3*fps)
	base, saw, out := e.startWF("f1", blendWF(failColor))
	waitFor(t, "the static step's error event", 10*time.Second, func() bool {
		return saw(`"type":"error"`) && saw("static steps failed") && saw("test kernel: static step failed")
	})
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{ContentType: "video/mp2t"})
	for _, seg := range segs {
		publish(t, in, seg, time.Second)
	}
	waitFor(t, "a status event with the error", 10*time.Second, func() bool { return saw(`"last_error":"workflow static steps failed`) })
	// The executor falls back to passthrough; the runner restarts the
	// workflow MaxRestarts (2) times, each failing again, then gives up.
	waitFor(t, "two restarts, then giving up", 10*time.Second, func() bool {
		return saw(`"type":"restart"`) && saw(`"restart_count":2`) && saw("failed again after 2 restarts")
	})
	time.Sleep(500 * time.Millisecond) // ten restart delays: room for a third
	if saw(`"restart_count":3`) {
		t.Error("more restarts than MaxRestarts")
	}
	in.Close()
	if got := out(); len(got) == 0 {
		t.Fatal("no output")
	}
	e.waitHealth("IDLE", 10*time.Second)
}

// greens decodes a TS segment and returns, per frame, the mean green of
// rows 50 and 200 (the synthetic picture has green = row number; a
// loading frame is flat grey).
func greens(t *testing.T, seg []byte) [][2]int {
	t.Helper()
	name := filepath.Join(t.TempDir(), "seg.ts")
	if err := os.WriteFile(name, seg, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := av.OpenSource(name, av.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var res [][2]int
	var f media.Frame
	for src.ReadFrame(context.Background(), &f) == nil {
		var g [2]int
		for i, row := range []int{50, 200} {
			sum := 0
			for x := 0; x < f.Width; x++ {
				sum += int(f.RGB[(row*f.Width+x)*3+1])
			}
			g[i] = sum / f.Width
		}
		res = append(res, g)
	}
	return res
}

// Scenario 15 on the first start: while a slow first workflow loads, the
// output shows flat grey loading frames (show_reloading_frame, default
// true), then the workflow's; with show_reloading_frame false it passes
// the input through meanwhile.
func TestLoadingFrame(t *testing.T) {
	needAV(t)
	e := newEnvWith(t, func(r *live.Runner) { r.LoadDelay = 2500 * time.Millisecond })
	segs := inputSegments(t, 5*fps)
	kinds := func(show string) (grey, plain, inverted int) {
		base := e.channels("l" + show)
		out := e.collect(base + "-out")
		e.start(base, fmt.Sprintf(`{"prompt":%s,"width":%d,"height":%d,"show_reloading_frame":%s}`, invertWF, size, size, show))
		e.publishAll(t, base, segs, 900*time.Millisecond)
		last := ""
		for _, seg := range out() {
			for _, g := range greens(t, seg) {
				k := ""
				switch {
				case abs(g[0]-127) < 12 && abs(g[1]-127) < 12:
					k, grey = "grey", grey+1
				case abs(g[0]-50) < 12 && abs(g[1]-200) < 12:
					k, plain = "plain", plain+1
				case abs(g[0]-205) < 12 && abs(g[1]-55) < 12:
					k, inverted = "inverted", inverted+1
				default:
					t.Errorf("show_reloading_frame %s: frame greens %v", show, g)
				}
				if k != last && last == "inverted" {
					t.Errorf("show_reloading_frame %s: %s frame after the workflow ran", show, k)
				}
				last = k
			}
		}
		t.Logf("show_reloading_frame %s: %d grey, %d plain, %d inverted frames", show, grey, plain, inverted)
		e.waitHealth("IDLE", 10*time.Second)
		return
	}
	if grey, plain, inv := kinds("true"); grey == 0 || plain != 0 || inv == 0 {
		t.Errorf("show_reloading_frame true: want grey frames then inverted ones")
	}
	if grey, plain, inv := kinds("false"); grey != 0 || plain == 0 || inv == 0 {
		t.Errorf("show_reloading_frame false: want plain (passthrough) frames then inverted ones")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// A workflow whose kernels went bad (they fail on every frame) falls back
// to passthrough; the runner restarts it afresh, the new kernels work, and
// the restart is reported: a restart event with the errors as its logs,
// the status event's restart_count, last_restart_time and (once)
// last_restart_logs, and /metrics.
func TestRestartRecovers(t *testing.T) {
	needAV(t)
	broken.Store(true)
	defer broken.Store(false)
	// A restart delay long enough for the test to mend the kernels once it
	// sees the passthrough.
	e := newEnvWith(t, func(r *live.Runner) { r.RestartDelay = 1500 * time.Millisecond })
	segs := inputSegments(t, 6*fps)
	base, saw, out := e.startWF("r1", blendWF(brokenColor))
	pubDone := e.publishAsync(t, base, segs, time.Second)
	waitFor(t, "the passthrough error", 10*time.Second, func() bool { return saw("fails on every frame") })
	broken.Store(false) // kernels made from now on work
	waitFor(t, "a restart event", 15*time.Second, func() bool {
		return saw(`"type":"restart"`) && saw(`"restart_count":1`) && saw(`"restart_logs":["`) && saw("test kernel: static step failed")
	})
	waitFor(t, "a status event with the restart", 15*time.Second, func() bool {
		return saw(`"last_restart_logs":["`) && saw(`"last_restart_time":1`)
	})
	resp, err := http.Get(e.hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "comfyrt_stream_restarts_total{") || !regexp.MustCompile(`comfyrt_stream_restarts_total\{[^}]*\} 1\b`).Match(m) {
		t.Errorf("metrics without the restart:\n%s", m)
	}
	<-pubDone
	got := out()
	if len(got) < 3 {
		t.Fatalf("%d output segments", len(got))
	}
	// Passthrough keeps row 200's green at 200; the restarted workflow
	// blends it with green 0x30: (200+48)/2 = 124.
	last := greens(t, got[len(got)-1])
	if len(last) == 0 {
		t.Fatal("no frames in the last segment")
	}
	for i, g := range last {
		if g[1] < 114 || g[1] > 134 {
			t.Fatalf("last segment frame %d: row 200 green %d, want about 124 (the workflow runs again)", i, g[1])
		}
	}
	if saw(`"restart_count":2`) {
		t.Error("restarted twice: the first restart should have recovered")
	}
}

// A params update that arrives while a restart waits its delay wins: the
// restart is dropped (no restart event), and the update's workflow runs
// (its frames come out inverted).
func TestUpdateCancelsRestart(t *testing.T) {
	needAV(t)
	e := newEnvWith(t, func(r *live.Runner) { r.RestartDelay = 1500 * time.Millisecond })
	segs := inputSegments(t, 5*fps)
	base, saw, out := e.startWF("u1", blendWF(failColor))
	ctrl := trickle.NewPublisher(e.client, base+"-control", trickle.PublisherOptions{ContentType: "application/json"})
	defer ctrl.Close()
	pubDone := e.publishAsync(t, base, segs, time.Second)
	waitFor(t, "the passthrough error", 10*time.Second, func() bool { return saw("fails on every frame") })
	ctrl.Write([]byte(fmt.Sprintf(`{"prompt":%q,"width":%d,"height":%d}`, invertWF, size, size)))
	<-pubDone
	got := out()
	if saw(`"type":"restart"`) {
		t.Error("the restart scheduled before the update still ran")
	}
	if len(got) < 2 {
		t.Fatalf("%d output segments", len(got))
	}
	fr := probe(t, t.TempDir(), len(got)-1, got[len(got)-1])
	for i, f := range fr {
		if !f.inverted {
			t.Fatalf("last segment frame %d not inverted: the update did not run", i)
		}
	}
}
