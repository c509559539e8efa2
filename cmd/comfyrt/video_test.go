package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/internal/testkit"
)

const invertWF = `{"1": {"class_type": "LoadTensor", "inputs": {}}, "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}, "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}}`

// needAV skips when FFmpeg (cgo) or the ffprobe CLI is missing.
func needAV(t *testing.T) {
	t.Helper()
	if !av.Available {
		t.Skip("built without cgo: no FFmpeg")
	}
	testkit.NeedTools(t, "ffprobe")
}

// stampedTS is stampedClip remuxed to MPEG-TS by the ffmpeg CLI.
func stampedTS(t *testing.T, n int) string {
	t.Helper()
	ts := filepath.Join(t.TempDir(), "in.ts")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", stampedClip(t, n), "-c", "copy", "-f", "mpegts", ts).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	return ts
}

// stampedClip writes n synthetic frames (frame index stamped in the
// pixels) at 30 fps into an mp4.
func stampedClip(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stamped.mp4")
	src := &media.Synthetic{W: 320, H: 240, N: int64(n)}
	sink, err := av.CreateSink(p, src.Info(), av.SinkOptions{Preset: "ultrafast", CRF: 12})
	if err != nil {
		t.Fatal(err)
	}
	var f media.Frame
	for {
		if err := src.ReadFrame(context.Background(), &f); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		if err := sink.WriteFrame(&f); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// probeFrames returns the video frames' presentation times (seconds) by
// ffprobe.
func probeFrames(t *testing.T, file string) []float64 {
	t.Helper()
	var ts []float64
	for _, l := range testkit.ProbeFrames(t, file, "pts_time") {
		v, err := strconv.ParseFloat(l, 64)
		if err != nil {
			t.Fatalf("ffprobe line %q", l)
		}
		ts = append(ts, v)
	}
	return ts
}

// decodeAll reads every frame of a file.
func decodeAll(t *testing.T, file string) []media.Frame {
	t.Helper()
	src, err := av.OpenSource(file, av.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var frames []media.Frame
	for {
		var f media.Frame
		err := src.ReadFrame(context.Background(), &f)
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
}

// TestRunVideo_StampsAndPTS: a stamped 30 fps clip through the invert
// workflow with the frame-rate cap off: every frame comes out, each
// carrying its input's timestamp, and the pixels (read back, inverted)
// name the same frame as the timestamp.
func TestRunVideo_StampsAndPTS(t *testing.T) {
	needAV(t)
	in := stampedClip(t, 45)
	wf := writeFile(t, "invert.json", invertWF)
	out := filepath.Join(t.TempDir(), "out.mp4")
	stats := filepath.Join(t.TempDir(), "stats.json")
	code, _, errOut := cli(t, "", "run", "--workflow", wf, "-i", in, "-o", out, "--max-fps", "0", "--stats-json", stats)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	inTimes, outTimes := probeFrames(t, in), probeFrames(t, out)
	if len(outTimes) != 45 || len(inTimes) != 45 {
		t.Fatalf("frames: in %d, out %d", len(inTimes), len(outTimes))
	}
	for i := range outTimes {
		if d := outTimes[i] - inTimes[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("frame %d: out pts %.4f, in %.4f", i, outTimes[i], inTimes[i])
		}
	}
	for i, f := range decodeAll(t, out) {
		if got := media.ReadStamp(&f, true); got != int64(i) {
			t.Fatalf("output frame %d carries stamp %d", i, got)
		}
	}
	var st map[string]any
	b, err := os.ReadFile(stats)
	if err != nil || json.Unmarshal(b, &st) != nil {
		t.Fatalf("stats json: %v %s", err, b)
	}
	for _, k := range []string{"frames_in", "frames_out", "frames_dropped", "fps_out", "latency_ms", "first_frame_ms", "errors"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stats lack %q: %s", k, b)
		}
	}
	if st["frames_out"] != 45.0 || st["frames_dropped"] != 0.0 {
		t.Errorf("stats %s", b)
	}
}

// TestRunVideo_FPSCap: an explicit 24 fps cap thins a 30 fps file by
// timestamps, keeping timestamps increasing (without --max-fps a file
// keeps every frame: TestLiveinRunFileKeepsEveryFrame).
func TestRunVideo_FPSCap(t *testing.T) {
	needAV(t)
	in := stampedClip(t, 60)
	wf := writeFile(t, "invert.json", invertWF)
	out := filepath.Join(t.TempDir(), "out.mp4")
	if code, _, errOut := cli(t, "", "run", "--workflow", wf, "-i", in, "-o", out, "--max-fps", "24"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ts := probeFrames(t, out)
	if len(ts) < 46 || len(ts) > 50 {
		t.Fatalf("%d frames out of 60 at 30 fps capped to 24", len(ts))
	}
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			t.Fatalf("pts not increasing at %d: %v", i, ts[i-1:i+1])
		}
	}
}

// TestRunVideo_InvertTwice: invert twice ≈ the input, within codec loss.
func TestRunVideo_InvertTwice(t *testing.T) {
	needAV(t)
	in := filepath.Join(testkit.Root(), defaultClip)
	wf := writeFile(t, "invert.json", invertWF)
	dir := t.TempDir()
	once, twice := filepath.Join(dir, "once.mp4"), filepath.Join(dir, "twice.mp4")
	for _, step := range [][2]string{{in, once}, {once, twice}} {
		if code, _, errOut := cli(t, "", "run", "--workflow", wf, "-i", step[0], "-o", step[1], "--preset", "ultrafast"); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	}
	a, b := decodeAll(t, in), decodeAll(t, twice)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("frames: %d vs %d", len(a), len(b))
	}
	var sum, n float64
	for i := range a {
		for j := range a[i].RGB {
			d := float64(a[i].RGB[j]) - float64(b[i].RGB[j])
			sum += d * d
			n++
		}
	}
	if rms := (sum / n); rms > 40 { // mean squared error; ≈ PSNR > 32 dB
		t.Fatalf("invert twice differs from the input: MSE %.1f", rms)
	}
	// A single inversion is far from the input (the check can fail).
	c := decodeAll(t, once)
	var d0 float64
	for j := range a[0].RGB {
		d := float64(a[0].RGB[j]) - float64(c[0].RGB[j])
		d0 += d * d
	}
	if d0/float64(len(a[0].RGB)) < 1000 {
		t.Fatal("a single inversion looks like the input")
	}
}

// TestRunVideo_StdinStdout: mpegts in on stdin, mpegts out on stdout, run
// as a separate process.
func TestRunVideo_StdinStdout(t *testing.T) {
	needAV(t)
	bin := testkit.Binary(t)
	ts := stampedTS(t, 30)
	in, err := os.Open(ts)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	outFile := filepath.Join(t.TempDir(), "out.ts")
	out, err := os.Create(outFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--workflow", writeFile(t, "invert.json", invertWF), "-i", "-", "--input-format", "mpegts",
		"-o", "-", "--format", "mpegts", "--max-fps", "0", "--live", "no")
	cmd.Stdin, cmd.Stdout = in, out
	var errb strings.Builder
	cmd.Stderr = &errb
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, errb.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("comfyrt run on pipes did not finish")
	}
	out.Close()
	frames := decodeAll(t, outFile)
	if len(frames) != 30 {
		t.Fatalf("%d frames out of 30", len(frames))
	}
	for i, f := range frames {
		if got := media.ReadStamp(&f, true); got != int64(i) {
			t.Fatalf("frame %d carries stamp %d", i, got)
		}
	}
}

