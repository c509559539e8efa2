package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"comfyrt/executor/media"
	"comfyrt/nodes/value"
)

// AudioPlan is what RunAudio runs: the audio methods of *compiler.Plan.
type AudioPlan interface {
	// AudioSpec is the chunk the plan reads per run: AUDIO [1,1,N].
	AudioSpec() value.Spec
	// RunAudio runs the audio steps on one chunk.
	RunAudio(chunk value.Tensor) error
	// AudioOutput is the audio output after a run: AUDIO [1,C,M].
	AudioOutput() value.Value
}

// AudioStats counts what RunAudio did.
type AudioStats struct {
	// Chunks is the number of plan runs; SamplesIn and SamplesOut count
	// samples per channel read and written.
	Chunks, SamplesIn, SamplesOut int64
	// PlanTime is the time spent in the plan, MaxChunk the longest run.
	PlanTime, MaxChunk time.Duration
}

// RunAudio processes a whole audio stream: it reads src chunk by chunk
// (the plan's AudioSpec, mono), runs the plan on each and writes its audio
// output to sink (channels interleaved), until src ends or ctx is done.
// The last, short chunk is padded with silence for the plan, and its
// output cut to the same share of samples, so the output is as long as the
// input. A plan error ends the run, naming the chunk. It does not close
// src or sink. In steady state it does not allocate.
func RunAudio(ctx context.Context, src media.AudioSource, pl AudioPlan, sink media.AudioSink) (AudioStats, error) {
	var st AudioStats
	spec := pl.AudioSpec()
	if _, c, n, ok := value.AudioDims(spec.Shape); spec.Kind != value.Audio || !ok || c != 1 || spec.Shape[0] != 1 {
		return st, fmt.Errorf("the plan's audio input %s is not a mono chunk AUDIO[1,1,N]", spec)
	} else if n <= 0 {
		return st, errors.New("the plan's audio chunk is empty")
	}
	chunk := value.NewTensor(spec.Shape...)
	var inter []float32
	for {
		n, rerr := src.ReadAudio(ctx, chunk.Data)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return st, rerr
		}
		if n == 0 {
			return st, nil
		}
		clear(chunk.Data[n:])
		t0 := time.Now()
		if err := pl.RunAudio(chunk); err != nil {
			return st, fmt.Errorf("audio chunk %d: %w", st.Chunks, err)
		}
		d := time.Since(t0)
		st.Chunks++
		st.SamplesIn += int64(n)
		st.PlanTime += d
		st.MaxChunk = max(st.MaxChunk, d)
		out := pl.AudioOutput()
		b, c, m, ok := value.AudioDims(out.Tensor.Shape)
		if out.Kind != value.Audio || !ok || b != 1 || len(out.Tensor.Data) != c*m {
			return st, fmt.Errorf("audio chunk %d: the plan's audio output %s is not AUDIO[1,C,N]", st.Chunks-1, out)
		}
		keep := m
		if n < len(chunk.Data) {
			keep = int(int64(m) * int64(n) / int64(len(chunk.Data)))
		}
		inter = interleave(inter, out.Tensor.Data, c, m, keep)
		if err := sink.WriteAudio(inter); err != nil {
			return st, err
		}
		st.SamplesOut += int64(keep)
		if rerr != nil {
			return st, nil
		}
	}
}

// interleave writes the first keep samples of the planar [c,m] data into
// buf (channels interleaved), reusing its storage.
func interleave(buf, planar []float32, c, m, keep int) []float32 {
	if cap(buf) < keep*c {
		buf = make([]float32, keep*c, m*c)
	}
	buf = buf[:keep*c]
	if c == 1 {
		copy(buf, planar[:keep])
		return buf
	}
	for i := range keep {
		for ch := range c {
			buf[i*c+ch] = planar[ch*m+i]
		}
	}
	return buf
}

