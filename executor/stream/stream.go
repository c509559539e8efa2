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
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

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
			if !isNil(s.Plan) {
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

// isNil reports a nil plan (a nil interface or a nil pointer in one).
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return r.IsNil()
	}
	return false
}
