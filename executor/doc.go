// Package executor runs a compiled plan on live video: decode → admission
// (latest frame wins, frame-rate cap, latency budget) → plan → encode, with
// owned goroutines, warm-up, correct timestamps, live plan swaps and
// metrics.
//
// # Goroutines
//
// A Pipeline owns four goroutines, started by Start and awaited by Close:
// decode (Source.ReadFrame), plan (RGB8 → tensor, Plan.RunFrame, tensor →
// RGB8), encode (Sink.WriteFrame) and the control actor, which serialises
// plan swaps, budget changes and stats snapshots. Frames move through
// bounded queues and a pool of frame buffers, so a steady stream allocates
// nothing per frame.
//
// # Admission
//
// At most one frame is in the plan and one is queued; a newer frame
// replaces the queued one (latest wins), as ComfyStream's 1-slot input
// queue does. Before admission, frames closer than 1/MaxFPS to the last
// admitted one (by PTS, like the Livepeer decoders) are dropped. Before a
// frame starts, the latency budget is checked: age (now − Captured) plus
// the expected plan time (an EWMA) must fit in Budget. Every drop is a
// counter by DropReason and an Event, never a log line.
//
// # Timestamps
//
// An output frame carries the PTS, TimeBase, Index and Captured of the
// input frame that produced it. Frames are never reordered, and a frame
// whose PTS is not above every PTS admitted before it is dropped
// (DropPTS), so output PTS are strictly increasing and a dropped frame's
// PTS is never reused.
//
// A plan that reads frame times (SetFrameTime, as *compiler.Plan) gets each
// frame's: its PTS since the first frame the pipeline ran (the index at 30
// per second for a frame without PTS) and its source index; warm-up frames
// are marked as such, so that stateful steps skip them. A plan with text
// outputs (TextOutputs) hands them to Config.OnText after each frame, with
// the frame's index and time (Text, TextLine: the JSON line of a stream's
// data output).
//
// # Audio
//
// A plan with an audio path (compiler: LoadAudioTensor → … →
// SaveAudioTensor) runs on the stream's audio in chunks. RunAudio
// processes a whole audio stream on its own (media.AudioSource to
// media.AudioSink, audio workflows on audio files). Beside video, an
// AudioTap runs the current plan's audio path for the sink that
// re-encodes the input's audio (media.AudioProcessor): the pipeline
// points it at every plan it switches to (Config.AudioTap), and it runs
// on the encoder's goroutine, beside RunFrame, on the audio steps only.
//
// # Plans
//
// Package executor works on compiled plans only and never imports graph
// (internal/archtest enforces it). It drives any type with
// *compiler.Plan's run-time methods (see Plan), so tests can substitute
// their own; Pipeline[*compiler.Plan] is the one the CLI uses. From
// compiler it uses only StepError, to name the failing node.
package executor
