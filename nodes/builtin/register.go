package builtin

import (
	"slices"

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
	return slices.Concat(ioKernels(), imageKernels(), controlKernels(), diffusionKernels())
}

// ioKernels lists the ComfyStream I/O and audio kernels.
func ioKernels() []kernelInfo {
	img := []string{"IMAGE"}
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
	}
}

// imageKernels lists the image, mask and drawing kernels.
func imageKernels() []kernelInfo {
	img, mask := []string{"IMAGE"}, []string{"MASK"}
	return []kernelInfo{
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
		{"MaskComposite", []string{"destination", "source", "x", "y", "operation"}, mask, newMaskComposite},
		{"FeatherMask", []string{"mask", "left", "top", "right", "bottom"}, mask, newFeatherMask},
		{"CropMask", []string{"mask", "x", "y", "width", "height"}, mask, newCropMask},
		{"ImageColorToMask", []string{"image", "color"}, mask, newImageColorToMask},
		{"ImageFlip", []string{"image", "flip_method"}, img, newImageFlip},
		{"ImagePadForOutpaint", []string{"image", "left", "top", "right", "bottom", "feathering"}, []string{"IMAGE", "MASK"}, newImagePadForOutpaint},
		{"RepeatImageBatch", []string{"image", "amount"}, img, newRepeatImageBatch},
		{"ImageBatch", []string{"image1", "image2"}, img, newImageBatch},
		{"ImageFromBatch", []string{"image", "batch_index", "length"}, img, newImageFromBatch},
		{"JoinImageWithAlpha", []string{"image", "alpha"}, img, newJoinImageWithAlpha},
		{"SplitImageWithAlpha", []string{"image"}, []string{"IMAGE", "MASK"}, newSplitImageWithAlpha},
		{"EmptyLatentImage", []string{"width", "height", "batch_size"}, []string{"LATENT"}, newEmptyLatentImage},
		// ComfyUI-Background-Edit.
		{"GaussianBlur", []string{"images", "kernel_size", "sigma", "mode"}, img, newGaussianBlur},
		{"Composite", []string{"foregrounds", "backgrounds", "foreground_masks", "mode"}, img, newComposite},
		{"BackgroundColor", []string{"images", "color"}, img, newBackgroundColor},
		// ComfyUI_RealTimeNodes (drawing).
		{"QuickShapeMask", []string{"shape", "width", "height", "x", "y", "canvas_width", "canvas_height", "batch_size"}, mask, newQuickShapeMask},
		{"TextRenderer", []string{"any", "width", "height", "font_size", "font_color", "background_color", "x_offset", "y_offset", "align", "wrap_width"},
			[]string{"IMAGE", "MASK"}, newTextRenderer},
	}
}

