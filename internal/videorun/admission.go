package videorun

import (
	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/stream"
)

// inputMode is how a run treats its input: live (network inputs, --live
// yes), measured (--live auto on a pipe or device: executor.Auto) or
// neither; regular reports a regular file.
type inputMode struct{ live, measured, regular bool }

func modeOf(o Options) inputMode {
	// auto: network inputs are live, regular files are not, pipes and
	// devices are measured (executor.Auto).
	regular := stream.IsRegularFile(o.In, o.InputFormat)
	return inputMode{
		live:     o.Live == "yes" || (o.Live == "auto" && stream.IsNetwork(o.In)),
		measured: o.Live == "auto" && !stream.IsNetwork(o.In) && !regular,
		regular:  regular,
	}
}

// rebase reports an input whose timestamps may restart: a restarted
// publisher or a timestamp reset must not stall the stream behind the old
// timestamps (media.NewMonotonic, av.SinkOptions.RebaseAudio).
func (m inputMode) rebase() bool { return m.live || m.measured || !m.regular }

// executorConfig is the executor's admission for the input's mode.
func (o Options) executorConfig(m inputMode, events chan executor.Event) executor.Config[*compiler.Plan] {
	queue := executor.Block // files: every frame, none dropped for lack of room
	maxFPS, liveFPS := o.MaxFPS, 0.0
	budget := o.Budget
	switch {
	case m.live:
		queue = executor.LatestWins
	case m.measured:
		// Paced like a file until the input is found to arrive at real
		// time; then live, with the fps cap and the budget.
		queue = executor.Auto
		liveFPS = maxFPS
		if !o.MaxFPSSet {
			maxFPS = -1
		}
	default:
		budget = 0 // a file's frames wait for the plan by design
		if !o.MaxFPSSet {
			maxFPS = -1 // every frame: the fps cap is for live inputs
		}
	}
	policy := executor.DropFrame
	if o.OnError == "passthrough" {
		policy = executor.PassThrough
	}
	return executor.Config[*compiler.Plan]{MaxFPS: maxFPS, LiveMaxFPS: liveFPS, Budget: budget, Queue: queue,
		OnError: policy, Events: events, OnText: o.OnText}
}
