// Package server is comfyrt's HTTP API for live streams: the ai-runner
// contract (POST /live-video-to-video, /health, /hardware/*, /version,
// /metrics), the BYOC contract (/stream/start|params|stop|status), and
// ComfyUI's /object_info and /prompt (validation only). Streams move over
// trickle (internal/trickle); what happens to their media is the job of a
// StreamRunner.
//
// # Goroutines
//
// The Server owns one control actor (an operations queue) that serialises
// admission, replacement and removal of streams. Each stream is a session
// with its own actor goroutine that owns the stream's state: it applies
// parameter updates (compiled first, swapped only when they compile),
// publishes events, watches input stalls and stops the stream. A session
// owns its control reader, event publisher and data publisher goroutines
// and waits for them when it stops.
//
// # Imports
//
// internal/server is a library under the CLI: cmd/comfyrt builds its
// Config from flags and nothing here imports cmd/... It imports
// executor/live for the stream contract (StreamRunner, StreamIO, Params and
// the rest, aliased in stream.go), graph/diag for ComfyUI-shaped errors and
// internal/trickle for the transport; compiler, graph, graph/validate and
// nodes/schema answer ComfyUI's /object_info and /prompt (comfy.go). It
// never imports a native package directly (internal/archtest).
//
// Config.Preview, when set (serve --preview), is mounted under /preview/:
// comfyrt preview's handler (internal/preview), handed in by the command,
// so the server does not import it.
package server
