package main

// Input-side behaviour of `comfyrt run` through the built binary: files
// and fast pipes keep every frame, a pipe whose program changes goes on,
// libavdevice sources with --frames/--duration.

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

func liveinNeed(t *testing.T) {
	t.Helper()
	needAV(t)
	testkit.NeedTools(t, "ffmpeg")
}

// liveinClip writes n frames of testsrc2 at 30 fps encoded with codec into
// dir/name with the ffmpeg CLI (extra: more output options).
func liveinClip(t *testing.T, dir, name string, n int, codec string, extra ...string) string {
	t.Helper()
	return testkit.Clip(t, filepath.Join(dir, name), testkit.ClipOptions{Frames: n, Codec: codec, GOP: 30, Extra: extra})
}

// liveinPTS returns the output's video frame timestamps (ffprobe).
func liveinPTS(t *testing.T, name string) []int64 {
	t.Helper()
	var pts []int64
	for _, l := range testkit.ProbeFrames(t, name, "pts") {
		v, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			t.Fatalf("ffprobe pts %q", l)
		}
		pts = append(pts, v)
	}
	return pts
}

func liveinRun(t *testing.T, dir string, stdin []byte, args ...string) testkit.Result {
	t.Helper()
	wf := filepath.Join(testkit.Root(), "workflows", "identity-api.json")
	r := testkit.Run(t, dir, stdin, 120*time.Second, append([]string{"run", "--workflow", wf}, args...)...)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.Code, r.Stderr)
	}
	return r
}

// `cat clip.ts | comfyrt run -i -` keeps every frame: a pipe that
// delivers faster than real time is paced like a file.
func TestLiveinRunPipeKeepsEveryFrame(t *testing.T) {
	liveinNeed(t)
	dir := t.TempDir()
	clip, err := os.ReadFile(liveinClip(t, dir, "clip.ts", 90, "libx264"))
	if err != nil {
		t.Fatal(err)
	}
	liveinRun(t, dir, clip, "-i", "-", "-o", "out.ts")
	if n := len(liveinPTS(t, filepath.Join(dir, "out.ts"))); n != 90 {
		t.Errorf("%d of 90 frames out", n)
	}
}

// A 30 fps file keeps every frame at a constant frame rate with the
// default flags; an explicit --max-fps still thins it.
func TestLiveinRunFileKeepsEveryFrame(t *testing.T) {
	liveinNeed(t)
	dir := t.TempDir()
	liveinClip(t, dir, "clip.mp4", 90, "libx264")
	liveinRun(t, dir, nil, "-i", "clip.mp4", "-o", "out.mp4")
	pts := liveinPTS(t, filepath.Join(dir, "out.mp4"))
	if len(pts) != 90 {
		t.Fatalf("%d of 90 frames out", len(pts))
	}
	for i := 2; i < len(pts); i++ {
		if pts[i]-pts[i-1] != pts[1]-pts[0] {
			t.Fatalf("variable frame rate: pts %v", pts)
		}
	}
	liveinRun(t, dir, nil, "-i", "clip.mp4", "-o", "capped.mp4", "--max-fps", "15")
	if n := len(liveinPTS(t, filepath.Join(dir, "capped.mp4"))); n < 40 || n > 50 {
		t.Errorf("--max-fps 15 on 90 frames at 30 fps: %d frames out, want about 45", n)
	}
}

// `cat a.ts b_with_other_pids.ts c_hevc.ts d_mpeg2.ts | comfyrt run -i -`:
// every part is decoded (the demuxer and decoder re-open where the
// program changes) and output PTS increase.
func TestLiveinRunPipeProgramChange(t *testing.T) {
	liveinNeed(t)
	dir := t.TempDir()
	var in []byte
	for _, c := range []struct {
		name, codec string
		extra       []string
	}{
		{"a.ts", "libx264", nil},
		{"b.ts", "libx264", []string{"-mpegts_start_pid", "0x200", "-mpegts_pmt_start_pid", "0x1100"}},
		{"c.ts", "libx265", nil},
		{"d.ts", "mpeg2video", nil},
	} {
		b, err := os.ReadFile(liveinClip(t, dir, c.name, 30, c.codec, append(c.extra, "-f", "mpegts")...))
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, b...)
	}
	liveinRun(t, dir, in, "-i", "-", "-o", "out.ts")
	pts := liveinPTS(t, filepath.Join(dir, "out.ts"))
	if len(pts) != 120 {
		t.Errorf("%d of 120 frames out", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i] <= pts[i-1] {
			t.Fatalf("pts %d after %d", pts[i], pts[i-1])
		}
	}
}

