package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/executor/live"
	"comfyrt/executor/media/av"
	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle"
)

// mixedWF inverts the frames and shifts the audio up an octave.
const mixedWF = `{"1":{"class_type":"LoadTensor","inputs":{}},"2":{"class_type":"ImageInvert","inputs":{"image":["1",0]}},` +
	`"3":{"class_type":"SaveTensor","inputs":{"images":["2",0]}},"4":{"class_type":"LoadAudioTensor","inputs":{"buffer_size":500}},` +
	`"5":{"class_type":"PitchShifter","inputs":{"audio":["4",0],"pitch_shift":12}},"6":{"class_type":"SaveAudioTensor","inputs":{"audio":["5",0]}}}`

// TestAudioThroughPlan: a live stream whose workflow has an audio path
// (LoadAudioTensor → PitchShifter +12 → SaveAudioTensor) beside the video
// one: the output's audio is the input's 440 Hz sine an octave up, as
// AAC at 48 kHz mono, beside the H.264 video.
func TestAudioThroughPlan(t *testing.T) {
	needAV(t)
	ts, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size="+strconv.Itoa(size)+"x"+strconv.Itoa(size)+":rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast",
		"-pix_fmt", "yuv420p", "-g", "30", "-c:a", "aac", "-f", "mpegts", "-").Output()
	if err != nil {
		t.Skipf("ffmpeg: %v", err)
	}
	segs := live.SplitTS(ts)
	if len(segs) < 3 {
		t.Fatalf("%d input segments", len(segs))
	}
	e := newEnv(t)
	base := e.channels("au")
	out := e.collect(base + "-out")
	e.start(base, fmt.Sprintf(`{"prompt":%s,"width":%d,"height":%d}`, mixedWF, size, size))
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{})
	for _, seg := range segs {
		publish(t, in, seg, 5*time.Second/time.Duration(len(segs)))
	}
	in.Close()
	got := out()
	if len(got) == 0 {
		t.Fatal("no output")
	}
	name := filepath.Join(t.TempDir(), "all.ts")
	if err := os.WriteFile(name, bytes.Join(got, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if s := testkit.FFprobe(t, name, "-show_entries", "stream=codec_type,codec_name,width,height", "-of", "csv=p=0"); !strings.Contains(s, "h264,video,384,384") {
		t.Errorf("output streams: %s", s)
	}
	src, err := av.OpenAudio(name, av.AudioOptions{Rate: 48000})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if i := src.Info(); i.Codec != "aac" || i.SourceRate != 48000 || i.SourceChannels != 1 {
		t.Errorf("output audio %+v, want AAC 48 kHz mono", i)
	}
	x := make([]float32, 4*48000)
	n, err := src.ReadAudio(context.Background(), x)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	t.Logf("%d output segments, %.2f s of audio", len(got), float64(n)/48000)
	if n < 2*48000 {
		t.Fatalf("only %d audio samples out", n)
	}
	if hz, _ := testkit.Peak(float64s(x[48000:n-12000]), 48000); math.Abs(hz-880) > 2 {
		t.Errorf("output audio peaks at %.0f Hz, want 880 (440 an octave up)", hz)
	}
}

// float64s widens samples for testkit.Peak.
func float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
