package onnxgen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// Stand-alone parts in the folders ComfyUI's separate loaders read, for
// workflows that load the UNet, the text encoder and the VAE one by one
// (ComfyStream's TensorRTLoader + CLIPLoader + VAELoader).

// WriteCLIP writes the tiny text encoder (text width d) with the tiny
// tokenizer where CLIPLoader looks for clip_name stem:
// text_encoders/<stem>/{model.onnx,vocab.json,merges.txt} under the
// models folder dir.
func WriteCLIP(dir, stem string, d int) error {
	out := filepath.Join(dir, "text_encoders", filepath.FromSlash(stem))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	vocab, err := json.Marshal(TinyVocab())
	if err != nil {
		return err
	}
	if err := NewTextEncoder(len(TinyVocab()), d).Model().WriteFile(filepath.Join(out, "model.onnx")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "vocab.json"), vocab, 0o644); err != nil {
		return err
	}
	merges := strings.Join(append([]string{"#version: 0.2"}, TinyMerges()...), "\n") + "\n"
	return os.WriteFile(filepath.Join(out, "merges.txt"), []byte(merges), 0o644)
}

// WriteVAEFolder writes the tiny VAE where VAELoader looks for vae_name
// stem: vae/<stem>/{vae_encoder,vae_decoder}/model.onnx under the models
// folder dir, with vae_decoder/config.json's scaling_factor 0.18215.
func WriteVAEFolder(dir, stem string) error {
	v := NewVAE()
	base := filepath.Join(dir, "vae", filepath.FromSlash(stem))
	for part, b := range map[string]*Builder{
		"vae_encoder": v.Encoder("sample", "latent_sample", false),
		"vae_decoder": v.Decoder("latent_sample", "sample", false),
	} {
		p := filepath.Join(base, part, "model.onnx")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := b.WriteFile(p); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(base, "vae_decoder", "config.json"),
		[]byte(`{"_class_name": "AutoencoderKL", "latent_channels": 4, "scaling_factor": 0.18215}`), 0o644)
}
