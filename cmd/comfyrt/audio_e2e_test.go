package main

// Audio workflows (ComfyStream's LoadAudioTensor → [PitchShifter →]
// SaveAudioTensor) through the built binary in a real process, on a WAV
// written here and on a clip with AAC audio.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/executor/media/av"
	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle"
)

// TestBinary_RunAudioWorkflows runs ComfyStream's audio pass-through and
// pitch-shift workflows on a 2.3 s stereo 44.1 kHz WAV of a 440 Hz sine:
// the output is mono 48 kHz WAV (the plans' declared chunk format) of the
// same duration; the pass-through keeps 440 Hz, the +4 semitone shift
// moves it to 440·2^(4/12) ≈ 554 Hz.
func TestBinary_RunAudioWorkflows(t *testing.T) {
	needAV(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	testkit.WriteWAV(t, in, 44100, 2, 101430, 440) // 2.3 s
	for _, c := range []struct {
		wf   string
		want float64
	}{
		{"comfystream/audio-passthrough.json", 440},
		{"comfystream/audio-tensor-utils-example-api.json", 440 * math.Pow(2, 4.0/12)},
	} {
		wf := testkit.CorpusFile(t, c.wf)
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(c.wf), ".json")+".wav")
		r := testkit.Run(t, dir, nil, 2*time.Minute, "run", "--workflow", wf, "-i", in, "-o", out)
		if r.Code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", c.wf, r.Code, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "5 chunks of 24000 samples") {
			t.Errorf("%s: stdout %q does not report 5 chunks of 500 ms", c.wf, r.Stdout)
		}
		rate, chans, x := testkit.ReadWAV(t, out)
		if rate != 48000 || chans != 1 {
			t.Fatalf("%s: %d Hz %d channels, want 48000 Hz mono", c.wf, rate, chans)
		}
		if want := 110400; math.Abs(float64(len(x)-want)) > 48 { // 2.3 s, within 1 ms
			t.Errorf("%s: %d samples, want %d (2.3 s at 48 kHz)", c.wf, len(x), want)
		}
		hz, rms := testkit.Peak(x[24000:72000], rate) // 0.5 s to 1.5 s
		if math.Abs(hz-c.want) > 2 {
			t.Errorf("%s: spectral peak at %.0f Hz, want %.0f", c.wf, hz, c.want)
		}
		if rms < 0.3 || rms > 0.42 {
			t.Errorf("%s: rms %.3f, want about 0.354 (a sine of amplitude 0.5)", c.wf, rms)
		}
	}
}

// TestBinary_RunAudioFromClip runs the pitch-shift workflow on the audio
// of an H.264+AAC clip and writes AAC in M4A: 48 kHz mono, as long as the
// clip's audio.
func TestBinary_RunAudioFromClip(t *testing.T) {
	needAV(t)
	dir := t.TempDir()
	clip := testkit.Clip(t, filepath.Join(dir, "clip.mp4"), testkit.ClipOptions{Seconds: 2, Audio: []string{"-c:a", "aac"}})
	wf := testkit.CorpusFile(t, "comfystream/audio-tensor-utils-example-api.json")
	r := testkit.Run(t, dir, nil, 2*time.Minute, "run", "--workflow", wf, "-i", clip, "-o", "out.m4a")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	got := strings.TrimSpace(testkit.FFprobe(t, filepath.Join(dir, "out.m4a"), "-show_entries", "stream=codec_name,sample_rate,channels,duration", "-of", "csv=p=0"))
	f := strings.Split(got, ",")
	if len(f) != 4 || f[0] != "aac" || f[1] != "48000" || f[2] != "1" {
		t.Fatalf("out.m4a: %q, want aac,48000,1,<duration>", got)
	}
	inDur := strings.TrimSpace(testkit.FFprobe(t, clip, "-select_streams", "a:0", "-show_entries", "stream=duration", "-of", "csv=p=0"))
	a, err1 := strconv.ParseFloat(f[3], 64)
	b, err2 := strconv.ParseFloat(inDur, 64)
	if err1 != nil || err2 != nil || math.Abs(a-b) > 0.05 {
		t.Errorf("out.m4a lasts %s s, the clip's audio %s s", f[3], inDur)
	}
}

