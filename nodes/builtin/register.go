package builtin

import (
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// kernelInfo describes one built-in kernel: its class, the declared inputs
// it reads in slot order (ComfyUI's input_order: required, then optional;
// hidden inputs excluded), its output types and its factory.
type kernelInfo struct {
	class   string
	inputs  []string
	outputs []string
	factory nodes.Factory
}

// kernels lists every built-in kernel. Input names and order are
// ComfyUI's (checked against the object_info schemas by a test).
func kernels() []kernelInfo {
	img, mask := []string{"IMAGE"}, []string{"MASK"}
	return []kernelInfo{
		// I/O (ComfyStream contract).
		{"LoadImage", []string{"image"}, []string{"IMAGE", "MASK"}, newLoadImage},
		{"PrimaryInputLoadImage", []string{"image"}, []string{"IMAGE", "MASK"}, newLoadImage},
		{"LoadTensor", []string{"timeout_seconds"}, img, newLoadTensor},
		{"SaveTensor", []string{"images"}, nil, newFrameOutput("images")},
		{"PreviewImage", []string{"images"}, nil, newFrameOutput("images")},
		{"SaveImage", []string{"images", "filename_prefix"}, nil, newFrameOutput("images", "filename_prefix")},
		// Audio (ComfyStream).
		{"LoadAudioTensor", []string{"buffer_size", "timeout_seconds"}, []string{"AUDIO"}, newLoadAudioTensor},
		{"SaveAudioTensor", []string{"audio"}, nil, newSaveAudioTensor},
		{"PitchShifter", []string{"audio", "pitch_shift"}, []string{"AUDIO"}, newPitchShifter},
		// Image.
		{"ImageInvert", []string{"image"}, img, newImageInvert},
		{"ImageScale", []string{"image", "upscale_method", "width", "height", "crop"}, img, newImageScale},
		{"ImageScaleBy", []string{"image", "upscale_method", "scale_by"}, img, newImageScaleBy},
		{"ImageBlend", []string{"image1", "image2", "blend_factor", "blend_mode"}, img, newImageBlend},
		{"ImageBlur", []string{"image", "blur_radius", "sigma"}, img, newImageBlur},
		{"ImageSharpen", []string{"image", "sharpen_radius", "sigma", "alpha"}, img, newImageSharpen},
		{"ImageCompositeMasked", []string{"destination", "source", "x", "y", "resize_source", "mask"}, img, newImageCompositeMasked},
		{"ImageCrop", []string{"image", "width", "height", "x", "y"}, img, newImageCrop},
		{"EmptyImage", []string{"width", "height", "batch_size", "color"}, img, newEmptyImage},
		// Mask.
		{"ImageToMask", []string{"image", "channel"}, mask, newImageToMask},
		{"MaskToImage", []string{"mask"}, img, newMaskToImage},
		{"InvertMask", []string{"mask"}, mask, newInvertMask},
		{"ThresholdMask", []string{"mask", "value"}, mask, newThresholdMask},
		{"SolidMask", []string{"value", "width", "height"}, mask, newSolidMask},
		{"GrowMask", []string{"mask", "expand", "tapered_corners"}, mask, newGrowMask},
		// ComfyUI-Background-Edit.
		{"GaussianBlur", []string{"images", "kernel_size", "sigma", "mode"}, img, newGaussianBlur},
		{"Composite", []string{"foregrounds", "backgrounds", "foreground_masks", "mode"}, img, newComposite},
		{"BackgroundColor", []string{"images", "color"}, img, newBackgroundColor},
		// Models (comfyrt's own classes, and DepthAnythingTensorrt backed by
		// ONNX Runtime).
		{"DepthAnythingTensorrt", []string{"images", "engine"}, img, newDepthAnything},
		{"TextDetection", []string{"image", "threshold", "max_side"}, mask, newTextDetection},
		{"ONNXModelLoader", []string{"model_name", "device"}, []string{ModelType}, newModelLoader},
		{"ONNXImageModel", []string{"image", "model", "width", "height", "layout", "channels", "mean", "std", "output_scale"},
			[]string{"IMAGE", "MASK"}, newImageModel},
		// Primitives.
		{"PrimitiveInt", []string{"value"}, []string{"INT"}, newPrimitive(value.Int)},
		{"PrimitiveFloat", []string{"value"}, []string{"FLOAT"}, newPrimitive(value.Float)},
		{"PrimitiveString", []string{"value"}, []string{"STRING"}, newPrimitive(value.String)},
		{"PrimitiveStringMultiline", []string{"value"}, []string{"STRING"}, newPrimitive(value.String)},
		{"PrimitiveBoolean", []string{"value"}, []string{"BOOLEAN"}, newPrimitive(value.Bool)},
	}
}

// Register adds the built-in kernels to r. It panics if r already has one
// of their classes (call it once, on a fresh registry, before stream packs
// register theirs).
func Register(r *nodes.Registry) {
	for _, k := range kernels() {
		r.MustRegister(k.class, k.factory)
	}
}
