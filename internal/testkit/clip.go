package testkit

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// ClipOptions describes a synthetic clip made by Clip. The zero value is
// two seconds of testsrc2, 320×240 at 30 fps, H.264 (libx264, ultrafast)
// in yuv420p, with no audio, muxed by the file name's extension.
type ClipOptions struct {
	Source   string   // lavfi video source ("testsrc2", "testsrc", "color=c=red"); "" is testsrc2
	Size     string   // "320x240" when ""
	Rate     int      // frames per second; 30 when 0
	Frames   int      // video frames to write; 0: Seconds
	Seconds  float64  // length (-t) when Frames is 0; 2 when 0
	Codec    string   // video encoder; "libx264" when ""
	GOP      int      // keyframe interval (-g); 0 leaves the encoder's
	Audio    []string // non-nil (even empty): a 440 Hz sine at 44.1 kHz is added, encoded with these options; nil: no audio
	Extra    []string // more output options
	Format   string   // muxer (-f); "" picks it by the name's extension
	SkipFail bool     // a failing ffmpeg skips the test (an encoder this FFmpeg lacks) instead of failing it
}

// Clip writes a synthetic clip to path with the ffmpeg CLI and returns
// path. It skips the test when there is no ffmpeg.
func Clip(tb testing.TB, path string, o ClipOptions) string {
	tb.Helper()
	NeedTools(tb, "ffmpeg")
	src, size, rate, codec := o.Source, o.Size, o.Rate, o.Codec
	if src == "" {
		src = "testsrc2"
	}
	if size == "" {
		size = "320x240"
	}
	if rate == 0 {
		rate = 30
	}
	if codec == "" {
		codec = "libx264"
	}
	sep := "="
	if strings.Contains(src, "=") {
		sep = ":"
	}
	args := []string{"-v", "error", "-y", "-f", "lavfi", "-i", src + sep + "size=" + size + ":rate=" + strconv.Itoa(rate)}
	if o.Audio != nil {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100")
	}
	if o.Frames > 0 {
		args = append(args, "-frames:v", strconv.Itoa(o.Frames))
		if o.Audio != nil {
			args = append(args, "-shortest")
		}
	} else {
		secs := o.Seconds
		if secs == 0 {
			secs = 2
		}
		args = append(args, "-t", strconv.FormatFloat(secs, 'g', -1, 64))
	}
	args = append(args, "-c:v", codec, "-pix_fmt", "yuv420p")
	if o.GOP > 0 {
		args = append(args, "-g", strconv.Itoa(o.GOP))
	}
	switch codec {
	case "libx264":
		args = append(args, "-preset", "ultrafast")
	case "libx265":
		args = append(args, "-preset", "ultrafast", "-x265-params", "log-level=error")
	}
	args = append(args, o.Audio...)
	args = append(args, o.Extra...)
	if o.Format != "" {
		args = append(args, "-f", o.Format)
	}
	args = append(args, path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		if o.SkipFail {
			tb.Skipf("ffmpeg cannot make %s: %v\n%s", path, err, out)
		}
		tb.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return path
}

// NeedTools skips the test, naming the first missing one, unless every
// named command-line tool (ffmpeg, ffprobe, promtool, …) is on the PATH.
func NeedTools(tb testing.TB, names ...string) {
	tb.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			tb.Skipf("%s not installed (not on the PATH)", n)
		}
	}
}

// FFprobe runs ffprobe -v error with args on path and returns its
// standard output; it skips the test when there is no ffprobe and fails it
// when ffprobe fails.
func FFprobe(tb testing.TB, path string, args ...string) string {
	tb.Helper()
	NeedTools(tb, "ffprobe")
	out, err := exec.Command("ffprobe", append(append([]string{"-v", "error"}, args...), path)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		tb.Fatalf("ffprobe %s: %v\n%s", path, err, stderr)
	}
	return string(out)
}

// ProbeFrames returns the field (pts, pts_time, pict_type, …) of every
// frame of the first video stream of path, in order, by ffprobe.
func ProbeFrames(tb testing.TB, path, field string) []string {
	tb.Helper()
	out := FFprobe(tb, path, "-select_streams", "v:0", "-show_entries", "frame="+field, "-of", "csv=p=0")
	var vals []string
	for _, l := range strings.Fields(out) {
		vals = append(vals, strings.TrimSuffix(l, ","))
	}
	return vals
}
