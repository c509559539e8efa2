// Package preview is the browser preview of `comfyrt preview`: a creator's
// camera comes in with WHIP (RFC 9725), runs through the current compiled
// workflow on the executor (latest frame wins, the latency budget) and goes
// back to any number of viewers with WHEP, beside an embedded page (plain
// HTML/JS/CSS, go:embed) that drives it.
//
// It is the only package that uses pion (internal/archtest). Media:
// incoming VP8 or H.264 RTP is depacketised with pion's codecs as each
// frame's last packet arrives (assembler: no frame of delay; a frame with a
// lost or reordered packet is dropped and a keyframe asked for) and decoded
// with FFmpeg (av.VideoDecoder); Opus audio is read and dropped.
// Output frames are encoded (av.VideoEncoder: VP8 by default, or H.264
// constrained baseline) and packetised on one shared track whose RTP
// timestamps are the PTS of the input frames that produced them (90 kHz,
// from the session's first frame); a viewer's PLI or FIR, or a new viewer,
// makes the next frame a keyframe.
//
// Endpoints (bearer token on all but the page when Config.Token is set):
// POST /whip and POST /whep take an SDP offer and answer 201 with the SDP
// answer (every candidate gathered: no trickle ICE) and a Location to
// DELETE; a new WHIP session replaces the running one. GET/POST
// /api/workflow shows and loads the workflow (UI or API format, compiled
// first, errors per node and input, swapped at a frame boundary without
// dropping the connection), POST /api/params changes literal inputs (the
// same compile-then-swap; unchanged static steps are adopted from the
// running plan once the pipeline is seen to have taken it, so they do not
// run again), GET /api/examples lists the example workflows, GET
// /api/stats gives fps, drops and latency.
//
// Goroutines: per WHIP session one reads and decodes the video track and
// the executor's pipeline owns its own; per WHEP viewer one reads RTCP.
// Workflow loads, parameter updates and stream starts are serialised.
package preview
