package sdmodel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Part names: the export's sub-folders with a model.onnx.
const (
	TextEncoder = "text_encoder"
	UNet        = "unet"
	VAEEncoder  = "vae_encoder"
	VAEDecoder  = "vae_decoder"
	// ControlNet is not a part of the export but a model of its own
	// (ControlNetLoader): sample, timestep, encoder_hidden_states,
	// controlnet_cond (and conditioning_scale) → the UNet's additional
	// residuals, mid_block_res_sample and the down blocks' (diffusers'
	// ControlNetOutput, its tuple flattened).
	ControlNet = "controlnet"
)

// Parts are the four ONNX parts of an export, in pipeline order.
var Parts = []string{TextEncoder, UNet, VAEEncoder, VAEDecoder}

// SD15LatentScale is SD1.5's latent scale (diffusers' AutoencoderKL
// scaling_factor), the default when the export does not say.
const SD15LatentScale = 0.18215

// ErrNotFound is wrapped by Find and FindVAE when the named model is not
// in the models folder.
var ErrNotFound = errors.New("model not found")

// weightExts are the checkpoint file extensions ComfyUI lists; a name with
// one finds the export folder of the same stem.
var weightExts = []string{".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".sft", ".onnx"}

// Folders is how a Model's files are looked up.
type Folders struct {
	// ModelDir is the models folder (ComfyUI's models/).
	ModelDir string
	// Confined resolves names through os.Root on ModelDir, so that no link
	// leads out of it (network workflows); otherwise links are followed,
	// as the operator's folder may link its models in.
	Confined bool
}

// stat reports on rel (slash-separated, inside ModelDir).
func (f Folders) stat(rel string) (fs.FileInfo, error) {
	if !f.Confined {
		return os.Stat(filepath.Join(f.ModelDir, filepath.FromSlash(rel)))
	}
	root, err := os.OpenRoot(f.ModelDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Stat(filepath.FromSlash(rel))
}

// path is rel's path on disk.
func (f Folders) path(rel string) string {
	return filepath.Join(f.ModelDir, filepath.FromSlash(rel))
}

// readFile reads rel, at most limit bytes (config files).
func (f Folders) readFile(rel string, limit int64) ([]byte, error) {
	var (
		file *os.File
		err  error
	)
	if f.Confined {
		root, rerr := os.OpenRoot(f.ModelDir)
		if rerr != nil {
			return nil, rerr
		}
		defer root.Close()
		file, err = root.Open(filepath.FromSlash(rel))
	} else {
		file, err = os.Open(f.path(rel))
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a config file may have", rel, st.Size(), limit)
	}
	buf := make([]byte, st.Size())
	_, err = file.ReadAt(buf, 0)
	return buf, err
}

// isFile reports whether rel is a regular file.
func (f Folders) isFile(rel string) bool {
	st, err := f.stat(rel)
	return err == nil && st.Mode().IsRegular()
}

// isDir reports whether rel is a folder.
func (f Folders) isDir(rel string) bool {
	st, err := f.stat(rel)
	return err == nil && st.IsDir()
}

// cleanName checks a workflow's model name (slash or backslash separated,
// as ComfyUI lists sub-folders) and returns it slash-separated, without a
// weight-file extension.
func cleanName(what, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("no %s named", what)
	}
	n := strings.ReplaceAll(name, "\\", "/")
	if path.IsAbs(n) || filepath.IsAbs(name) || !filepath.IsLocal(filepath.FromSlash(n)) {
		return "", fmt.Errorf("%s %q: not a name inside the models folder", what, name)
	}
	n = path.Clean(n)
	low := strings.ToLower(n)
	for _, e := range weightExts {
		if strings.HasSuffix(low, e) {
			return n[:len(n)-len(e)], nil
		}
	}
	return n, nil
}

// ExportHint says how to make the export folder for a checkpoint.
func ExportHint(folder string) string {
	return "export the model to ONNX with Hugging Face Optimum: optimum-cli export onnx --model <model id or diffusers folder> --task stable-diffusion <models folder>/" + folder
}
