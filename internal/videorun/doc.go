// Package videorun is the logic of `comfyrt run` on video: it opens the
// input (stream.Open), compiles the workflow for the input's frame size
// through the command's hook, picks the executor's admission for the
// input's kind (files every frame; network inputs live, latest frame
// wins; pipes and devices measured), assembles the stream (stream.New),
// serves its Prometheus metrics, follows its events, the status line and
// SIGINT/SIGTERM, and writes the statistics at the end. Messages and exit
// statuses are those of `comfyrt run`; cmd/comfyrt parses the flags.
//
// It may import any production package except those above it
// (internal/server, executor/live, internal/bench, internal/wftest and
// cmd/...); internal/archtest checks it.
package videorun
