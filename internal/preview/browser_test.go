package preview

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"comfyrt/internal/testkit"
)

// identityWorkflow passes the camera through.
const identityWorkflow = `{
  "1": {"class_type": "LoadImage", "inputs": {"image": "frame.png"}},
  "3": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}
}`

// badWorkflow sets ImageBlur's blur_radius above its maximum (31).
const badWorkflow = `{
  "1": {"class_type": "LoadImage", "inputs": {"image": "frame.png"}},
  "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 500}},
  "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
}`

// chromium finds Debian's chromium, or skips.
func chromium(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on the PATH (make test installs Debian's chromium when it can: COMFYRT_WITH_BROWSER=1 scripts/setup.sh)")
	return ""
}

// fakeCamera makes the Y4M the fake camera plays: a picture of the sample
// clip at 320×240, held for 10 s at 15 fps (Chromium loops it).
func fakeCamera(t *testing.T) string {
	testkit.NeedTools(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), "camera.y4m")
	// One picture of the sample clip, held: the page compares the output
	// with the camera frame it shows now, and frames are not aligned, so a
	// moving picture would make the verdict depend on the latency (which
	// grows on a loaded machine); a held one does not.
	cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-i", filepath.Join(testkit.Root(), "testdata/media/sample.mp4"),
		"-vf", "trim=start_frame=12:end_frame=13,setpts=PTS-STARTPTS,scale=320:240,loop=loop=149:size=1,fps=15",
		"-frames:v", "150", "-pix_fmt", "yuv420p", "-an", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	return out
}

func browserFor(t testing.TB, camera string) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", camera),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 10*time.Minute)
	return ctx, func() { tcancel(); cancel(); acancel() }
}

type verdict struct {
	Same     float64 `json:"same"`
	Inverted float64 `json:"inverted"`
	Frames   int     `json:"frames"`
}

// waitVerdict polls the page's comparison until ok says it holds; it
// returns the last verdict and how long it took.
func waitVerdict(t *testing.T, ctx context.Context, limit time.Duration, ok func(verdict) bool) (verdict, time.Duration, bool) {
	t0 := time.Now()
	var v verdict
	for time.Since(t0) < limit {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[*verdict](`window.comfyrt ? window.comfyrt.compare() : null`))
		if err != nil {
			t.Fatal(err)
		}
		if got != nil {
			v = *got
			if ok(v) {
				return v, time.Since(t0), true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return v, time.Since(t0), false
}

// verdictLimit bounds the wait for a change to show; the time it took is
// logged (about 0.1 s here alone), the limit leaves room for a loaded
// machine.
const verdictLimit = 20 * time.Second

func inverted(v verdict) bool { return v.Frames > 10 && v.Inverted*3 < v.Same && v.Inverted < 40 }
func passed(v verdict) bool   { return v.Frames > 10 && v.Same*3 < v.Inverted && v.Same < 40 }

// load drops a workflow on the page (its loadWorkflow, as the drop
// handler calls it) and returns the server's answer.
func load(t *testing.T, ctx context.Context, name, text string) loadResult {
	js, _ := json.Marshal(text)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[loadResult](`window.comfyrt.loadWorkflow("`+name+`", `+string(js)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type loadResult struct {
	Status int            `json:"status"`
	Data   map[string]any `json:"data"`
}

// TestBrowser runs the page in headless Chromium with a fake camera
// playing the sample clip: the returned video shows the invert, a
// workflow swap takes effect with the connection kept, and a bad workflow
// shows its errors per node while the previous one keeps running.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	needAV(t)
	camera := fakeCamera(t)
	const token = "browser-token"
	srv, err := New(Config{Compiler: testCompiler(t), Workflow: []byte(invertWorkflow), WorkflowName: "invert.json", Token: token, Loopback: true,
		Examples: map[string][]byte{"identity.json": []byte(identityWorkflow)}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx, cancel := browserFor(t, camera)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/#token="+token)); err != nil {
		t.Fatal(err)
	}
	v, took, ok := waitVerdict(t, ctx, 40*time.Second, inverted)
	t.Logf("invert: %+v after %v; stats %+v", v, took, srv.Stats())
	if !ok {
		t.Fatalf("the page did not show the inverted camera: %+v", v)
	}
	res := load(t, ctx, "identity.json", identityWorkflow)
	if res.Status != 200 || res.Data["swapped"] != true {
		t.Fatalf("swap: %+v", res)
	}
	v, took, ok = waitVerdict(t, ctx, verdictLimit, passed)
	t.Logf("swap to identity: %+v after %v", v, took)
	if !ok {
		t.Fatalf("after the swap the output is not the camera: %+v", v)
	}

	res = load(t, ctx, "bad.json", badWorkflow)
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#errors li[data-node="2"]`)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bad workflow: %d, shown %q", res.Status, shown)
	if res.Status != 422 || !strings.Contains(shown, "blur_radius") {
		t.Fatalf("bad workflow: status %d, errors shown %q", res.Status, shown)
	}
	time.Sleep(time.Second)
	if v, _, ok = waitVerdict(t, ctx, verdictLimit, passed); !ok {
		t.Fatalf("after the bad workflow the previous one no longer runs: %+v", v)
	}
	slider(t, ctx)
	// Pick an example from the page's list (the blend is at 1: inverted).
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const sel = document.getElementById("examples");
		sel.value = "identity.json";
		sel.dispatchEvent(new Event("change"));
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if v, took, ok := waitVerdict(t, ctx, verdictLimit, passed); !ok {
		t.Fatalf("picking the identity example did not take effect: %+v", v)
	} else {
		t.Logf("example identity.json picked: %+v after %v", v, took)
	}
	if connected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.comfyrt.state.connected`)); err != nil || !connected {
		t.Fatalf("the connection dropped (connected %v, %v)", connected, err)
	}
	if st := srv.Stats(); st.Swaps < 3 {
		t.Errorf("swaps: %+v", st)
	}
}

// slider loads the blend workflow (factor 0: the camera), then moves the
// page's blend_factor slider to 1 (the inverse) as a user would.
func slider(t *testing.T, ctx context.Context) {
	if res := load(t, ctx, "blend.json", blendWorkflow); res.Status != 200 {
		t.Fatalf("blend workflow: %+v", res)
	}
	if v, _, ok := waitVerdict(t, ctx, verdictLimit, passed); !ok {
		t.Fatalf("blend_factor 0 does not show the camera: %+v", v)
	}
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const el = document.querySelector('input[data-node="3"][data-input="blend_factor"]');
		el.value = 1;
		el.dispatchEvent(new Event("change"));
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	v, took, ok := waitVerdict(t, ctx, verdictLimit, inverted)
	t.Logf("slider blend_factor 0 → 1: %+v after %v", v, took)
	if !ok {
		t.Fatalf("moving the slider did not take effect: %+v", v)
	}
	if p := os.Getenv("COMFYRT_PREVIEW_SCREENSHOT"); p != "" { // docs/preview.png
		time.Sleep(2 * time.Second) // the stats poll once a second
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

}
