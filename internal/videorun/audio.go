package videorun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/executor/stream"
	"comfyrt/nodes/value"
)

// DefaultAudioOut is the output of an audio run without -o.
const DefaultAudioOut = "out.wav"

// RunAudio runs an audio workflow on the audio of o.in (an audio file or a
// clip with audio): decoded, converted to the plan's chunk (mono at its
// rate), run chunk by chunk and encoded to o.Out (PCM in WAV, AAC in
// M4A/MP4/MPEG-TS).
func RunAudio(o Options, stdout, stderr io.Writer) int {
	if o.In == "" {
		fmt.Fprintf(stderr, "comfyrt run: %s processes audio: give an input with audio (-i IN.wav, .m4a, .mp4)\n", o.Workflow)
		return ExitUsage
	}
	if o.Out == "" {
		o.Out = DefaultAudioOut
	}
	pl, err := o.Compile(0, 0)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return ExitUsage
	}
	if pl == nil {
		return ExitInvalid
	}
	defer pl.Close()
	if !pl.HasAudioInput() || !pl.HasAudioOutput() {
		fmt.Fprintf(stderr, "comfyrt run: %s needs both an audio input (LoadAudioTensor) and an audio output (SaveAudioTensor)\n", o.Workflow)
		return ExitInvalid
	}
	spec := pl.AudioSpec()
	av.SetLogLevel("error")
	src, err := av.OpenAudio(o.In, av.AudioOptions{Format: o.InputFormat, Rate: spec.Rate})
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return ExitUsage
	}
	defer src.Close()
	out := pl.AudioOutput()
	rate, chans := out.SampleRate(), 0
	if _, c, _, ok := value.AudioDims(out.Tensor.Shape); ok {
		chans = c
	}
	sink, err := av.CreateAudioSink(o.Out, rate, chans, 0, av.AudioSinkOptions{Format: o.Format})
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", err)
		return ExitUsage
	}
	var in media.AudioSource = src
	if o.Duration > 0 {
		in = &limitAudio{AudioSource: src, left: int64(o.Duration.Seconds() * float64(spec.Rate))}
	}
	return finishAudio(o, pl, in, src.Info(), sink, stdout, stderr)
}

// limitAudio ends an audio source after left samples (--duration).
type limitAudio struct {
	media.AudioSource
	left int64
}

func (l *limitAudio) ReadAudio(ctx context.Context, dst []float32) (int, error) {
	if int64(len(dst)) > l.left {
		dst = dst[:l.left]
	}
	n, err := l.AudioSource.ReadAudio(ctx, dst)
	l.left -= int64(n)
	if err == nil && l.left == 0 && n < cap(dst) {
		err = io.EOF
	}
	return n, err
}

// finishAudio runs the plan over the whole input, closes the sink and
// prints a summary.
func finishAudio(o Options, pl *compiler.Plan, src media.AudioSource, in av.AudioInfo, sink *av.AudioSink, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	st, runErr := executor.RunAudio(ctx, src, pl, sink)
	closeErr := sink.Close()
	if runErr != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", runErr)
		if ctx.Err() != nil {
			return ExitInterrupted
		}
		return ExitInvalid
	}
	if closeErr != nil {
		fmt.Fprintf(stderr, "comfyrt run: %v\n", closeErr)
		return ExitInvalid
	}
	spec, out := pl.AudioSpec(), pl.AudioOutput()
	rate := out.SampleRate()
	perChunk := time.Duration(0)
	if st.Chunks > 0 {
		perChunk = st.PlanTime / time.Duration(st.Chunks)
	}
	fmt.Fprintf(stdout, "%s: %.3f s of audio at %d Hz (%s %d Hz %d ch in), %d chunks of %d samples, plan %s per chunk (max %s), %s in all\n",
		o.Out, float64(st.SamplesOut)/float64(max(rate, 1)), rate, in.Codec, in.SourceRate, in.SourceChannels,
		st.Chunks, spec.Shape[2], ms(perChunk), ms(st.MaxChunk), time.Since(start).Round(time.Millisecond))
	return ExitOK
}

// withAudioPath makes a video stream whose plan also has an audio path
// (LoadAudioTensor → … → SaveAudioTensor) run it on the input's audio:
// the output re-encodes the audio through an executor.AudioTap that
// follows the pipeline's plan. A video-only plan leaves spec alone (the
// audio is copied through as it is).
func withAudioPath(spec *stream.Spec[*compiler.Plan], info media.StreamInfo, log *slog.Logger) {
	pl := spec.Plan
	if !pl.HasAudioInput() || !pl.HasAudioOutput() {
		return
	}
	if !info.HasAudio || spec.AudioFrom == nil {
		log.Warn("the workflow processes audio but the input has none: its audio path does not run")
		return
	}
	tap, err := executor.NewAudioTap(pl)
	if err != nil {
		log.Warn("the workflow's audio path cannot run on the stream", "err", err)
		return
	}
	spec.SinkOptions.AudioProcessor = tap
	spec.Config.AudioTap = tap
}