// TestBinary_RunAudioErrors: an audio workflow without an input, and on a
// file without audio, is a usage error naming what is missing.
func TestBinary_RunAudioErrors(t *testing.T) {
	needAV(t)
	dir := t.TempDir()
	wf := testkit.CorpusFile(t, "comfystream/audio-passthrough.json")
	r := testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", wf)
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "give an input with audio") {
		t.Errorf("no -i: exit %d, stderr %q", r.Code, r.Stderr)
	}
	clip := testkit.Clip(t, filepath.Join(dir, "silent.mp4"), testkit.ClipOptions{Frames: 5})
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", wf, "-i", clip, "-o", "x.wav")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "no audio stream") {
		t.Errorf("clip without audio: exit %d, stderr %q", r.Code, r.Stderr)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(fmt.Sprintf(`{"1": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": %d}},
 "2": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["1", 0]}}}`, 0)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", bad, "-i", clip, "-o", "x.wav")
	if r.Code != exitInvalid || !strings.Contains(r.Stdout+r.Stderr, "buffer_size") {
		t.Errorf("buffer_size 0: exit %d, stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// decodeAudio decodes path's audio with the av package: mono at 48 kHz.
func decodeAudio(t *testing.T, path string) []float64 {
	t.Helper()
	src, err := av.OpenAudio(path, av.AudioOptions{Rate: 48000})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	buf := make([]float32, 4800)
	var x []float64
	for {
		n, err := src.ReadAudio(context.Background(), buf)
		for _, v := range buf[:n] {
			x = append(x, float64(v))
		}
		if errors.Is(err, io.EOF) {
			return x
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBinary_RunVideoWithAudioPath: a workflow with a video path (invert)
// and an audio path (+12 semitones) on an H.264+AAC clip processes both:
// every frame, inverted, and AAC audio at 48 kHz mono an octave up (the
// clip's 440 Hz sine at 880 Hz) lasting as long as the clip's audio.
func TestBinary_RunVideoWithAudioPath(t *testing.T) {
	needAV(t)
	dir := t.TempDir()
	clip := testkit.Clip(t, filepath.Join(dir, "clip.mp4"), testkit.ClipOptions{Seconds: 2, Audio: []string{"-c:a", "aac"}})
	wf := filepath.Join(dir, "mixed.json")
	if err := os.WriteFile(wf, []byte(mixedWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, 2*time.Minute, "run", "--workflow", wf, "-i", clip, "-o", "out.mp4")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	out := filepath.Join(dir, "out.mp4")
	if got, want := len(decodeAll(t, out)), len(decodeAll(t, clip)); got != want || want == 0 {
		t.Errorf("%d frames out, the clip has %d", got, want)
	}
	a := strings.TrimSpace(testkit.FFprobe(t, out, "-select_streams", "a:0", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0"))
	if a != "aac,48000,1" {
		t.Errorf("audio stream %q, want aac,48000,1", a)
	}
	x, in := decodeAudio(t, out), decodeAudio(t, clip)
	if math.Abs(float64(len(x)-len(in))) > 2048 {
		t.Errorf("%d audio samples out, %d in", len(x), len(in))
	}
	if hz, rms := testkit.Peak(x[24000:72000], 48000); math.Abs(hz-880) > 2 || rms < 0.02 {
		t.Errorf("audio peak at %.0f Hz (rms %.3f), want 880 Hz", hz, rms)
	}
	if hz, _ := testkit.Peak(in[24000:72000], 48000); math.Abs(hz-440) > 2 {
		t.Errorf("the clip's audio peaks at %.0f Hz, want 440", hz)
	}
}

// TestBinary_RunAudioDuration: --duration stops an audio run after that
// much input audio.
func TestBinary_RunAudioDuration(t *testing.T) {
	needAV(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	testkit.WriteWAV(t, in, 48000, 1, 96000, 440)
	wf := testkit.CorpusFile(t, "comfystream/audio-passthrough.json")
	r := testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", wf, "-i", in, "-o", "d.wav", "--duration", "1.2s")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.Code, r.Stderr)
	}
	if _, _, x := testkit.ReadWAV(t, filepath.Join(dir, "d.wav")); len(x) != 57600 {
		t.Errorf("%d samples, want 57600 (1.2 s at 48 kHz)", len(x))
	}
}

// TestBinary_ServeAudioPath: `comfyrt serve` runs a stream whose workflow
// has a video path (invert) and an audio path (+12 semitones) on MPEG-TS
// segments with a 440 Hz sine: the output segments carry H.264 video and
// AAC audio at 880 Hz.
func TestBinary_ServeAudioPath(t *testing.T) {
	needAV(t)
	testkit.NeedTools(t, "ffmpeg")
	dir := t.TempDir()
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=384x384:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast",
		"-pix_fmt", "yuv420p", "-g", "30", "-c:a", "aac", "-f", "segment", "-segment_time", "1", "-segment_format", "mpegts",
		filepath.Join(dir, "seg%d.ts")).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	var segs [][]byte
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("seg%d.ts", i)))
		if err != nil {
			break
		}
		segs = append(segs, b)
	}
	if len(segs) < 3 {
		t.Fatalf("%d input segments", len(segs))
	}
	base, stop := startServe(t)
	const id = "au1"
	ch := budgetOrch(t, id)
	wf := strings.Join(strings.Fields(mixedWorkflow), "")
	start := fmt.Sprintf(`{"gateway_request_id":%q,"subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"params":{"prompt":%s,"width":384,"height":384}}`,
		id, ch, ch+"-out", ch+"-control", ch+"-events", wf)
	if code, body := budgetPost(t, base+"/stream/start", start); code != http.StatusOK {
		t.Fatalf("/stream/start: %d %s", code, body)
	}
	client := trickle.NewClient(trickle.Options{})
	sub := trickle.NewSubscriber(client, ch+"-out", 0)
	defer sub.Close()
	got := make(chan []byte, 1)
	go func() {
		var all []byte
		defer func() { got <- all }()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		for {
			seg, err := sub.Next(ctx)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(seg)
			seg.Close()
			all = append(all, b...)
		}
	}()
	in := trickle.NewPublisher(client, ch, trickle.PublisherOptions{ContentType: "video/mp2t"})
	for _, seg := range segs {
		if err := in.Write(seg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second / time.Duration(len(segs)))
	}
	in.Close()
	var out []byte
	select {
	case out = <-got:
	case <-time.After(100 * time.Second):
		t.Fatal("the output channel did not end")
	}
	budgetPost(t, base+"/stream/stop", "", "X-Stream-Id", id)
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
	name := filepath.Join(t.TempDir(), "out.ts")
	if err := os.WriteFile(name, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if s := testkit.FFprobe(t, name, "-show_entries", "stream=codec_type,codec_name,sample_rate,channels", "-of", "csv=p=0"); !strings.Contains(s, "h264,video") || !strings.Contains(s, "aac,audio,48000,1") {
		t.Fatalf("output streams:\n%s", s)
	}
	x := decodeAudio(t, name)
	if len(x) < 2*48000 {
		t.Fatalf("%d audio samples out", len(x))
	}
	if hz, _ := testkit.Peak(x[48000:min(len(x), 3*48000)], 48000); math.Abs(hz-880) > 2 {
		t.Errorf("output audio peaks at %.0f Hz, want 880 (440 an octave up)", hz)
	}
}

// mixedWorkflow inverts the frames and shifts the audio up an octave.
const mixedWorkflow = `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}},
 "4": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 500}},
 "5": {"class_type": "PitchShifter", "inputs": {"audio": ["4", 0], "pitch_shift": 12}},
 "6": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["5", 0]}}}`
