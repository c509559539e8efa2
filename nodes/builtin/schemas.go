package builtin

import (
	_ "embed"
	"fmt"
	"sync"

	"comfyrt/nodes/schema"
)

// Source is the Source of every built-in class.
const Source = "builtin"

// schemasJSON is the object_info document of the built-in classes, written
// by hand. Sources of the facts, per class:
//
//   - ComfyUI core (LoadImage, PreviewImage, SaveImage, ImageInvert,
//     ImageScale, ImageScaleBy, EmptyImage: nodes.py; ImageBlend, ImageBlur,
//     ImageSharpen: comfy_extras/nodes_post_processing.py (V3 nodes, served
//     with display_name null and V3 COMBO); ImageCompositeMasked,
//     ImageToMask, MaskToImage, InvertMask, ThresholdMask, SolidMask,
//     GrowMask: comfy_extras/nodes_mask.py; ImageCrop:
//     comfy_extras/nodes_images.py; Primitive*:
//     comfy_extras/nodes_primitive.py), as a recent ComfyUI serves them.
//   - ComfyStream (livepeer/comfystream@4e9dace nodes/): LoadTensor,
//     SaveTensor, SaveTextTensor, LoadAudioTensor, SaveAudioTensor,
//     PitchShifter (nodes/audio_utils/pitch_shift.py), and
//     PrimaryInputLoadImage, a subclass of LoadImage with its inputs and
//     outputs and the display name "Primary Input Load Image".
//   - yondonfu/ComfyUI-Background-Edit nodes/gaussian_blur.py (@44a78bd),
//     nodes/composite.py, nodes/background_color.py: CATEGORY
//     "background-edit", RETURN_TYPES ("IMAGE",), no display-name mapping
//     (so ComfyUI serves the class name).
//   - yuvraj108c/ComfyUI-Depth-Anything-Tensorrt
//     nodes/depth_anything_tensorrt.py: images IMAGE, engine a combo of the
//     files in models/tensorrt/depth-anything, RETURN_NAMES/TYPES
//     ("IMAGE",), CATEGORY "tensorrt", OUTPUT_NODE True, display name
//     "Depth Anything Tensorrt ⚡".
//
// python_module of custom-node classes is "custom_nodes.<folder>" as
// ComfyUI names it, with the folder each pack is usually cloned into.
//
// Folder lists: ComfyUI fills some combos when it starts, from a folder
// (see FolderInputs). Schemas makes them open lists (schema.Node.WithFolder:
// any file name is accepted); the CLI fills them from the folders it is
// given (FolderLists, schema.Node.WithChoices) before checking a workflow,
// which closes them.
//
//go:embed schemas.json
var schemasJSON []byte

var (
	parseOnce sync.Once
	parsed    *schema.Set
)

// Schemas returns the built-in node classes, each with Source "builtin". The
// Set is new on each call (the nodes in it are shared and read-only), so a
// caller may add to it or merge object_info files into it.
func Schemas() *schema.Set {
	parseOnce.Do(func() {
		s, err := schema.Parse(schemasJSON, Source)
		if err != nil {
			// The embedded file is part of the program; a test parses it.
			panic(fmt.Sprintf("builtin: embedded schemas.json: %v", err))
		}
		for _, fi := range FolderInputs() {
			n, err := s.Lookup(fi.Class).WithFolder(fi.Input, fi.Folder)
			if err != nil {
				panic(fmt.Sprintf("builtin: FolderInputs: %v", err))
			}
			s.Add(n)
		}
		parsed = s
	})
	return parsed.Clone()
}

// FolderInput names a combo input whose choices ComfyUI lists from a folder
// when it starts; the built-in schemas make them open lists of that folder
// (schema.FolderOption).
type FolderInput struct {
	Class string
	Input string
	// Folder is ComfyUI's folder for the files, relative to its base
	// directory.
	Folder string
}

// FolderInputs returns the built-in combo inputs whose choices the caller
// fills from a folder.
func FolderInputs() []FolderInput {
	return []FolderInput{
		{Class: "LoadImage", Input: "image", Folder: "input"},
		{Class: "PrimaryInputLoadImage", Input: "image", Folder: "input"},
		{Class: "DepthAnythingTensorrt", Input: "engine", Folder: "models/tensorrt/depth-anything"},
	}
}
