// Package executor runs a compiled plan on live video: decode → admission
// (latest frame wins, frame-rate cap, latency budget) → plan → encode, with
// owned goroutines, warm-up, correct timestamps, live parameter swaps and
// metrics.
//
// Package executor works on compiler.Plan only and must never import graph;
// media comes through executor/media, FFmpeg only in executor/media/av.
//
// Status: arrives with issue 4.
package executor
