// Package compiler turns a validated workflow into an immutable per-frame
// plan: compiler.Check builds the typed DAG from a graph.Prompt and the node
// schemas; compiler.Compile applies the ComfyStream I/O contract, prunes
// what reaches no output, splits static steps (run once at warm-up) from
// per-frame steps, schedules them, assigns buffers and binds kernels and
// engine sessions.
//
// Package compiler must not import executor, streampack, or any cgo
// package (compiler/engine/ort): engines come in through compiler/engine.
//
// Status: the compiler arrives with issue 3; this package is its home.
package compiler
