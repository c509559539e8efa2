package value

import "strconv"

// Audio is ComfyUI's AUDIO, {"waveform": [B,C,N], "sample_rate": R}: a
// float32 tensor [B,C,N] (batch, channels, samples; values -1..1, as
// ComfyStream's LoadAudioTensor makes them from int16 by /32768) whose
// sample rate travels beside it: Spec.Rate when the plan is built,
// Value.Int at run time (OfAudio, Value.SampleRate). It is a tensor kind
// (IsTensor), so buffers, budgets and plan dumps treat it as one.
//
// Its number is fixed apart from the kinds of kind.go, so that kinds added
// elsewhere do not renumber it.
const Audio Kind = 32

// DefaultAudioRate is the sample rate of the stream's audio in plans:
// ComfyStream's live path decodes and encodes audio at 48 kHz.
const DefaultAudioRate = 48000

// AudioSpec returns the spec of an AUDIO [b,c,n] at rate samples per
// second.
func AudioSpec(b, c, n, rate int) Spec {
	return Spec{Kind: Audio, Shape: []int{b, c, n}, Rate: rate}
}

// OfAudio returns an Audio value over t ([B,C,N], not copied) at rate
// samples per second.
func OfAudio(t Tensor, rate int) Value { return Value{Kind: Audio, Tensor: t, Int: int64(rate)} }

// SampleRate returns the sample rate of an Audio value (0 for other
// kinds).
func (v Value) SampleRate() int {
	if v.Kind != Audio {
		return 0
	}
	return int(v.Int)
}

// AudioDims returns B, C, N of an AUDIO shape; ok is false unless the shape
// has three positive dimensions.
func AudioDims(shape []int) (b, c, n int, ok bool) {
	if len(shape) != 3 || NumElems(shape) == 0 {
		return 0, 0, 0, false
	}
	return shape[0], shape[1], shape[2], true
}

// audioSuffix formats the rate of an audio spec or value: "@48000Hz".
func audioSuffix(rate int) string { return "@" + strconv.Itoa(rate) + "Hz" }
