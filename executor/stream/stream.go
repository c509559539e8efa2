// Package stream is the one way to assemble a stream: an input (a media
// source, opened here from a URL, a file, a pipe or a device, or given
// ready), a compiled plan and an output (an FFmpeg sink created here from
// a URL and options, or given ready) become one executor.Pipeline.
// `comfyrt run`, `comfyrt test`'s clip tests and `comfyrt bench` build
// their pipelines through New; New takes ownership of what it is given.
//
// It may import executor, executor/media and executor/media/av; it never
// imports graph or compiler (the plan type is a parameter, as in
// executor.New).
package stream

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
)

// Input is an opened input: its frames and, when it has audio, the
// FFmpeg source the output may pass the audio through from.
type Input struct {
	Source media.Source
	Audio  *av.Source // nil: no audio to pass through
}

// Info is the input's stream information.
func (in Input) Info() media.StreamInfo { return in.Source.Info() }

// Open opens an input by name: "-", "pipe:" and "pipe:N" read a pipe
// through an av.Chain (a stream whose program changes, cat a.ts b.ts,
// re-opens its demuxer and decoder there); anything else is a URL, file
// or device for av.OpenSource.
func Open(name string, opts av.SourceOptions) (Input, error) {
	if f := PipeInput(name); f != nil {
		ch, err := av.OpenChain(f, opts)
		if err != nil {
			return Input{}, err
		}
		return Input{Source: ch, Audio: ch.AudioSource()}, nil
	}
	s, err := av.OpenSource(name, opts)
	if err != nil {
		return Input{}, err
	}
	return Input{Source: s, Audio: s}, nil
}

// PipeInput returns the file behind "-", "pipe:" or "pipe:N" (nil for
// other inputs).
func PipeInput(in string) *os.File {
	switch {
	case in == "-" || in == "pipe:" || in == "pipe:0":
		return os.Stdin
	case strings.HasPrefix(in, "pipe:"):
		fd, err := strconv.Atoi(in[len("pipe:"):])
		if err != nil || fd < 0 {
			return nil
		}
		return os.NewFile(uintptr(fd), in)
	}
	return nil
}

// Spec is one stream to assemble.
type Spec[P executor.Plan[P]] struct {
	// Source is where frames come from (possibly a wrapper of an Input's
	// Source: media.NewMonotonic, a frame limit, a pacer).
	Source media.Source
	// Plan runs on every admitted frame.
	Plan P
	// Sink, when set, is the output; otherwise an FFmpeg sink is created
	// for Out with SinkOptions and the source's stream information.
	Sink        media.Sink
	Out         string
	SinkOptions av.SinkOptions
	// AudioFrom is the input's audio, passed through when the created
	// output takes it (SinkOptions.AudioFrom is set from it).
	AudioFrom *av.Source
	// AudioDropped, when set, is told why the output could not take the
	// input's audio; the stream then goes on without it.
	AudioDropped func(error)
	// WrapSink, when set, wraps the output (timing, forced keyframes);
	// closing the wrapper must close what it wraps.
	WrapSink func(media.Sink) media.Sink
	// Config is the executor's configuration; its Source, Sink and Plan
	// are filled in by New.
	Config executor.Config[P]
}

// New creates the output (unless given), wraps it and builds the
// pipeline. It owns the source, the plan and the sink: on error it closes
// them all; on success the pipeline does (Pipeline.Close).
func New[P executor.Plan[P]](s Spec[P]) (_ *executor.Pipeline[P], err error) {
	sink := s.Sink
	defer func() {
		if err != nil {
			_ = s.Source.Close()
			if !executor.IsNil(s.Plan) {
				_ = s.Plan.Close()
			}
			if sink != nil {
				_ = sink.Close()
			}
		}
	}()
	if sink == nil {
		if sink, err = createSink(s); err != nil {
			return nil, err
		}
	}
	if s.WrapSink != nil {
		sink = s.WrapSink(sink)
	}
	cfg := s.Config
	cfg.Source, cfg.Sink, cfg.Plan = s.Source, sink, s.Plan
	return executor.New(cfg)
}

// createSink creates the FFmpeg output, without the input's audio when
// the container cannot take it.
func createSink[P executor.Plan[P]](s Spec[P]) (media.Sink, error) {
	info := s.Source.Info()
	opts := s.SinkOptions
	if info.HasAudio && s.AudioFrom != nil {
		opts.AudioFrom = s.AudioFrom
	}
	sink, err := av.CreateSink(s.Out, info, opts)
	if err != nil && opts.AudioFrom != nil {
		if s.AudioDropped != nil {
			s.AudioDropped(err)
		}
		opts.AudioFrom = nil
		sink, err = av.CreateSink(s.Out, info, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", s.Out, err)
	}
	return sink, nil
}

// IsNetwork reports a network input (scheme://, not file://).
func IsNetwork(in string) bool {
	i := strings.Index(in, "://")
	return i > 0 && in[:i] != "file"
}

// IsRegularFile reports an input read from a regular file (not a pipe,
// stdin or a device).
func IsRegularFile(in, format string) bool {
	if in == "-" || strings.HasPrefix(in, "pipe:") {
		return false
	}
	switch format {
	case "lavfi", "v4l2", "video4linux2", "x11grab", "avfoundation", "dshow", "gdigrab", "kmsgrab", "fbdev", "alsa", "pulse":
		return false
	}
	st, err := os.Stat(strings.TrimPrefix(in, "file:"))
	return err == nil && st.Mode().IsRegular()
}

// Limit ends src after frames frames or duration of media time from its
// first frame (0: no limit of that kind), as `comfyrt run --frames
// --duration` do.
func Limit(src media.Source, frames int64, duration time.Duration) media.Source {
	return &limitSource{Source: src, frames: frames, duration: duration}
}

// limitSource is Limit's source.
type limitSource struct {
	media.Source
	frames   int64
	duration time.Duration
	n        int64
	first    int64
	have     bool
}

func (l *limitSource) ReadFrame(ctx context.Context, f *media.Frame) error {
	if l.frames > 0 && l.n >= l.frames {
		return io.EOF
	}
	if err := l.Source.ReadFrame(ctx, f); err != nil {
		return err
	}
	if l.duration > 0 && f.PTS != media.NoPTS && f.TimeBase.Den > 0 {
		if !l.have {
			l.first, l.have = f.PTS, true
		}
		if t := time.Duration(float64(f.PTS-l.first) * f.TimeBase.Float() * float64(time.Second)); t >= l.duration {
			return io.EOF
		}
	}
	l.n++
	return nil
}
