// Package builtin holds comfyrt's built-in nodes: the pure-Go kernels and,
// next to them, the schema each kernel reads (Schemas, from the embedded
// schemas.json). Every other class comfyrt knows (ComfyUI core, the
// real-time custom packs) has its schema in nodes/known, which merges
// these over its tables; a test checks that a built-in schema of a core
// class has no difference from the core table's.
//
// The built-in classes are the ComfyStream I/O nodes (LoadTensor,
// SaveTensor, PrimaryInputLoadImage, SaveTextTensor, LoadAudioTensor,
// SaveAudioTensor) and ComfyStream's PitchShifter (librosa's pitch shift
// written in Go: STFT, phase vocoder, FFT resampling; pitchshift.go),
// ComfyUI's LoadImage, PreviewImage, SaveImage, the image
// and mask nodes a real-time workflow uses (ImageInvert, ImageScale,
// ImageScaleBy, ImageBlend, ImageBlur, ImageSharpen, ImageCompositeMasked,
// ImageCrop, EmptyImage, ImageToMask, MaskToImage, InvertMask,
// ThresholdMask, SolidMask, GrowMask, MaskComposite, FeatherMask,
// CropMask, ImageColorToMask, ImageFlip, ImagePadForOutpaint,
// RepeatImageBatch, ImageBatch, ImageFromBatch, JoinImageWithAlpha,
// SplitImageWithAlpha), EmptyLatentImage (a LATENT tensor), the primitives
// (PrimitiveInt, PrimitiveFloat, PrimitiveString, PrimitiveStringMultiline,
// PrimitiveBoolean), ComfyUI-Background-Edit's GaussianBlur, Composite and
// BackgroundColor, ComfyUI_RealTimeNodes' QuickShapeMask and TextRenderer
// (drawn in the Go font, golang.org/x/image), its controllers and monitors
// (FloatControl, IntControl, StringControl, IntegerMotionController,
// ROINode, LazyCondition, FPSMonitor, SimilarityFilter: time-varying or
// stateful, traits.go), the pass-throughs TorchCompileLoadVAE,
// TorchCompileLoadControlNet and ComfyUI's TorchCompileModel,
// DepthAnythingTensorrt, and the Stable Diffusion model nodes on ONNX
// exports (sd_loaders.go, sd_vae.go: CheckpointLoaderSimple,
// ComfyUI_TensorRT's TensorRTLoader, VAELoader with taesd, CLIPLoader,
// CLIPSetLastLayer, ControlNetLoader, VAEEncode, VAEDecode; the export
// layout is nodes/diffusion/sdmodel's) and the prompt and sampler nodes
// (sd_cond.go, sd_sampler.go, sd_unet.go: CLIPTextEncode,
// ConditioningConcat, ConditioningCombine, ConditioningZeroOut, KSampler,
// KSamplerAdvanced, SamplerCustom, KSamplerSelect, BasicScheduler; the
// maths are nodes/diffusion/clip's and nodes/diffusion/sampling's),
// ModelSamplingDiscrete (sd_modelsampling.go), ComfyUI-Stream-Pack's
// FeatureBankAttentionProcessor (sd_featurebank.go: a pass-through over a
// TensorRTLoader MODEL, as its sources show), ControlNetApplyAdvanced
// (sd_controlnet.go, chains included; the ControlNets run inside the
// sampler's denoiser, sd_controlnet_run.go), and
// pschroedl/ComfyUI-StreamDiffusion's nodes (streamdiffusion*.go: the
// checkpoint and engine-set loaders, StreamDiffusionAdvancedConfig,
// StreamDiffusionConfig, StreamDiffusionPrebuiltConfig, the stateful
// StreamDiffusionSampler on nodes/diffusion/streamdiff's stream, and
// StreamDiffusionLoraLoader, refused: a LoRA must be fused before export),
// and Stream-Pack's batched denoising (sd_stream_batch.go: StreamScheduler,
// StreamBatchSampler, whose SAMPLER SamplerCustom runs with its state in
// the handle, and the stateful StreamFrameBuffer).
// Each schema uses ComfyUI's
// exact names, input order, types, defaults, ranges, combo lists, outputs,
// output_node, categories and display names; a test checks them against a
// real object_info dump and the derived ComfyStream schemas.
//
// Registration is explicit (no init() globals): callers ask for Schemas and
// merge them with object_info files themselves.
//
// Imports: nodes/schema, nodes, nodes/value, nodes/engine,
// nodes/diffusion/sdmodel, nodes/diffusion/clip, nodes/diffusion/sampling
// and nodes/diffusion/streamdiff from the project. It must
// never import graph, compiler, executor, streampack or any cgo package.
package builtin
