package main

import (
	"io"

	"comfyrt/compiler"
	"comfyrt/graph"
	"comfyrt/internal/videorun"
	"comfyrt/nodes/builtin"
)

// Classes that make a workflow video (ComfyStream's video inputs and
// outputs) or audio (its audio input and output).
var (
	videoIOClasses = []string{"LoadTensor", "PrimaryInputLoadImage", "LoadImage", "SaveTensor", "PreviewImage", "SaveImage"}
	audioIOClasses = []string{"LoadAudioTensor", "SaveAudioTensor"}
)

// isAudioOnly reports whether a workflow has ComfyStream audio I/O nodes
// and no video ones: it then runs on the input's audio (runAudio), with no
// picture or video involved.
func isAudioOnly(wf workflowSource) bool {
	w, _ := graph.Load(wf.name, wf.data, graph.Options{Schemas: builtin.Schemas()})
	if w.Prompt == nil {
		return false
	}
	audio := false
	for _, n := range w.Prompt.Nodes {
		for _, c := range videoIOClasses {
			if n.ClassType == c {
				return false
			}
		}
		for _, c := range audioIOClasses {
			audio = audio || n.ClassType == c
		}
	}
	return audio
}

// runAudio runs an audio workflow on the audio of o.in
// (videorun.RunAudio), compiled with this command's schemas, packs and
// engine flags.
func runAudio(o videoOpts, wf workflowSource, stdout, stderr io.Writer) int {
	return videorun.RunAudio(videorun.Options{
		Workflow: wf.name, In: o.in, Out: o.out, InputFormat: o.inFormat, Format: o.format, Duration: o.duration,
		Logger: o.logger,
		Compile: func(w, h int) (*compiler.Plan, error) {
			return compileFile(wf.name, wf.data, o.objectInfo, o.inputDir, w, h, o.ef, stderr)
		},
	}, stdout, stderr)
}
