package executor

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media"
)

// sliceAudio is an in-memory media.AudioSource over samples.
type sliceAudio struct {
	x     []float32
	reads int
}

func (s *sliceAudio) ReadAudio(ctx context.Context, dst []float32) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.reads++
	n := copy(dst, s.x)
	s.x = s.x[n:]
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

func (s *sliceAudio) Close() error { return nil }

// collect is a media.AudioSink that keeps what it gets.
type collect struct{ x []float32 }

func (c *collect) WriteAudio(x []float32) error { c.x = append(c.x, x...); return nil }
func (c *collect) Close() error                 { return nil }

const wfAudioPass = `{"1": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 10}},
 "2": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["1", 0]}}}`

// TestRunAudioWholeStream: 1000 samples through a 480-sample pass-through
// plan come out as the same 1000 samples (two whole chunks and a padded
// last one cut back to its 40 samples).
func TestRunAudioWholeStream(t *testing.T) {
	e := newEnv(t)
	pl := e.compile(t, wfAudioPass, 0, 0)
	defer pl.Close()
	in := make([]float32, 1000)
	for i := range in {
		in[i] = float32(i%50)/50 - 0.5
	}
	src, sink := &sliceAudio{x: in}, &collect{}
	st, err := RunAudio(context.Background(), src, pl, sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Chunks != 3 || st.SamplesIn != 1000 || st.SamplesOut != 1000 {
		t.Fatalf("stats %+v, want 3 chunks, 1000 samples in and out", st)
	}
	if len(sink.x) != len(in) {
		t.Fatalf("%d samples out, want %d", len(sink.x), len(in))
	}
	for i := range in {
		if sink.x[i] != in[i] {
			t.Fatalf("sample %d: %g, want %g", i, sink.x[i], in[i])
		}
	}
	// An input of whole chunks ends with an empty read, which runs nothing.
	src, sink = &sliceAudio{x: in[:960]}, &collect{}
	if st, err = RunAudio(context.Background(), src, pl, sink); err != nil || st.Chunks != 2 || len(sink.x) != 960 {
		t.Fatalf("960 samples: %+v, %d out, %v", st, len(sink.x), err)
	}
}

func TestRunAudioStops(t *testing.T) {
	e := newEnv(t)
	pl := e.compile(t, wfAudioPass, 0, 0)
	defer pl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunAudio(ctx, &sliceAudio{x: make([]float32, 5000)}, pl, &collect{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	video := e.compile(t, wfIdentity, 8, 8)
	defer video.Close()
	if _, err := RunAudio(context.Background(), &sliceAudio{}, video, &collect{}); err == nil {
		t.Fatal("a plan without audio input ran")
	}
}

// TestAudioTapFollowsPlans: the tap runs the plan it is pointed at; a
// plan without an audio path (or a closed tap target replaced) passes the
// chunk through to every output channel.
func TestAudioTapFollowsPlans(t *testing.T) {
	e := newEnv(t)
	pitch := e.compile(t, `{"1": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 10}},
 "2": {"class_type": "PitchShifter", "inputs": {"audio": ["1", 0], "pitch_shift": 12}},
 "3": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["2", 0]}}}`, 0, 0)
	defer pitch.Close()
	tap, err := NewAudioTap(pitch)
	if err != nil {
		t.Fatal(err)
	}
	if r, n := tap.AudioChunk(); r != 48000 || n != 480 {
		t.Fatalf("chunk %d samples at %d Hz, want 480 at 48000", n, r)
	}
	chunk := make([]float32, 480)
	for i := range chunk {
		chunk[i] = float32(i%48) / 48
	}
	if err := pitch.RunStatic(); err != nil {
		t.Fatal(err)
	}
	out, err := tap.ProcessAudio(chunk)
	if err != nil || len(out) != 480 {
		t.Fatalf("%d samples, %v", len(out), err)
	}
	same := true
	for i := range out {
		same = same && out[i] == chunk[i]
	}
	if same {
		t.Fatal("the pitch shift plan passed the chunk through")
	}
	video := e.compile(t, wfIdentity, 8, 8)
	defer video.Close()
	tap.Set(video)
	if out, err = tap.ProcessAudio(chunk); err != nil || len(out) != 480 || out[100] != chunk[100] {
		t.Fatalf("video-only plan: not passed through (%v)", err)
	}
	if _, err := tap.ProcessAudio(chunk[:10]); err == nil {
		t.Fatal("a chunk of the wrong size was taken")
	}
	tap.Set(pitch)
	if p, f, _ := tap.Counts(); p != 1 || f != 0 {
		t.Fatalf("counts %d processed %d failed", p, f)
	}
}

// tapSink runs the tap's audio path on every frame it writes, on the
// encoder's goroutine, as av's Sink does with SinkOptions.AudioProcessor.
type tapSink struct {
	tap     *AudioTap
	chunk   []float32
	frames  int
	last    []float32
	flushed bool // the flush at Close ran the plan
}

func (s *tapSink) WriteFrame(*media.Frame) error {
	s.frames++
	out, err := s.tap.ProcessAudio(s.chunk)
	s.last = append(s.last[:0], out...)
	return err
}

// Close runs the tap once more, as av's Sink flushes the last audio.
func (s *tapSink) Close() error {
	out, err := s.tap.ProcessAudio(s.chunk)
	s.flushed = err == nil && out[100] != s.chunk[100]
	return err
}

// TestAudioTapBesideFrames runs a plan's audio path on the encoder
// goroutine while its video path runs frames, with a plan swap on the
// way (run with -race: the two paths share no buffers).
func TestAudioTapBesideFrames(t *testing.T) {
	e := newEnv(t)
	const mixed = `{"1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}},
 "4": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 10}},
 "5": {"class_type": "PitchShifter", "inputs": {"audio": ["4", 0], "pitch_shift": 7}},
 "6": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["5", 0]}}}`
	pl := e.compile(t, mixed, 64, 32)
	tap, err := NewAudioTap(pl)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]float32, 480)
	for i := range chunk {
		chunk[i] = float32(i%24) / 24
	}
	sink := &tapSink{tap: tap, chunk: chunk}
	p, err := New(Config[*compiler.Plan]{Source: &media.Synthetic{W: 64, H: 32, N: 60}, Sink: sink, Plan: pl, AudioTap: tap, Queue: Block, MaxFPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, func() {
		if err := p.Swap(context.Background(), e.compile(t, mixed, 64, 32)); err != nil {
			t.Error(err)
		}
		if err := p.Wait(); err != nil {
			t.Error(err)
		}
	})
	_ = p.Close()
	processed, failed, last := tap.Counts()
	if sink.frames != 60 || processed == 0 || processed+failed != 61 {
		t.Fatalf("%d frames, %d chunks processed, %d passed through (%v)", sink.frames, processed, failed, last)
	}
	if sink.last[100] == chunk[100] && sink.last[200] == chunk[200] {
		t.Error("the last chunk was passed through")
	}
	if !sink.flushed {
		t.Error("the sink's flush at Close passed the audio through: the plan was closed first")
	}
}
