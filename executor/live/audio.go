package live

import (
	"errors"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/nodes/value"
)

var errNoAudio = errors.New("live: no workflow with an audio path runs")

// The audio path of a stream's workflow (LoadAudioTensor → … →
// SaveAudioTensor) runs on the input's audio through an executor.AudioTap
// when the stream's first workflow has one: the output then re-encodes
// the audio (AAC) through the running plan's audio path, following every
// swap; while a plan has none (passthrough, a loading frame, a
// video-only update) the audio passes through the tap unchanged. A stream
// whose first workflow has no audio path copies its audio as before, and
// a later update cannot add one.

// firstAudioTap is the tap of a stream whose first workflow is pl, or nil
// when pl has no audio path. It runs nothing until the executor points it
// at a plan.
func firstAudioTap(pl *compiler.Plan) *executor.AudioTap {
	if pl == nil || !pl.HasAudioInput() || !pl.HasAudioOutput() {
		return nil
	}
	tap, err := executor.NewAudioTap(pl)
	if err != nil {
		return nil
	}
	tap.Set(nil)
	return tap
}

// withAudio makes the stream's output run its tap on the input's audio,
// when it has both.
func (s *stream) withAudio(sinkOpts *av.SinkOptions, cfg *executor.Config[*livePlan], info media.StreamInfo, from *av.Source) {
	if s.audio == nil || !info.HasAudio || from == nil {
		return
	}
	sinkOpts.AudioProcessor = s.audio
	cfg.AudioTap = s.audio
}

// AudioSpec, RunAudio, AudioOutput and AudioReady are the compiled plan's
// (executor.AudioPlan); a livePlan without one has no audio path.

func (l *livePlan) AudioSpec() value.Spec {
	if l.p == nil {
		return value.Spec{}
	}
	return l.p.AudioSpec()
}

func (l *livePlan) RunAudio(chunk value.Tensor) error {
	if l.p == nil {
		return errNoAudio
	}
	return l.p.RunAudio(chunk)
}

func (l *livePlan) AudioOutput() value.Value {
	if l.p == nil {
		return value.Value{}
	}
	return l.p.AudioOutput()
}

func (l *livePlan) AudioReady() bool { return l.p != nil && l.p.AudioReady() }
