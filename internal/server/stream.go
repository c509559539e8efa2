package server

import "comfyrt/executor/live"

// The stream contract is executor/live's (the runner defines what a
// stream needs); the names stay here for the server's users.
type (
	Params        = live.Params
	Prepared      = live.Prepared
	SegmentSource = live.SegmentSource
	SegmentSink   = live.SegmentSink
	DataSink      = live.DataSink
	StreamIO      = live.StreamIO
	StreamStats   = live.StreamStats
	Stream        = live.Stream
	StreamRunner  = live.StreamRunner
)

// ErrOutputClosed: the gateway tore the session down (the output channel
// answered 404 or Lp-Trickle-Closed). It is live.ErrOutputClosed.
var ErrOutputClosed = live.ErrOutputClosed