// TestRunVideo_BadInputs: truncated and garbage inputs end with a clear
// error and exit code, never a crash or a hang.
func TestRunVideo_BadInputs(t *testing.T) {
	needAV(t)
	wf := writeFile(t, "invert.json", invertWF)
	clip, err := os.ReadFile(filepath.Join(testkit.Root(), defaultClip))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		code int
	}{
		{"garbage", []byte(strings.Repeat("not a video ", 1000)), exitUsage},
		{"empty", nil, exitUsage},
		{"truncated", clip[:len(clip)*2/3], exitInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "in.mp4")
			if err := os.WriteFile(in, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			testkit.CheckGoroutines(t)
			start := time.Now()
			code, _, errOut := cli(t, "", "run", "--workflow", wf, "-i", in, "-o", filepath.Join(t.TempDir(), "o.mp4"))
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, "comfyrt run:") || strings.Contains(errOut, "internal error") {
				t.Fatalf("stderr: %s", errOut)
			}
			if time.Since(start) > 30*time.Second {
				t.Fatal("took too long")
			}
		})
	}
}

// TestRunVideo_Interrupt: SIGINT on a live input finishes the output and
// exits 130; the output file is a valid video with the frames so far.
func TestRunVideo_Interrupt(t *testing.T) {
	needAV(t)
	bin := testkit.Binary(t)
	// A live source that never ends: udp on loopback with nobody sending
	// would block in open, so feed a pipe slowly instead.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ts := stampedTS(t, 90)
	data, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.ts")
	cmd := exec.Command(bin, "run", "--workflow", writeFile(t, "invert.json", invertWF), "-i", "-", "--input-format", "mpegts",
		"-o", out, "--live", "yes")
	cmd.Stdin = pr
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	// Half the stream, then stall (the writer stays open).
	if _, err := pw.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Fatalf("exit: %v (want %d)\n%s", err, exitInterrupted, stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("did not stop after SIGINT\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "interrupted after") {
		t.Errorf("stdout %q", stdout.String())
	}
	if n := len(decodeAll(t, out)); n == 0 {
		t.Error("no frames in the output of an interrupted run")
	}
}