// controlKernels lists the model, controller, text-output, pass-through and primitive kernels.
func controlKernels() []kernelInfo {
	img, mask := []string{"IMAGE"}, []string{"MASK"}
	return []kernelInfo{
		// Models (comfyrt's own classes, and DepthAnythingTensorrt backed by
		// ONNX Runtime).
		{"DepthAnythingTensorrt", []string{"images", "engine"}, img, newDepthAnything},
		{"TextDetection", []string{"image", "threshold", "max_side"}, mask, newTextDetection},
		{"ONNXModelLoader", []string{"model_name", "device"}, []string{ModelType}, newModelLoader},
		{"ONNXImageModel", []string{"image", "model", "width", "height", "layout", "channels", "mean", "std", "output_scale"},
			[]string{"IMAGE", "MASK"}, newImageModel},
		// ComfyUI_RealTimeNodes (controllers).
		{"FloatControl", []string{"always_execute", "steps_per_cycle", "movement_type", "maximum_value", "minimum_value", "starting_value"},
			[]string{"FLOAT"}, newValueControl(false)},
		{"IntControl", []string{"always_execute", "steps_per_cycle", "movement_type", "maximum_value", "minimum_value", "starting_value"},
			[]string{"INT"}, newValueControl(true)},
		{"StringControl", []string{"always_execute", "strings", "steps_per_cycle", "movement_type"}, []string{"STRING"}, newStringControl},
		{"SimilarityFilter", []string{"image", "always_execute", "threshold", "max_skip_frames"}, []string{"IMAGE", "BOOLEAN"}, newSimilarityFilter},
		{"LazyCondition", []string{"condition", "if_true", "fallback", "use_fallback"}, []string{"*"}, newLazyCondition},
		{"ROINode", []string{"mask", "action", "value", "next_roi"}, []string{"ROI"}, newROINode},
		{"IntegerMotionController", []string{"always_execute", "image", "roi_chain", "threshold", "blur_size", "minimum_value",
			"maximum_value", "starting_value", "rounding_mode"}, []string{"INT", "MASK"}, newMotionController},
		{"FPSMonitor", []string{"always_execute", "width", "height", "text_color", "text_size", "window_size"}, []string{"IMAGE", "MASK"}, newFPSMonitor},
		// ComfyStream's text output, and the Torch-Compile loaders (compiled
		// to nothing).
		{"SaveTextTensor", []string{"data", "remove_linebreaks"}, nil, newSaveTextTensor},
		{"TorchCompileLoadVAE", []string{"vae", "backend", "fullgraph", "mode", "compile_encoder", "compile_decoder"},
			[]string{"VAE"}, newPassThrough("vae")},
		{"TorchCompileLoadControlNet", []string{"controlnet", "backend", "fullgraph", "mode"}, []string{"CONTROL_NET"},
			newPassThrough("controlnet")},
		{"TorchCompileModel", []string{"model", "backend"}, []string{"MODEL"}, newPassThrough("model")},
		// Primitives.
		{"PrimitiveInt", []string{"value"}, []string{"INT"}, newPrimitive(value.Int)},
		{"PrimitiveFloat", []string{"value"}, []string{"FLOAT"}, newPrimitive(value.Float)},
		{"PrimitiveString", []string{"value"}, []string{"STRING"}, newPrimitive(value.String)},
		{"PrimitiveStringMultiline", []string{"value"}, []string{"STRING"}, newPrimitive(value.String)},
		{"PrimitiveBoolean", []string{"value"}, []string{"BOOLEAN"}, newPrimitive(value.Bool)},
	}
}

