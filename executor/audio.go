package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
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
