package builtin

import (
	"errors"
	"fmt"
	"math"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// maxAudioBufferMs bounds LoadAudioTensor's buffer_size: a chunk is held
// in memory whole, and a run waits for it.
const maxAudioBufferMs = 60_000

// loadAudioTensor is ComfyStream's LoadAudioTensor: the stream's audio
// input (nodes.AudioInput). Its chunk is mono at value.DefaultAudioRate
// (48 kHz, as ComfyStream's live path) of int(rate·buffer_size/1000)
// samples, the size ComfyStream's node accumulates before it returns. Its
// timeout_seconds (how long ComfyStream waits for audio) has no meaning
// here: the executor owns admission, and the end of a stream is flushed as
// a last chunk padded with silence.
type loadAudioTensor struct {
	base
	spec value.Spec
}

func newLoadAudioTensor(cfg nodes.Config) (nodes.Kernel, error) {
	return &loadAudioTensor{base: base{cfg}}, nil
}

func (k *loadAudioTensor) AudioInput() {}

func (k *loadAudioTensor) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "buffer_size", "timeout_seconds")
	ms := a.float(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if math.IsNaN(ms) || ms <= 0 || ms > maxAudioBufferMs {
		return nil, fmt.Errorf("input buffer_size: %v ms is not in (0, %d]", ms, maxAudioBufferMs)
	}
	rate := value.DefaultAudioRate
	n := int(float64(rate) * ms / 1000)
	if n < 1 {
		return nil, fmt.Errorf("input buffer_size: %v ms is less than one sample at %d Hz", ms, rate)
	}
	k.spec = value.AudioSpec(1, 1, n, rate)
	return []value.Spec{k.spec}, nil
}

func (k *loadAudioTensor) Run(in, out []value.Value) error {
	if len(in) == 0 {
		return errors.New("LoadAudioTensor reads the stream's audio: it must be bound as the audio input")
	}
	c := in[len(in)-1]
	if c.Kind != value.Audio || c.SampleRate() != k.spec.Rate || !value.EqualShapes(c.Tensor.Shape, k.spec.Shape) || !c.Tensor.Valid() {
		return fmt.Errorf("audio chunk %s does not match the node's %s", c, k.spec)
	}
	copyFrame(out[0].Tensor.Data, c.Tensor.Data)
	return nil
}

// saveAudioTensor is ComfyStream's SaveAudioTensor: its input is the
// stream's audio output (nodes.AudioOutput), which the executor reads.
type saveAudioTensor struct{ base }

func newSaveAudioTensor(cfg nodes.Config) (nodes.Kernel, error) {
	return &saveAudioTensor{base: base{cfg}}, nil
}

func (k *saveAudioTensor) AudioOutput() {}

func (k *saveAudioTensor) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "audio")
	a.audio(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return []value.Spec{}, nil
}

func (k *saveAudioTensor) Run(_, _ []value.Value) error { return nil }

// maxPitchSteps bounds the shift (the schema allows 0..12 for widgets; a
// linked value may be anything): the stretched signal is 2^(steps/12)
// times as long.
const maxPitchSteps = 48

// pitchShifter is ComfyStream's PitchShifter (librosa's pitch_shift; see
// pitchshift.go): each channel of each batch item is shifted by
// pitch_shift semitones, keeping its length and sample rate. A linked
// pitch_shift may change per run; a new value rebuilds the buffers then.
type pitchShifter struct {
	base
	spec  value.Spec
	sh    *shifter
	steps float64
}

func newPitchShifter(cfg nodes.Config) (nodes.Kernel, error) {
	return &pitchShifter{base: base{cfg}}, nil
}

func (k *pitchShifter) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "audio", "pitch_shift")
	_, _, n := a.audio(0)
	steps := k.constSteps(a)
	if err := a.Err(); err != nil {
		return 0, err
	}
	return shifterBytes(n, steps), nil
}

// constSteps reads pitch_shift when it is known (else 12, the bound the
// buffers are sized for) and checks its range.
func (k *pitchShifter) constSteps(a *args) float64 {
	s := a.spec(1)
	if s.Const == nil && (s.Kind == value.Float || s.Kind == value.Int) {
		return 12
	}
	v := a.float(1)
	if math.IsNaN(v) || math.Abs(v) > maxPitchSteps {
		a.errorf(1, "%v semitones is not in [-%d, %d]", v, maxPitchSteps, maxPitchSteps)
	}
	return v
}

func (k *pitchShifter) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "audio", "pitch_shift")
	_, _, n := a.audio(0)
	steps := k.constSteps(a)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.spec = in[0]
	k.steps = steps
	k.sh = newShifter(n, in[0].Rate, steps)
	out := value.AudioSpec(in[0].Shape[0], in[0].Shape[1], n, in[0].Rate)
	return []value.Spec{out}, nil
}

func (k *pitchShifter) Run(in, out []value.Value) error {
	x := in[0]
	if err := checkTensor(x, k.spec.Elems(), "audio"); err != nil {
		return err
	}
	steps := k.steps
	if p := in[1]; p.Kind == value.Float || p.Kind == value.Int {
		steps = p.Float
		if p.Kind == value.Int {
			steps = float64(p.Int)
		}
		if math.IsNaN(steps) || math.Abs(steps) > maxPitchSteps {
			return fmt.Errorf("input pitch_shift: %v semitones is not in [-%d, %d]", steps, maxPitchSteps, maxPitchSteps)
		}
	}
	if steps != k.sh.steps {
		k.sh = newShifter(k.sh.n, k.sh.rate, steps)
	}
	n := k.sh.n
	dst := out[0].Tensor.Data
	for r := 0; r+n <= len(x.Tensor.Data); r += n {
		k.sh.run(dst[r:r+n], x.Tensor.Data[r:r+n])
	}
	return nil
}

// audio checks that slot i is an AUDIO [B,C,N] with a sample rate and
// returns its dims.
func (a *args) audio(i int) (b, c, n int) {
	s := a.spec(i)
	if s.Kind != value.Audio {
		a.errorf(i, "want AUDIO, got %s", s.Kind)
		return 0, 0, 0
	}
	b, c, n, ok := value.AudioDims(s.Shape)
	if !ok {
		a.errorf(i, "AUDIO shape %s is not [B,C,N]", value.ShapeString(s.Shape))
	}
	if s.Rate <= 0 {
		a.errorf(i, "AUDIO has no sample rate")
	}
	return b, c, n
}