// libavdevice sources: --input-format lavfi with --frames or --duration.
func TestLiveinRunLavfi(t *testing.T) {
	liveinNeed(t)
	dir := t.TempDir()
	liveinRun(t, dir, nil, "--input-format", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "--frames", "45", "-o", "n.mp4")
	if n := len(liveinPTS(t, filepath.Join(dir, "n.mp4"))); n != 45 {
		t.Errorf("--frames 45: %d frames out", n)
	}
	liveinRun(t, dir, nil, "--input-format", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "--duration", "1s", "-o", "d.mp4")
	if n := len(liveinPTS(t, filepath.Join(dir, "d.mp4"))); n != 30 {
		t.Errorf("--duration 1s at 30 fps: %d frames out", n)
	}
}

// liveinDamagePES damages the PES headers of the video packets in the
// middle third of a TS clip: five bytes from the packet length on
// (length, flags, header length) are overwritten with a small timestamp
// pattern, as a damaged live input may carry.
func liveinDamagePES(d []byte) []byte {
	d = append([]byte(nil), d...)
	n := len(d) / 188
	k := int64(0)
	for p := n / 3; p < 2*n/3; p++ {
		i := p * 188
		if d[i] != 0x47 || d[i+1]&0x40 == 0 || d[i+3]&0x30 != 0x10 || d[i+4] != 0 || d[i+5] != 0 || d[i+6] != 1 || d[i+7]&0xf0 != 0xe0 {
			continue // not a video PES start without adaptation field
		}
		ts := 1000 + 3000*k
		k++
		d[i+9] = 3<<4 | byte(ts>>30&7)<<1 | 1
		d[i+10] = byte(ts >> 22)
		d[i+11] = byte(ts>>15&0x7f)<<1 | 1
		d[i+12] = byte(ts >> 7)
		d[i+13] = byte(ts&0x7f)<<1 | 1
	}
	return d
}

// Damaged PES headers (frames without timestamps, timestamps back in
// time) do not end the run: a file and a pipe (--live no too) keep going
// with increasing timestamps.
func TestLiveinRunDamagedPES(t *testing.T) {
	liveinNeed(t)
	dir := t.TempDir()
	clip, err := os.ReadFile(liveinClip(t, dir, "clip.ts", 90, "libx264", "-f", "mpegts"))
	if err != nil {
		t.Fatal(err)
	}
	bad := liveinDamagePES(clip)
	if bytes.Equal(bad, clip) {
		t.Fatal("no PES header damaged")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.ts"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		stdin []byte
		args  []string
	}{
		{"file", nil, []string{"-i", "bad.ts"}},
		{"pipe", bad, []string{"-i", "-", "--live", "no"}},
	} {
		liveinRun(t, dir, c.stdin, append(c.args, "-o", c.name+".ts")...)
		pts := liveinPTS(t, filepath.Join(dir, c.name+".ts"))
		if len(pts) < 60 {
			t.Errorf("%s: %d of 90 frames out", c.name, len(pts))
		}
		for i := 1; i < len(pts); i++ {
			if pts[i] <= pts[i-1] {
				t.Fatalf("%s: pts %d after %d", c.name, pts[i], pts[i-1])
			}
		}
	}
}

// A pipe that is empty, not a video stream or not readable is a clear
// usage error naming the input (not the chain's internal pipes).
func TestLiveinRunPipeErrors(t *testing.T) {
	liveinNeed(t)
	wf := filepath.Join(testkit.Root(), "workflows", "identity-api.json")
	for _, c := range []struct {
		name  string
		stdin []byte
		in    string
		want  string
	}{
		{"empty", nil, "-", "ended before any data"},
		{"garbage", bytes.Repeat([]byte("not a video "), 1000), "-", "program 1 of the input"},
		{"closed fd", nil, "pipe:9", "bad file descriptor"},
	} {
		r := testkit.Run(t, "", c.stdin, 60*time.Second, "run", "--workflow", wf, "-i", c.in, "-o", "out.ts")
		if r.Code != 2 || !strings.Contains(r.Stderr, c.want) || !strings.Contains(r.Stderr, "input "+c.in+":") {
			t.Errorf("%s: exit %d, want 2 and %q:\n%s", c.name, r.Code, c.want, r.Stderr)
		}
	}
}
