// Package comfyrt holds what the comfyrt binary carries inside it: the
// default workflow and the bundled sample clip, so that `comfyrt run` with
// no arguments works from any folder and after `go install`. The files
// stay where they are in the repository (go:embed reaches below the
// module root only, hence this package at the root).
package comfyrt

import _ "embed" // go:embed

// DefaultWorkflowPath and SampleClipPath are the embedded files' paths in
// the repository.
const (
	DefaultWorkflowPath = "workflows/default-api.json"
	SampleClipPath      = "testdata/media/sample.mp4"
)

// DefaultWorkflow is workflows/default-api.json.
//
//go:embed workflows/default-api.json
var DefaultWorkflow []byte

// SampleClip is testdata/media/sample.mp4 (see testdata/media/README.md:
// 5 s, 50 frames, 512×384, H.264 and AAC).
//
//go:embed testdata/media/sample.mp4
var SampleClip []byte
