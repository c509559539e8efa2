package preview

import (
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"comfyrt/internal/testkit"
)

// stampFrames is the length of the stamped camera clip (20 s at 30 fps);
// the fake camera loops it, so its counter wraps there.
const stampFrames = 600

// stampedCamera makes a Y4M of the sample clip (looped to 20 s, 320×240,
// 30 fps) with each frame's index burnt into its top 16 rows as 12 blocks
// of 20 pixels, white for a 1 bit.
func stampedCamera(tb testing.TB) string {
	testkit.NeedTools(tb, "ffmpeg")
	out := filepath.Join(tb.TempDir(), "stamped.y4m")
	bits := `if(lt(Y\,16)\,if(mod(floor(N/pow(2\,floor(X/20)))\,2)\,235\,16)\,lum(X\,Y))`
	vf := "scale=320:240,fps=30,format=yuv420p,geq=lum='" + bits + `':cb='if(lt(Y\,16)\,128\,cb(X\,Y))':cr='if(lt(Y\,16)\,128\,cr(X\,Y))'`
	cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-stream_loop", "3", "-i", filepath.Join(testkit.Root(), "testdata/media/sample.mp4"),
		"-vf", vf, "-an", "-t", "20", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg: %v: %s", err, b)
	}
	return out
}

type stamps struct {
	Camera *int `json:"camera"`
	Output *int `json:"output"`
}

// BenchmarkBrowserGlassToGlass runs the page in headless Chromium with the
// stamped camera and the identity workflow, and samples, every 100 ms (one
// op), the counter shown by the camera's <video> and by the output's: their
// difference is the glass-to-glass latency in frames (33.3 ms each), from
// the local preview to the returned picture in the same page. It reports
// p50 and p95 and the plan's own time per frame; -benchtime=600x is a
// minute.
//
//	go test -run='^$' -bench=BrowserGlassToGlass -benchtime=600x ./internal/preview
func BenchmarkBrowserGlassToGlass(b *testing.B) {
	needAV(b)
	camera := stampedCamera(b)
	srv, err := New(Config{Compiler: testCompiler(b), Workflow: []byte(identityWorkflow), Loopback: true, MaxFPS: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx, cancel := browserFor(b, camera)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/")); err != nil {
		b.Fatal(err)
	}
	// Wait for both pictures.
	for deadline := time.Now().Add(40 * time.Second); ; {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[stamps](`window.comfyrt ? window.comfyrt.stamps() : {}`))
		if err != nil {
			b.Fatal(err)
		}
		if s.Camera != nil && s.Output != nil && srv.Stats().FramesOut > 30 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("no returned picture within 40 s: %+v", srv.Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.ResetTimer()
	var lat []float64
	seen := map[int]bool{} // camera counters read: they must move
	for range b.N {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[stamps](`window.comfyrt.stamps()`))
		if err != nil {
			b.Fatal(err)
		}
		if s.Camera != nil && s.Output != nil {
			seen[*s.Camera] = true
			d := (*s.Camera - *s.Output + stampFrames) % stampFrames
			if d < stampFrames/2 { // else a misread counter
				lat = append(lat, float64(d)*1000/30)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	if len(lat) == 0 || (b.N >= 10 && len(seen) < b.N/4) {
		b.Fatalf("%d samples, %d distinct camera counters: the stamps are not read", len(lat), len(seen))
	}
	slices.Sort(lat)
	st := srv.Stats()
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[int(0.95*float64(len(lat)-1))], "p95-ms")
	b.ReportMetric(st.PlanMS, "plan-ms")
	b.ReportMetric(lat[len(lat)/2]-st.PlanMS, "transport-p50-ms")
	b.ReportMetric(float64(len(lat))/float64(b.N), "read")
}
