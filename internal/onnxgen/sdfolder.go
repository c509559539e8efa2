package onnxgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TinySD is a tiny Stable Diffusion export (Optimum's layout) written by
// WriteTinySD.
type TinySD struct {
	// Half writes the VAE encoder and decoder in float16.
	Half bool
	// FloatTimestep makes the UNet's timestep float32 (else int64, as
	// Optimum exports SD1.5).
	FloatTimestep bool
	// D is the text embedding width (default 8).
	D int
	// Skip names files (relative to the folder) not to write, for layout
	// error tests.
	Skip []string
}

// TextWidth returns D, or its default.
func (t TinySD) TextWidth() int {
	if t.D > 0 {
		return t.D
	}
	return 8
}

// Parts returns the tiny models the folder holds.
func (t TinySD) Parts() (VAE, UNet, TextEncoder) {
	return NewVAE(), NewUNet(t.TextWidth()), NewTextEncoder(len(TinyVocab()), t.TextWidth())
}

// Write writes the export into dir (created): model_index.json, the four
// parts, the tokenizer (TinyVocab, TinyMerges) and an SD1.5 scheduler
// config, and vae_decoder/config.json with scaling_factor 0.18215.
func (t TinySD) Write(dir string) error {
	vae, unet, te := t.Parts()
	skip := map[string]bool{}
	for _, s := range t.Skip {
		skip[s] = true
	}
	vocab, err := json.Marshal(TinyVocab())
	if err != nil {
		return err
	}
	files := map[string]func(string) error{
		"text_encoder/model.onnx": te.Model().WriteFile,
		"unet/model.onnx":         unet.Model(!t.FloatTimestep).WriteFile,
		"vae_encoder/model.onnx":  vae.Encoder("sample", "latent_sample", t.Half).WriteFile,
		"vae_decoder/model.onnx":  vae.Decoder("latent_sample", "sample", t.Half).WriteFile,
		"model_index.json":        text(`{"_class_name": "ORTStableDiffusionPipeline", "_diffusers_version": "0.29.0"}`),
		"tokenizer/vocab.json":    text(string(vocab)),
		"tokenizer/merges.txt":    text(strings.Join(append([]string{"#version: 0.2"}, TinyMerges()...), "\n") + "\n"),
		"scheduler/scheduler_config.json": text(`{"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
 "beta_start": 0.00085, "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1, "skip_prk_steps": true}`),
		"vae_decoder/config.json": text(`{"_class_name": "AutoencoderKL", "latent_channels": 4, "scaling_factor": 0.18215}`),
	}
	for rel, write := range files {
		if skip[rel] {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := write(p); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
	return nil
}

func text(s string) func(string) error {
	return func(p string) error { return os.WriteFile(p, []byte(s), 0o644) }
}

// NewTAESD returns the tiny TAESD: the VAE's structure with other weights
// (TAESD takes pictures in 0..1 and gives scaled latents).
func NewTAESD() VAE {
	v := NewVAE()
	for i := range v.EncW {
		v.EncW[i] *= 0.4
	}
	v.EncB = [4]float32{-0.2, 0.05, 0.1, -0.05}
	return v.withInverse()
}

// WriteTAESD writes vae_approx/taesd_encoder.onnx and taesd_decoder.onnx
// into the models folder dir.
func WriteTAESD(dir string) error {
	v := NewTAESD()
	d := filepath.Join(dir, "vae_approx")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	if err := v.Encoder("sample", "latent_sample", false).WriteFile(filepath.Join(d, "taesd_encoder.onnx")); err != nil {
		return err
	}
	return v.Decoder("latent_sample", "sample", false).WriteFile(filepath.Join(d, "taesd_decoder.onnx"))
}

// TinyVocab is a CLIP-style BPE vocabulary (vocab.json): the 256 byte
// symbols of GPT-2's byte-to-unicode map, the same with the end-of-word
// mark "</w>", the merged tokens of TinyMerges in order, then
// <|startoftext|> and <|endoftext|>.
func TinyVocab() map[string]int {
	v := map[string]int{}
	syms := byteSymbols()
	for _, s := range syms {
		v[s] = len(v)
	}
	for _, s := range syms {
		v[s+"</w>"] = len(v)
	}
	for _, m := range TinyMerges() {
		v[strings.ReplaceAll(m, " ", "")] = len(v)
	}
	v["<|startoftext|>"] = len(v)
	v["<|endoftext|>"] = len(v)
	return v
}

// TinyMerges are the BPE merges (merges.txt after its version line), in
// rank order: enough to make "a", "cat", "dog", "hello", "photo" and
// "the" single tokens.
func TinyMerges() []string {
	return []string{"h e", "l l", "c a", "d o", "t h", "p h", "o t", "he ll", "ca t</w>", "do g</w>",
		"th e</w>", "ph ot", "hell o</w>", "phot o</w>"}
}

// byteSymbols is GPT-2's byte-to-unicode table in the order CLIP's
// vocabulary lists it: the printable bytes (which stand for themselves)
// first, then the others, mapped to U+0100 onwards in byte order.
func byteSymbols() []string {
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	var out []string
	for b := range 256 {
		if printable(b) {
			out = append(out, string(rune(b)))
		}
	}
	next := 256
	for b := range 256 {
		if !printable(b) {
			out = append(out, string(rune(next)))
			next++
		}
	}
	return out
}

// WriteControlNet writes the tiny ControlNet (int64 timestep, text width
// d) into the models folder dir as controlnet/<name>.onnx.
func WriteControlNet(dir, name string, d int) error {
	p := filepath.Join(dir, "controlnet", name+".onnx")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return ControlNet{U: NewUNet(d)}.Model(true).WriteFile(p)
}
