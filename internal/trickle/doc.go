// Package trickle is a client for the trickle protocol that Livepeer
// orchestrators use to move live media and JSON messages over plain HTTP
// (see LIVEPEER.md §1), plus a small trickle server used as a test peer.
//
// A channel is a sequence of segments. A publisher POSTs segment N to
// {channel}/{N} with a streamed body; subscribers GET {channel}/{N} and
// receive the bytes as they arrive. The server keeps a ring of the last 5
// segments. The client handles every server behaviour the spec lists:
// -1 (next) and -2 (current, from byte 0) starts, 470 with
// Lp-Trickle-Latest (jump to the live edge), empty and dropped segments,
// gaps, publisher restarts, Lp-Trickle-Closed (end of stream), 404 (the
// channel is gone: terminal, no retries), repeated 100 Continue interim
// responses on preconnected POSTs, blocked GETs refreshed instead of timed
// out, and self-signed HTTPS.
//
// The package imports only the standard library (internal/archtest: an
// internal package may import only internal packages).
package trickle