// diffusionKernels lists the Stable Diffusion kernels: ComfyUI's, StreamDiffusion's and Stream-Pack's.
func diffusionKernels() []kernelInfo {
	return []kernelInfo{
		// Stable Diffusion models (ONNX).
		{"CheckpointLoaderSimple", []string{"ckpt_name"}, []string{"MODEL", "CLIP", "VAE"}, newHandleLoader(loadCheckpoint)},
		{"TensorRTLoader", []string{"unet_name", "model_type"}, []string{"MODEL"}, newHandleLoader(loadTensorRT)},
		{"VAELoader", []string{"vae_name"}, []string{"VAE"}, newHandleLoader(loadVAE)},
		{"CLIPLoader", []string{"clip_name", "type", "device"}, []string{"CLIP"}, newHandleLoader(loadCLIP)},
		{"CLIPSetLastLayer", []string{"clip", "stop_at_clip_layer"}, []string{"CLIP"}, newHandleLoader(setLastLayer)},
		{"ControlNetLoader", []string{"control_net_name"}, []string{"CONTROL_NET"}, newHandleLoader(loadControlNet)},
		{"VAEEncode", []string{"pixels", "vae"}, []string{"LATENT"}, newVAEEncode},
		{"VAEDecode", []string{"samples", "vae"}, []string{"IMAGE"}, newVAEDecode},
		// Stable Diffusion sampling.
		{"CLIPTextEncode", []string{"text", "clip"}, []string{"CONDITIONING"}, newCLIPTextEncode},
		{"ConditioningConcat", []string{"conditioning_to", "conditioning_from"}, []string{"CONDITIONING"}, newCondOp("concat")},
		{"ConditioningCombine", []string{"conditioning_1", "conditioning_2"}, []string{"CONDITIONING"}, newCondOp("combine")},
		{"ConditioningZeroOut", []string{"conditioning"}, []string{"CONDITIONING"}, newCondOp("zero")},
		{"KSampler", ksamplerInputs, []string{"LATENT"}, newKSampler(samplerKSampler)},
		{"KSamplerAdvanced", ksamplerAdvancedInputs, []string{"LATENT"}, newKSampler(samplerAdvanced)},
		{"SamplerCustom", samplerCustomInputs, []string{"LATENT", "LATENT"}, newKSampler(samplerCustom)},
		{"KSamplerSelect", []string{"sampler_name"}, []string{"SAMPLER"}, newHandleLoader(selectSampler)},
		{"BasicScheduler", []string{"model", "scheduler", "steps", "denoise"}, []string{"SIGMAS"}, newHandleLoader(basicScheduler)},
		{"ControlNetApplyAdvanced", controlNetApplyInputs, []string{"CONDITIONING", "CONDITIONING"}, newControlNetApply},
		{"ModelSamplingDiscrete", modelSamplingInputs, []string{"MODEL"}, newHandleLoader(patchModelSampling)},
		{"FeatureBankAttentionProcessor", featureBankInputs, []string{"MODEL"}, newFeatureBank},
		// pschroedl/ComfyUI-StreamDiffusion (streamdiffusion*.go).
		{"StreamDiffusionCheckpointLoader", []string{"checkpoint"}, []string{"SDMODEL"}, newHandleLoader(loadStreamCheckpoint("checkpoint"))},
		{"StreamDiffusionLPCheckpointLoader", []string{"model_name"}, []string{"SDMODEL"}, newHandleLoader(loadStreamCheckpoint("model_name"))},
		{"StreamDiffusionTensorRTEngineLoader", []string{"engine_name"}, []string{"SDMODEL"}, newHandleLoader(loadStreamEngine)},
		{"StreamDiffusionLoraLoader", []string{"lora_name", "strength", "previous_loras"}, []string{"LORA_DICT"}, newHandleLoader(refuseStreamLoRA)},
		{"StreamDiffusionAdvancedConfig", []string{"warmup", "do_add_noise", "use_denoising_batch", "enable_similar_image_filter",
			"similar_image_filter_threshold", "similar_image_filter_max_skip_frame", "device", "dtype", "device_ids", "use_safety_checker",
			"engine_dir"}, []string{"ADVANCED_CONFIG"}, newHandleLoader(streamAdvancedConfig)},
		{"StreamDiffusionConfig", []string{"model", "t_index_list", "mode", "width", "height", "acceleration", "frame_buffer_size",
			"use_tiny_vae", "cfg_type", "use_lcm_lora", "seed", "opt_lora_dict", "opt_advanced_config"}, []string{"STREAM_MODEL"},
			newHandleLoader(streamConfig)},
		{"StreamDiffusionPrebuiltConfig", []string{"engine_config", "t_index_list", "mode", "frame_buffer_size", "width", "height", "model",
			"opt_lora_dict", "opt_advanced_config"}, []string{"STREAM_MODEL"}, newHandleLoader(streamPrebuiltConfig)},
		{"StreamDiffusionSampler", streamSamplerInputs, []string{"IMAGE"}, newStreamSampler},
		{"LatentUpscale", []string{"samples", "upscale_method", "width", "height", "crop"}, []string{"LATENT"}, newLatentUpscale(false)},
		{"LatentUpscaleBy", []string{"samples", "upscale_method", "scale_by"}, []string{"LATENT"}, newLatentUpscale(true)},
		// livepeer/ComfyUI-Stream-Pack's batched denoising (sd_stream_batch.go).
		{"StreamBatchSampler", []string{"num_steps"}, []string{"SAMPLER"}, newHandleLoader(streamBatchSampler)},
		{"StreamScheduler", []string{"model", "t_index_list", "num_inference_steps"}, []string{"SIGMAS"}, newHandleLoader(streamScheduler)},
		{"StreamFrameBuffer", []string{"latent", "buffer_size"}, []string{"LATENT"}, newStreamFrameBuffer},
	}
}

// Register adds the built-in kernels to r. It panics if r already has one
// of their classes (call it once, on a fresh registry, before stream packs
// register theirs).
func Register(r *nodes.Registry) {
	traits := classTraits()
	for _, k := range kernels() {
		r.MustRegister(k.class, k.factory)
		if t, ok := traits[k.class]; ok {
			if err := r.SetTraits(k.class, t); err != nil {
				panic(err)
			}
		}
	}
}
