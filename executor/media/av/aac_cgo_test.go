//go:build cgo

package av

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
)

// makeClip writes a 2 s 320×240 30 fps H.264 clip with a sine tone encoded
// by the given ffmpeg audio arguments.
func makeClip(t testing.TB, name string, audio ...string) string {
	t.Helper()
	return testkit.Clip(t, filepath.Join(t.TempDir(), name), testkit.ClipOptions{
		Source: "testsrc", Seconds: 2, Audio: append([]string{}, audio...), SkipFail: true}) // always a tone
}

type probedStream struct {
	codec          string
	rate, channels int
	packets        int
	start, end     float64 // first pts, last pts + duration (s)
}

// probeStream describes the first stream of the kind ("a" or "v").
func probeStream(t testing.TB, path, kind string) probedStream {
	t.Helper()
	out := testkit.FFprobe(t, path, "-select_streams", kind+":0", "-show_entries",
		"stream=codec_name,sample_rate,channels", "-of", "default=nw=1")
	var ps probedStream
	for _, l := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
		switch k {
		case "codec_name":
			if ps.codec == "" {
				ps.codec = v
			}
		case "sample_rate":
			ps.rate, _ = strconv.Atoi(v)
		case "channels":
			ps.channels, _ = strconv.Atoi(v)
		}
	}
	out = testkit.FFprobe(t, path, "-select_streams", kind+":0", "-show_entries",
		"packet=pts_time,duration_time", "-of", "csv=p=0")
	first := true
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		a, b, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(l), ","), ",")
		pts, err1 := strconv.ParseFloat(a, 64)
		dur, err2 := strconv.ParseFloat(b, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ps.packets++
		if first || pts < ps.start {
			ps.start = pts
		}
		ps.end = max(ps.end, pts+dur)
		first = false
	}
	return ps
}

// meanVolume is the first audio stream's mean volume in dB (volumedetect).
func meanVolume(t testing.TB, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-i", path, "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("volumedetect %s: %v %s", path, err, out)
	}
	_, rest, ok := strings.Cut(string(out), "mean_volume: ")
	v, _, _ := strings.Cut(rest, " dB")
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if !ok || err != nil {
		t.Fatalf("volumedetect %s: no mean volume in %s", path, out)
	}
	return f
}

