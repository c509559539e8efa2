// Package sdmodel finds and checks Stable Diffusion models exported to
// ONNX in the layout Hugging Face Optimum (diffusers' ONNX pipelines)
// writes:
//
//	model_index.json
//	text_encoder/model.onnx   input_ids int64[B,77] → last_hidden_state [B,77,D], pooler_output [B,D]
//	unet/model.onnx           sample [B,4,h,w], timestep [B] (int64 or float), encoder_hidden_states [B,77,D] → out_sample
//	vae_encoder/model.onnx    sample [B,3,H,W] → latent_sample [B,4,H/8,W/8] (or latent_parameters [B,8,…]: mean, log-variance)
//	vae_decoder/model.onnx    latent_sample [B,4,h,w] → sample [B,3,8h,8w]
//	tokenizer/vocab.json, tokenizer/merges.txt
//	scheduler/scheduler_config.json
//
// (`optimum-cli export onnx --model <model> --task stable-diffusion
// <folder>` writes it.) Find maps a ComfyUI checkpoint name to such a
// folder under the models folder's checkpoints/, FindVAE a VAE name to a
// VAE export or TAESD's two ONNX files, and Inspect describes one part's
// inputs and outputs as the model itself declares them (names, element
// types, dynamic axes), checking the names the export uses. Errors say
// which layout was expected and how to export it.
//
// Names are resolved inside the models folder: names that climb out of it
// are refused, and for confined (network) workflows the files are looked
// up through os.Root, so that no link leads out of the folder.
//
// LATENT values follow ComfyUI: they are in the VAE's own latent space
// (the encoder's output); the sampler multiplies by the model's latent
// scale (Model.LatentScale, 0.18215 for SD1.5) on the way in and divides
// on the way out. TAESD's encoder returns latents already in the scaled
// space, so a TAESD VAE divides them by the scale (and multiplies the
// decoder's input), as ComfyUI's taesd wrapper does.
//
// Package sdmodel imports nodes/engine (to inspect models) and nodes/value
// only.
package sdmodel
