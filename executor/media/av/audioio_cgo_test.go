//go:build cgo

package av

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"testing"
)

// readAll reads an AudioSource to its end in reads of n samples.
func readAllAudio(t *testing.T, s *AudioSource, n int) []float32 {
	t.Helper()
	buf := make([]float32, n)
	var out []float32
	for {
		k, err := s.ReadAudio(context.Background(), buf)
		out = append(out, buf[:k]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if k != n {
			t.Fatalf("a read of %d samples gave %d without io.EOF", n, k)
		}
	}
}

// TestAudioRoundTrip writes a stereo sine (one channel the negated other
// plus an offset) with AudioSink to WAV and reads it back with
// AudioSource: mono is the channels' average (the offset), at the file's
// rate the samples come back within 16-bit rounding, and at another rate
// the length scales.
func TestAudioRoundTrip(t *testing.T) {
	const rate, n = 48000, 72000 // 1.5 s
	x := make([]float32, 2*n)
	for i := range n {
		v := float32(0.4 * math.Sin(2*math.Pi*440*float64(i)/rate))
		x[2*i], x[2*i+1] = v+0.25, -v+0.25
	}
	path := filepath.Join(t.TempDir(), "rt.wav")
	sink, err := CreateAudioSink(path, rate, 2, 0, AudioSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(x); i += 2 * 1000 { // 1000-sample writes
		if err := sink.WriteAudio(x[i:min(len(x), i+2*1000)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := OpenAudio(path, AudioOptions{Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if i := src.Info(); i.Codec != "pcm_s16le" || i.SourceRate != rate || i.SourceChannels != 2 || i.Rate != rate {
		t.Fatalf("info %+v", i)
	}
	got := readAllAudio(t, src, 4800)
	if len(got) != n {
		t.Fatalf("%d samples back, wrote %d", len(got), n)
	}
	for i, v := range got {
		if math.Abs(float64(v)-0.25) > 2.0/32768 {
			t.Fatalf("sample %d: %g, want the channels' average 0.25", i, v)
		}
	}
	src16, err := OpenAudio(path, AudioOptions{Rate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer src16.Close()
	if got := readAllAudio(t, src16, 1000); math.Abs(float64(len(got)-24000)) > 16 {
		t.Errorf("%d samples at 16 kHz, want about 24000", len(got))
	}
}

func TestAudioSinkRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := CreateAudioSink(filepath.Join(dir, "x.wav"), 48000, 3, 0, AudioSinkOptions{}); err == nil {
		t.Error("3 channels accepted")
	}
	if _, err := CreateAudioSink("-", 48000, 1, 0, AudioSinkOptions{}); err == nil {
		t.Error("stdout without a format accepted")
	}
	if _, err := CreateAudioSink(filepath.Join(dir, "x.png"), 48000, 1, 0, AudioSinkOptions{}); err == nil {
		t.Error("a picture container accepted")
	}
	s, err := CreateAudioSink(filepath.Join(dir, "x.wav"), 48000, 2, 0, AudioSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteAudio(make([]float32, 3)); err == nil {
		t.Error("half a stereo sample accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteAudio(make([]float32, 2)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	if _, err := OpenAudio(filepath.Join(dir, "none.wav"), AudioOptions{}); err == nil {
		t.Error("a missing file opened")
	}
}
