package sdmodel

import (
	"fmt"
	"path"
)

// VAE is a VAE's two ONNX files: a diffusers/Optimum export's
// vae_encoder and vae_decoder, or TAESD's encoder and decoder.
type VAE struct {
	// Name is the vae_name as the workflow gave it.
	Name string
	// Encoder and Decoder are the files' paths on disk.
	Encoder, Decoder string
	// TAESD marks the tiny autoencoder: pictures in 0..1 (not −1..1) and
	// latents in the scaled space (divided by Scale on the way out of the
	// encoder, multiplied on the way into the decoder).
	TAESD bool
	// Scale is the latent scale (TAESD's, or the export's scaling_factor).
	Scale float64
}

// VAE returns the export's own VAE.
func (m *Model) VAE() VAE {
	return VAE{Name: m.Name, Encoder: m.PartPath(VAEEncoder), Decoder: m.PartPath(VAEDecoder), Scale: m.LatentScale}
}

// taesdNames are ComfyUI's VAELoader choices for the tiny autoencoders
// (vae_approx/<name>_encoder, _decoder); only SD1.x's taesd has the
// 4-channel latent comfyrt samples.
var taesdNames = map[string]bool{"taesd": true}

// FindVAE maps a VAELoader vae_name to its files: "taesd" to
// vae_approx/taesd_encoder.onnx and taesd_decoder.onnx (ComfyUI keeps
// TAESD's .pth files there); any other name to an export folder under
// vae/ of the same stem with vae_encoder/model.onnx and
// vae_decoder/model.onnx.
func FindVAE(f Folders, vaeName string) (VAE, error) {
	if taesdNames[vaeName] {
		enc, dec := path.Join("vae_approx", vaeName+"_encoder.onnx"), path.Join("vae_approx", vaeName+"_decoder.onnx")
		for _, r := range []string{enc, dec} {
			if !f.isFile(r) {
				return VAE{}, fmt.Errorf("vae %q: %w: want %s and %s in the models folder (TAESD exported to ONNX, as the taesd ONNX releases name them)", vaeName, ErrNotFound, enc, dec)
			}
		}
		return VAE{Name: vaeName, Encoder: f.path(enc), Decoder: f.path(dec), TAESD: true, Scale: SD15LatentScale}, nil
	}
	stem, err := cleanName("vae", vaeName)
	if err != nil {
		return VAE{}, err
	}
	folder := path.Join("vae", stem)
	enc, dec := path.Join(folder, VAEEncoder, "model.onnx"), path.Join(folder, VAEDecoder, "model.onnx")
	if !f.isFile(enc) || !f.isFile(dec) {
		return VAE{}, fmt.Errorf("vae %q: %w: comfyrt runs a VAE from an ONNX export folder, %s/ with vae_encoder/model.onnx and vae_decoder/model.onnx; export the VAE's diffusers folder with Hugging Face Optimum (optimum-cli export onnx --task stable-diffusion writes both parts) and copy the two part folders there",
			vaeName, ErrNotFound, folder)
	}
	m := &Model{Name: vaeName, Folder: folder, files: f}
	scale, err := m.latentScale()
	if err != nil {
		return VAE{}, fmt.Errorf("vae %q: %w", vaeName, err)
	}
	return VAE{Name: vaeName, Encoder: f.path(enc), Decoder: f.path(dec), Scale: scale}, nil
}
