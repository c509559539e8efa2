package main

// folderInput is a combo input whose choices ComfyUI lists from a folder
// when it starts.
type folderInput struct {
	Class, Input string
	// Folder is the folder_paths name the choices come from ("input" and
	// "output" are ComfyUI's input and output directories; the names are
	// relative to them, e.g. "3d/x.glb" for Load3D).
	Folder string
}

// folderInputs is every core combo that lists a folder, written from
// ComfyUI's sources (comfyanonymous/ComfyUI, Oct 2025): the
// folder_paths.get_filename_list(NAME) (or the input/output directory
// listing) each INPUT_TYPES / define_schema calls. The generator fails
// when the dump has a combo whose choices look like file names and no row
// here, and when a row names a class or input the dump lacks, so the table
// cannot silently fall behind the dump.
var folderInputs = []folderInput{
	// nodes.py
	{"CheckpointLoaderSimple", "ckpt_name", "checkpoints"},
	{"CheckpointLoader", "config_name", "configs"},
	{"CheckpointLoader", "ckpt_name", "checkpoints"},
	{"unCLIPCheckpointLoader", "ckpt_name", "checkpoints"},
	{"VAELoader", "vae_name", "vae"}, // plus the TAESD names found in vae_approx and "pixel_space"
	{"LoraLoader", "lora_name", "loras"},
	{"LoraLoaderModelOnly", "lora_name", "loras"},
	{"CLIPLoader", "clip_name", "text_encoders"},
	{"DualCLIPLoader", "clip_name1", "text_encoders"},
	{"DualCLIPLoader", "clip_name2", "text_encoders"},
	{"UNETLoader", "unet_name", "diffusion_models"},
	{"ControlNetLoader", "control_net_name", "controlnet"},
	{"DiffControlNetLoader", "control_net_name", "controlnet"},
	{"StyleModelLoader", "style_model_name", "style_models"},
	{"CLIPVisionLoader", "clip_name", "clip_vision"},
	{"GLIGENLoader", "gligen_name", "gligen"},
	{"DiffusersLoader", "model_path", "diffusers"},
	{"LoadImage", "image", "input"},
	{"LoadImageMask", "image", "input"},
	{"LoadImageOutput", "image", "output"},
	{"LoadLatent", "latent", "input"},
	// comfy_extras
	{"HypernetworkLoader", "hypernetwork_name", "hypernetworks"},
	{"UpscaleModelLoader", "model_name", "upscale_models"},
	{"ImageOnlyCheckpointLoader", "ckpt_name", "checkpoints"},
	{"PhotoMakerLoader", "photomaker_model_name", "photomaker"},
	{"LoadAudio", "audio", "input"},
	{"LoadVideo", "file", "input"},
	{"Load3D", "model_file", "input"},
	{"Load3DAnimation", "model_file", "input"},
	{"TripleCLIPLoader", "clip_name1", "text_encoders"},
	{"TripleCLIPLoader", "clip_name2", "text_encoders"},
	{"TripleCLIPLoader", "clip_name3", "text_encoders"},
	{"QuadrupleCLIPLoader", "clip_name1", "text_encoders"},
	{"QuadrupleCLIPLoader", "clip_name2", "text_encoders"},
	{"QuadrupleCLIPLoader", "clip_name3", "text_encoders"},
	{"QuadrupleCLIPLoader", "clip_name4", "text_encoders"},
	{"CreateHookLora", "lora_name", "loras"},
	{"CreateHookLoraModelOnly", "lora_name", "loras"},
	{"CreateHookModelAsLora", "ckpt_name", "checkpoints"},
	{"CreateHookModelAsLoraModelOnly", "ckpt_name", "checkpoints"},
	{"ModelPatchLoader", "name", "model_patches"},
	{"AudioEncoderLoader", "audio_encoder_name", "audio_encoders"},
	{"TrainLoraNode", "existing_lora", "loras"},       // "[None]" plus the loras
	{"LoadImageSetFromFolderNode", "folder", "input"}, // the input folder's subfolders
	{"LoadImageTextSetFromFolderNode", "folder", "input"},
	// comfy_api_nodes
	{"OpenAIInputFiles", "file", "input"},
	{"GeminiInputFiles", "file", "input"},
}
