package nodes

// AudioInput is implemented by kernels that stand for the stream's audio
// input (ComfyStream's LoadAudioTensor). Prepare gets the declared inputs
// and returns, as its first output, the chunk the node reads per run:
// AUDIO [1,C,N] at rate R (value.AudioSpec). The executor converts the
// stream's audio to R samples per second and C channels and cuts it into
// chunks of N samples. Run gets the declared inputs followed by one more
// value, the chunk (of that spec), and writes it to its first output.
type AudioInput interface {
	Kernel
	// AudioInput is a marker; it does nothing.
	AudioInput()
}

// AudioOutput is implemented by kernels whose first input is the stream's
// audio output (ComfyStream's SaveAudioTensor). They have no outputs and
// their Run does nothing: the executor reads the input buffer.
type AudioOutput interface {
	Kernel
	// AudioOutput is a marker; it does nothing.
	AudioOutput()
}
