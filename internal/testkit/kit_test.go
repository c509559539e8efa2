package testkit

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestCheckGoroutines_Leak: a test that leaves a goroutine running fails
// with "goroutine leak" and the stacks (run in a child process, since the
// failure is the point).
func TestCheckGoroutines_Leak(t *testing.T) {
	if os.Getenv("TESTKIT_LEAK_CHILD") == "1" {
		CheckGoroutines(t)
		block := make(chan struct{})
		go func() { <-block }()
		return
	}
	if testing.Short() {
		t.Skip("waits LeakDeadline in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckGoroutines_Leak$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTKIT_LEAK_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the leaking child passed:\n%s", out)
	}
	if !strings.Contains(string(out), "goroutine leak") || !strings.Contains(string(out), "TestCheckGoroutines_Leak.func") {
		t.Fatalf("child output does not name the leak and its goroutine:\n%s", out)
	}
}

// TestCheckGoroutines_LateEnd: a goroutine that ends after the test's
// body, within the deadline, is no leak.
func TestCheckGoroutines_LateEnd(t *testing.T) {
	var sub *testing.T
	t.Run("late", func(t *testing.T) {
		sub = t
		CheckGoroutines(t)
		go func() { time.Sleep(100 * time.Millisecond) }()
	})
	if sub.Failed() {
		t.Error("a goroutine ending within the deadline was reported as a leak")
	}
}

// TestCheckGoroutines_SignalWatcher: the signal watcher that the first
// signal.Notify of the process starts lives for the process and is no leak
// of the test that started it.
func TestCheckGoroutines_SignalWatcher(t *testing.T) {
	var sub *testing.T
	t.Run("notify", func(t *testing.T) {
		sub = t
		CheckGoroutines(t)
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR2)
		signal.Stop(c)
	})
	if sub.Failed() {
		t.Error("the process's signal watcher was reported as a leak")
	}
}

// TestPNG_RoundTrip: WritePNG then ReadPNG give the picture back.
func TestPNG_RoundTrip(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for y := range 3 {
		for x := range 5 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(50 * x), uint8(80 * y), 7, uint8(255 - 30*x)})
		}
	}
	p := filepath.Join(t.TempDir(), "a.png")
	WritePNG(t, p, img)
	got := ReadPNG(t, p)
	if got.Bounds() != img.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), img.Bounds())
	}
	for y := range 3 {
		for x := range 5 {
			if a, b := color.NRGBAModel.Convert(got.At(x, y)), img.At(x, y); a != b {
				t.Fatalf("pixel %d,%d: %v, want %v", x, y, a, b)
			}
		}
	}
}

// TestHeaderPNG: the header claims the size; EmptyZlib data is a valid
// zlib stream (the decoder gets past it and finds the data short), other
// data is refused as not zlib.
func TestHeaderPNG(t *testing.T) {
	t.Parallel()
	cfg, err := png.DecodeConfig(bytes.NewReader(HeaderPNG(300, 200, EmptyZlib)))
	if err != nil || cfg.Width != 300 || cfg.Height != 200 || cfg.ColorModel != color.RGBAModel {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	if _, err := png.Decode(bytes.NewReader(HeaderPNG(3, 2, EmptyZlib))); err == nil || strings.Contains(err.Error(), "zlib") {
		t.Errorf("EmptyZlib data: %v, want a short-data error", err)
	}
	if _, err := png.Decode(bytes.NewReader(HeaderPNG(3, 2, bytes.Repeat([]byte{0xAB}, 64)))); err == nil || !strings.Contains(err.Error(), "zlib") {
		t.Errorf("non-zlib data: %v, want a zlib error", err)
	}
}

// TestClip: the clip has the frames, size and codec asked for (ffprobe).
func TestClip(t *testing.T) {
	NeedTools(t, "ffprobe")
	p := Clip(t, filepath.Join(t.TempDir(), "c.ts"), ClipOptions{Size: "64x48", Frames: 12, GOP: 6, Format: "mpegts"})
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "default=nw=1", p).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	for _, want := range []string{"codec_name=h264", "width=64", "height=48", "nb_read_frames=12"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ffprobe says\n%s\nwant %s", out, want)
		}
	}
	// ProbeFrames: one value per frame, in order.
	pts := ProbeFrames(t, p, "pts")
	if len(pts) != 12 || pts[0] == pts[11] {
		t.Errorf("ProbeFrames pts: %q", pts)
	}
}

// TestWASMGuest_Once: the guest is a WASM module, and a second call
// returns it without building again.
func TestWASMGuest_Once(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a WASM guest")
	}
	const pkg = "streampack/wasmv1/testdata/hostile"
	a := WASMGuest(t, pkg)
	if !bytes.HasPrefix(a, []byte("\x00asm")) {
		t.Fatalf("not a WASM module: % x", a[:min(8, len(a))])
	}
	p := builds["wasm:"+pkg].path
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	b := WASMGuest(t, pkg)
	st2, err := os.Stat(p)
	if err != nil || !st2.ModTime().Equal(st.ModTime()) || !bytes.Equal(a, b) {
		t.Fatalf("second call rebuilt or differs (%v)", err)
	}
}