// transcodeClip runs in → Source(Audio) → Sink(out) and returns the number
// of video frames written.
func transcodeClip(t testing.TB, in, out string, opts SinkOptions) int {
	t.Helper()
	src, err := OpenSource(in, SourceOptions{Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	opts.AudioFrom = src
	opts.Preset = "ultrafast"
	snk, err := CreateSink(out, src.Info(), opts)
	if err != nil {
		t.Fatal(err)
	}
	n := pump(t, src, snk)
	if st := src.Stats(); st.AudioDropped != 0 {
		t.Fatalf("audio dropped: %+v", st)
	}
	return n
}

// TestAudioReencode: audio the container cannot hold (or AudioCodec "aac")
// comes out as decodable AAC as long as the video.
func TestAudioReencode(t *testing.T) {
	testkit.NeedTools(t, "ffprobe")
	pcm := []string{"-c:a", "pcm_s16le"}
	cases := []struct {
		name, clip string
		audio      []string
		ext, codec string
		rate, ch   int
	}{
		{"pcm-mkv-to-mp4", "pcm.mkv", pcm, "mp4", "", 44100, 1},
		{"pcm-mkv-to-ts", "pcm.mkv", pcm, "ts", "auto", 44100, 1},
		{"opus-mkv-to-mp4-forced", "opus.mkv", []string{"-c:a", "libopus", "-ac", "2"}, "mp4", "aac", 48000, 2},
		{"vorbis-mkv-to-ts", "vorbis.mkv", []string{"-c:a", "libvorbis", "-ar", "32000", "-ac", "2"}, "ts", "", 32000, 2},
		{"pcm-s32-8k-to-ts", "pcm8k.mkv", []string{"-c:a", "pcm_s32le", "-ar", "8000", "-ac", "2"}, "ts", "", 8000, 2},
		{"pcm-6ch-to-mp4", "pcm6.mkv", []string{"-c:a", "pcm_f32le", "-ac", "6", "-ar", "50000"}, "mp4", "", 48000, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := makeClip(t, c.clip, c.audio...)
			out := filepath.Join(t.TempDir(), "out."+c.ext)
			n := transcodeClip(t, in, out, SinkOptions{AudioCodec: c.codec})
			a, v := probeStream(t, out, "a"), probeStream(t, out, "v")
			t.Logf("audio %+v video %+v", a, v)
			if a.codec != "aac" || a.rate != c.rate || a.channels != c.ch {
				t.Fatalf("audio %+v, want aac %d Hz %d ch", a, c.rate, c.ch)
			}
			if a.packets < 2*c.rate/1024-2 {
				t.Fatalf("%d audio packets", a.packets)
			}
			if v.codec != "h264" || v.packets != n || n < 59 {
				t.Fatalf("video %+v, wrote %d frames", v, n)
			}
			// AAC comes in 1024-sample frames, the last one padded, and
			// MPEG-TS cannot signal the encoder's 1024 priming samples (mp4
			// trims them with an edit list): allow a frame more at low rates.
			tol := max(0.1, 1.5*1024/float64(c.rate))
			ad, vd := a.end-max(a.start, 0), v.end-v.start
			if d := ad - vd; d < -tol || d > tol {
				t.Fatalf("audio %.3fs, video %.3fs", ad, vd)
			}
			if d := a.start - v.start; d < -tol || d > tol {
				t.Fatalf("audio starts at %.3fs, video at %.3fs", a.start, v.start)
			}
			if msg, err := exec.Command("ffmpeg", "-v", "error", "-i", out, "-f", "null", "-").CombinedOutput(); err != nil || len(msg) > 0 {
				t.Fatalf("decoding %s: %v %s", out, err, msg)
			}
			// The tone survived: the input's level (-21 dBFS RMS for
			// lavfi's sine, within a few dB after up/downmixes), not silence
			// or noise at full scale.
			iv, ov := meanVolume(t, in), meanVolume(t, out)
			t.Logf("mean volume %.1f dB → %.1f dB", iv, ov)
			if ov < iv-6 || ov > iv+6 {
				t.Fatalf("mean volume %.1f dB, input %.1f dB", ov, iv)
			}
			pts, _ := probeFrames(t, out)
			if len(pts) != n {
				t.Fatalf("video frames %d, wrote %d", len(pts), n)
			}
		})
	}
}

// TestAudioCodecChoice: "copy" refuses what the container cannot hold,
// unknown names are refused, and auto copies AAC (no re-encode).
func TestAudioCodecChoice(t *testing.T) {
	in := makeClip(t, "pcm.mkv", "-c:a", "pcm_s16le")
	src, err := OpenSource(in, SourceOptions{Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	for _, c := range []string{"copy", "mp3"} {
		if s, err := CreateSink(filepath.Join(dir, "o.mp4"), src.Info(), SinkOptions{AudioFrom: src, AudioCodec: c}); err == nil {
			s.Close()
			t.Fatalf("AudioCodec %q: no error", c)
		} else {
			t.Logf("%s: %v", c, err)
		}
	}
	s, err := CreateSink(filepath.Join(dir, "o.mkv"), src.Info(), SinkOptions{AudioFrom: src, AudioCodec: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	if s.aac != nil {
		t.Fatal("pcm into matroska re-encoded")
	}
	s.Close()

	aac, err := OpenSource(sample(t), SourceOptions{Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	defer aac.Close()
	for _, ext := range []string{"mp4", "ts"} {
		s, err := CreateSink(filepath.Join(dir, "a."+ext), aac.Info(), SinkOptions{AudioFrom: aac})
		if err != nil {
			t.Fatal(err)
		}
		if s.aac != nil {
			t.Fatalf("%s: AAC input re-encoded in auto mode", ext)
		}
		s.Close()
	}
}
