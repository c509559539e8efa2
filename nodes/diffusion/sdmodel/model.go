package sdmodel

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// Model is a Stable Diffusion export found in the models folder.
type Model struct {
	// Name is the checkpoint name as the workflow gave it.
	Name string
	// Folder is the export's folder, relative to the models folder
	// ("checkpoints/sd15").
	Folder string
	// Class is model_index.json's _class_name.
	Class string
	// Scheduler is scheduler/scheduler_config.json.
	Scheduler Scheduler
	// LatentScale is the VAE's scaling_factor (vae_decoder/config.json or
	// vae_encoder/config.json; SD15LatentScale when neither says).
	LatentScale float64
	files       Folders
}

// Find maps a CheckpointLoaderSimple ckpt_name to its export folder under
// checkpoints/: "sd15", "sd15.safetensors" and "sd15/" all name
// checkpoints/sd15. It checks that every part, the tokenizer and the
// scheduler config are there and reads the configs.
func Find(f Folders, ckptName string) (*Model, error) {
	stem, err := cleanName("checkpoint", ckptName)
	if err != nil {
		return nil, err
	}
	folder := path.Join("checkpoints", stem)
	m := &Model{Name: ckptName, Folder: folder, files: f}
	if !f.isDir(folder) {
		return nil, fmt.Errorf("checkpoint %q: %w: comfyrt runs Stable Diffusion from an ONNX export folder, %s/ with %s; %s",
			ckptName, ErrNotFound, folder, layoutList(), ExportHint(folder))
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("checkpoint %q: %w", ckptName, err)
	}
	return m, nil
}

func layoutList() string {
	return "model_index.json, text_encoder/model.onnx, unet/model.onnx, vae_encoder/model.onnx, vae_decoder/model.onnx, tokenizer/vocab.json, tokenizer/merges.txt and scheduler/scheduler_config.json"
}

// required lists the files an export must have, relative to its folder.
func required() []string {
	r := []string{"model_index.json"}
	for _, p := range Parts {
		r = append(r, p+"/model.onnx")
	}
	return append(r, "tokenizer/vocab.json", "tokenizer/merges.txt", "scheduler/scheduler_config.json")
}

// check verifies the layout and reads the configs.
func (m *Model) check() error {
	var missing []string
	for _, r := range required() {
		if !m.files.isFile(path.Join(m.Folder, r)) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s/ is not a Stable Diffusion ONNX export: %s missing (want %s); %s",
			m.Folder, strings.Join(missing, ", "), layoutList(), ExportHint(m.Folder))
	}
	var index struct {
		Class string `json:"_class_name"`
	}
	if err := m.readJSON("model_index.json", &index); err != nil {
		return err
	}
	m.Class = index.Class
	if err := m.notXL(); err != nil {
		return err
	}
	sc, err := m.readScheduler()
	if err != nil {
		return err
	}
	m.Scheduler = sc
	m.LatentScale, err = m.latentScale()
	return err
}

// notXL refuses an SDXL export (its pipeline class, or the second text
// encoder it has): its UNet takes added conditioning (text_embeds,
// time_ids) from two text encoders, which comfyrt's SD nodes do not make.
func (m *Model) notXL() error {
	why := ""
	switch {
	case strings.Contains(m.Class, "XL"):
		why = m.Class
	case m.files.isDir(path.Join(m.Folder, "text_encoder_2")):
		why = "text_encoder_2/"
	default:
		return nil
	}
	return fmt.Errorf("%s/ is an SDXL export (%s): comfyrt runs SD 1.x and 2.x exports; SDXL's second text encoder and "+
		"added conditioning (text_embeds, time_ids) are not supported yet", m.Folder, why)
}

// configLimit bounds the config files read (they are a few hundred bytes).
const configLimit = 1 << 20

func (m *Model) readJSON(rel string, v any) error {
	data, err := m.files.readFile(path.Join(m.Folder, rel), configLimit)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", m.Folder, rel, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s/%s: %w", m.Folder, rel, err)
	}
	return nil
}

// latentScale reads the VAE config's scaling_factor, if any.
func (m *Model) latentScale() (float64, error) {
	for _, p := range []string{VAEDecoder, VAEEncoder} {
		rel := p + "/config.json"
		if !m.files.isFile(path.Join(m.Folder, rel)) {
			continue
		}
		var c struct {
			Scale *float64 `json:"scaling_factor"`
		}
		if err := m.readJSON(rel, &c); err != nil {
			return 0, err
		}
		if c.Scale != nil {
			if *c.Scale <= 0 || *c.Scale > 100 {
				return 0, fmt.Errorf("%s/%s: scaling_factor %g is not a latent scale", m.Folder, rel, *c.Scale)
			}
			return *c.Scale, nil
		}
	}
	return SD15LatentScale, nil
}

// PartPath returns the path on disk of a part's model.onnx.
func (m *Model) PartPath(part string) string {
	return m.files.path(path.Join(m.Folder, part, "model.onnx"))
}

// TokenizerFiles returns the paths on disk of the tokenizer's vocab.json
// and merges.txt.
func (m *Model) TokenizerFiles() (vocab, merges string) {
	return m.files.path(path.Join(m.Folder, "tokenizer", "vocab.json")), m.files.path(path.Join(m.Folder, "tokenizer", "merges.txt"))
}
