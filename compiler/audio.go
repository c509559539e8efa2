package compiler

import (
	"errors"
	"fmt"
	"slices"

	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// Audio through the plan (ComfyStream's LoadAudioTensor/SaveAudioTensor).
//
// A LoadAudioTensor is the stream's audio input (nodes.AudioInput) and a
// SaveAudioTensor its audio output (nodes.AudioOutput). The steps that
// depend on the audio input are audio steps: they run per audio chunk
// (RunAudio), not per video frame (RunFrame), and their outputs have
// their own buffers (the per-frame pool is not shared with them). A step
// that depends on both the video frame and the audio is refused
// (audio_video_mixed is a prepare_failed diagnostic naming the node): the
// two run on different clocks.
const (
	// AudioInput nodes receive the stream's audio chunks.
	AudioInput Role = iota + 16
	// AudioOutput nodes are the stream's audio output.
	AudioOutput
)

// audioContract assigns the audio roles and checks their counts: one
// audio stream in and out, so at most one of each (ComfyStream counts them
// with its inputs and outputs and would split one stream between two).
func audioContract(contract func(string, []*Node), ins, outs []*Node) diag.List {
	if len(ins) > 1 {
		contract("too many audio inputs in prompt (at most one LoadAudioTensor)", ins)
	}
	if len(outs) > 1 {
		contract("too many audio outputs in prompt (at most one SaveAudioTensor)", outs)
	}
	for _, n := range ins {
		n.Role = AudioInput
	}
	for _, n := range outs {
		n.Role = AudioOutput
	}
	return nil
}

// audioClock classifies step s from its linked producers (already
// classified): s.audio when it is the audio input or reads an audio step.
// It returns the reason for an audio step, and an error when s also reads
// a per-frame video step.
func audioClock(s *step, byID map[string]*step) (reason string, err error) {
	var video, audio string
	for _, in := range s.node.inputs {
		up := byID[in.From]
		if !in.Linked || up == nil || up.static {
			continue
		}
		if up.audio && audio == "" {
			audio = fmt.Sprintf("input %s <- #%s (audio)", in.Name, in.From)
		}
		if !up.audio && video == "" {
			video = fmt.Sprintf("input %s <- #%s (per-frame)", in.Name, in.From)
		}
	}
	switch {
	case s.audioIn:
		s.audio = true
		return "per-chunk: audio input", nil
	case audio != "" && video != "":
		return "", fmt.Errorf("it reads both the audio (%s) and the video frame (%s), which run on different clocks", audio, video)
	case audio != "":
		s.audio = true
		return "per-chunk: " + audio, nil
	}
	return "", nil
}

// checkAudioKernel says why k cannot be bound to s's audio role ("" when
// it can).
func checkAudioKernel(s *step, k nodes.Kernel) string {
	if _, ok := k.(nodes.AudioInput); s.audioIn && !ok {
		return fmt.Sprintf("the kernel of %s cannot be bound as the audio input", s.node)
	}
	if _, ok := k.(nodes.AudioOutput); s.audioOut && !ok {
		return fmt.Sprintf("the kernel of %s is not an audio output", s.node)
	}
	return ""
}

// splitAudio moves the audio steps out of frameRun into audioRun (the
// audio output, which does not run, into audioOut), gives the audio input
// its chunk slot and reads the chunk spec from its output.
func (pl *Plan) splitAudio() {
	pl.frameRun = slices.DeleteFunc(pl.frameRun, func(s *step) bool {
		switch {
		case s.audioOut:
			pl.audioOut = s
		case s.audio:
			pl.audioRun = append(pl.audioRun, s)
		default:
			return false
		}
		return true
	})
	for _, s := range pl.audioRun {
		if s.audioIn && len(s.outSpecs) > 0 {
			pl.audioIn = s
			pl.audioSpec = s.outSpecs[0]
			s.in = append(s.in, value.Value{})
		}
	}
}

// HasAudioInput reports whether the plan reads the stream's audio
// (LoadAudioTensor).
func (pl *Plan) HasAudioInput() bool { return pl.audioIn != nil }

// HasAudioOutput reports whether the plan writes the stream's audio
// (SaveAudioTensor). A plan without one leaves the stream's audio alone
// (copied through as it is).
func (pl *Plan) HasAudioOutput() bool { return pl.audioOut != nil }

// AudioSpec is the chunk the audio input reads per RunAudio (AUDIO
// [1,C,N] at its rate), or the zero Spec when the plan has none.
func (pl *Plan) AudioSpec() value.Spec {
	if pl.audioIn == nil {
		return value.Spec{}
	}
	return cloneSpecs([]value.Spec{pl.audioSpec})[0]
}

// RunAudio runs the audio steps on one chunk (a tensor of AudioSpec's
// shape, at its rate), after RunStatic when the static results are not
// there yet. The chunk is read, never kept. It must not run concurrently
// with RunFrame. It does not allocate in steady state.
func (pl *Plan) RunAudio(chunk value.Tensor) error {
	if pl.closed.Load() {
		return ErrClosed
	}
	if pl.audioIn == nil {
		return errors.New("the plan has no audio input")
	}
	if !pl.staticDone() {
		if err := pl.RunStatic(); err != nil {
			return err
		}
	}
	if !value.EqualShapes(chunk.Shape, pl.audioSpec.Shape) || len(chunk.Data) != pl.audioSpec.Elems() {
		return fmt.Errorf("audio chunk %s does not match the plan's %s", value.ShapeString(chunk.Shape), pl.audioSpec)
	}
	for _, s := range pl.audioRun {
		for _, l := range s.links {
			s.in[l.slot] = l.from.out[l.out]
		}
		if s.audioIn {
			s.in[len(s.in)-1] = value.OfAudio(chunk, pl.audioSpec.Rate)
		}
		err := nodes.SafeRun(s.kernel.k, s.in, s.out)
		if s.audioIn {
			s.in[len(s.in)-1] = value.Value{}
		}
		if err != nil {
			return &StepError{NodeID: s.node.ID, Class: s.node.Class, Err: err}
		}
	}
	return nil
}

// AudioOutput returns the audio the output reads after RunAudio (AUDIO
// [B,C,N] at its rate), the plan's own storage: read it, do not keep or
// modify it across runs. It is the zero Value when the plan has no audio
// output.
func (pl *Plan) AudioOutput() value.Value {
	if pl.audioOut == nil {
		return value.Value{}
	}
	for _, l := range pl.audioOut.links {
		if l.slot == 0 {
			return l.from.out[l.out]
		}
	}
	return value.Value{}
}

// AudioReady reports whether RunAudio may run beside RunFrame on another
// goroutine: the plan has an audio input, is open and its static steps
// have run (RunStatic is not for concurrent use, and RunAudio would call
// it first otherwise). The audio and video steps are disjoint, with their
// own buffers.
func (pl *Plan) AudioReady() bool {
	return pl.audioIn != nil && !pl.closed.Load() && pl.staticDone()
}