// AudioTap runs the audio path of a pipeline's current plan for an output
// that re-encodes the stream's audio (it is a media.AudioProcessor, given
// to the sink as av.SinkOptions.AudioProcessor, and to the pipeline as
// Config.AudioTap). The pipeline points it at every plan it switches to
// before closing the previous one, and ProcessAudio holds the tap's lock
// while it runs a plan, so it never runs a closed one; it runs beside
// RunFrame on the encoder's goroutine, on the audio steps only, once the
// plan's static steps have run (compiler.Plan.AudioReady). The output
// format (rate, channels) is the first plan's for the tap's life. While
// the current plan has no audio path, or one of another output format,
// has not warmed up, or fails on a chunk, the chunk passes through
// unchanged (copied to each output channel).
type AudioTap struct {
	mu              sync.Mutex
	pl              AudioPlan
	rate, samples   int
	outRate, outCh  int
	chunk           value.Tensor
	buf             []float32
	errs, processed int64
	lastErr         error
}

// NewAudioTap returns a tap on pl's audio path.
func NewAudioTap(pl AudioPlan) (*AudioTap, error) {
	spec, out := pl.AudioSpec(), pl.AudioOutput()
	_, c, _, ok := value.AudioDims(out.Tensor.Shape)
	if spec.Kind != value.Audio || len(spec.Shape) != 3 || spec.Shape[0] != 1 || spec.Shape[1] != 1 || !ok || out.SampleRate() != spec.Rate {
		return nil, fmt.Errorf("the plan's audio path %s → %s is not a mono chunk to audio at the same rate", spec, out)
	}
	t := &AudioTap{outRate: spec.Rate, outCh: c, rate: spec.Rate, samples: spec.Shape[2]}
	t.use(pl)
	return t, nil
}

// Set points the tap at pl (a plan of the pipeline, any type): its audio
// path when it has one of the tap's format, else none. A nil tap does
// nothing.
func (t *AudioTap) Set(pl any) {
	if t == nil {
		return
	}
	ap, _ := pl.(AudioPlan)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.use(ap)
}

func (t *AudioTap) use(ap AudioPlan) {
	t.pl = nil
	if ap == nil || IsNil(ap) {
		return
	}
	spec, out := ap.AudioSpec(), ap.AudioOutput()
	_, c, _, ok := value.AudioDims(out.Tensor.Shape)
	if spec.Kind != value.Audio || spec.Rate != t.outRate || !ok || c != t.outCh || out.SampleRate() != t.outRate ||
		len(spec.Shape) != 3 || spec.Shape[0] != 1 || spec.Shape[1] != 1 {
		return
	}
	t.pl, t.rate, t.samples = ap, spec.Rate, spec.Shape[2]
	if !value.EqualShapes(t.chunk.Shape, spec.Shape) {
		t.chunk = value.NewTensor(spec.Shape...)
	}
}

// AudioChunk is the current plan's chunk (the last one's while there is
// none).
func (t *AudioTap) AudioChunk() (rate, samples int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rate, t.samples
}

// AudioOut is the tap's output format.
func (t *AudioTap) AudioOut() (rate, channels int) { return t.outRate, t.outCh }

// ProcessAudio runs the current plan's audio path on chunk (AudioChunk's
// samples) and returns its output, channels planar.
func (t *AudioTap) ProcessAudio(chunk []float32) ([]float32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(chunk) != t.samples {
		return nil, fmt.Errorf("audio chunk of %d samples, the plan takes %d", len(chunk), t.samples)
	}
	if t.pl != nil && audioReady(t.pl) {
		copy(t.chunk.Data, chunk)
		err := t.pl.RunAudio(t.chunk)
		if out := t.pl.AudioOutput(); err == nil && len(out.Tensor.Data) == t.outCh*len(chunk) {
			t.processed++
			return out.Tensor.Data, nil
		}
		t.errs++
		if err != nil {
			t.lastErr = err
		}
	}
	if cap(t.buf) < t.outCh*len(chunk) {
		t.buf = make([]float32, t.outCh*len(chunk))
	}
	t.buf = t.buf[:t.outCh*len(chunk)]
	for c := range t.outCh {
		copy(t.buf[c*len(chunk):], chunk)
	}
	return t.buf, nil
}

// Counts returns the chunks the plans processed and those that failed
// (passed through), with the last error.
func (t *AudioTap) Counts() (processed, failed int64, last error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.processed, t.errs, t.lastErr
}

func audioReady(p AudioPlan) bool {
	r, ok := p.(interface{ AudioReady() bool })
	return !ok || r.AudioReady()
}
