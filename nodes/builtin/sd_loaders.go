package builtin

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/clip"
	"comfyrt/nodes/diffusion/sdmodel"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// Stable Diffusion loaders on ONNX exports (see nodes/diffusion/sdmodel
// for the layout). They run once, when the plan is built: each finds its
// files in the models folder, reads each model's declared tensors
// (checking the export's names and types) and passes a handle known when
// the plan is built. Sessions are opened by the nodes that run a part, for
// their shapes (VAEEncode, VAEDecode; the text encoder and the UNet next);
// streams running the same model with the same options and shapes share
// one loaded ONNX Runtime session through the engine (each stream with
// its own buffers), as the ONNX image models do.
//
//   - CheckpointLoaderSimple: ckpt_name → checkpoints/<stem>/ (a
//     .safetensors/.ckpt name finds the folder of the same stem) → MODEL
//     (*SDUNet), CLIP (*SDCLIP), VAE (*SDVAE).
//   - TensorRTLoader (ComfyUI_TensorRT): unet_name, model_type → the UNet
//     ONNX beside where the engine would be, tensorrt/<name>.onnx for
//     tensorrt/<name>.engine (as DepthAnythingTensorrt); model_type SD15,
//     SD20, sd1.x (epsilon prediction, SD1.5's schedule) or sd2.x-768v
//     (v-prediction), the others refused.
//   - VAELoader: vae_name → vae/<stem>/{vae_encoder,vae_decoder}/model.onnx,
//     or "taesd" → vae_approx/taesd_{encoder,decoder}.onnx.
//   - CLIPLoader: clip_name, type stable_diffusion → text_encoders/<stem>/
//     with model.onnx, vocab.json and merges.txt.
//   - CLIPSetLastLayer: a CLIP handle with LastLayer set (the text
//     encoder's layer to stop at, −1 the last; applied where the prompt
//     is encoded).

// SDUNet is the MODEL handle: the UNet part of an export.
type SDUNet struct {
	Name string // as the workflow named it
	Path string // the UNet's model.onnx
	IO   sdmodel.IO
	// Scheduler is the export's noise schedule (SD1.5's for a lone UNet).
	Scheduler sdmodel.Scheduler
	// LatentScale is the latent scale the sampler applies (0.18215).
	LatentScale float64
	Opts        engine.Options
	// Sampling is a ModelSamplingDiscrete patch (nil: the export's).
	Sampling *SDModelSampling
	// Loader is the class that loaded it: CheckpointLoaderSimple (a whole
	// export, whose UNet ComfyUI runs in PyTorch) or TensorRTLoader (an
	// engine, whose forward ComfyUI_TensorRT replaces).
	Loader string
}

// SDCLIP is the CLIP handle: the text encoder and its tokenizer files.
type SDCLIP struct {
	Name          string
	Path          string // the text encoder's model.onnx
	IO            sdmodel.IO
	Vocab, Merges string
	// LastLayer is CLIPSetLastLayer's stop_at_clip_layer; −1 is the last.
	LastLayer int
	Opts      engine.Options
}

// sd2 reports a 1024-wide text encoder: SD2's OpenCLIP-H.
func (c *SDCLIP) sd2() bool {
	o, ok := c.IO.Output("last_hidden_state")
	return ok && len(o.Shape) == 3 && o.Shape[2] == 1024
}

// tokenOptions are the encoder's tokenizer options: SD2's prompts are
// padded with id 0, not <|endoftext|> (ComfyUI's SD2Tokenizer has
// pad_with_end False; diffusers' SD2 tokenizer pads with "!", id 0).
func (c *SDCLIP) tokenOptions() clip.Options {
	return clip.Options{PadWithZero: c.sd2()}
}

// SDVAE is the VAE handle: the encoder and decoder files.
type SDVAE struct {
	VAE      sdmodel.VAE
	Enc, Dec sdmodel.IO
	Opts     engine.Options
}

// sdFolders is how the kernel's node looks up models.
func sdFolders(cfg nodes.Config, input, name string) (sdmodel.Folders, error) {
	if cfg.Engines == nil {
		return sdmodel.Folders{}, errNoEngine
	}
	if cfg.ModelDir == "" {
		msg := fmt.Errorf("model %q: no models folder was found (looked for $COMFYRT_MODELS, $COMFYRT_CACHE/models and .cache/models); point --models-dir at the folder with checkpoints/, vae/, …", name)
		if cfg.Confined {
			msg = fmt.Errorf("model %q: the server has no models folder", name)
		}
		return sdmodel.Folders{}, &nodes.FileError{Code: diag.MissingFile, Summary: "Model file not found", Input: input, Err: msg}
	}
	return sdmodel.Folders{ModelDir: cfg.ModelDir, Confined: cfg.Confined}, nil
}

// localName checks that a workflow's model name stays inside its folder
// (a name like "../x" would reach another folder of the models folder).
func localName(input, folder, name string) error {
	n := filepath.FromSlash(strings.ReplaceAll(name, "\\", "/"))
	if name == "" || !filepath.IsLocal(n) {
		return &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid model file", Input: input,
			Err: fmt.Errorf("%s %q: not a file name inside the models folder's %s/", input, name, folder)}
	}
	return nil
}

// sdFileError turns a lookup error into a FileError for input.
func sdFileError(input string, err error) error {
	var fe *nodes.FileError
	if errors.As(err, &fe) || errors.Is(err, errNoEngine) || errors.Is(err, engine.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sdmodel.ErrNotFound) {
		return &nodes.FileError{Code: diag.MissingFile, Summary: "Model file not found", Input: input, Err: err}
	}
	return &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid model file", Input: input, Err: err}
}

func handleSpecs(hs ...any) []value.Spec {
	out := make([]value.Spec, len(hs))
	for i, h := range hs {
		v := value.OfHandle(h)
		out[i] = value.Spec{Kind: value.Handle, Const: &v}
	}
	return out
}

// handleLoader is a loader kernel: Prepare makes the handles, Run passes
// them on.
type handleLoader struct {
	base
	load    func(k *handleLoader, in []value.Spec) ([]any, error)
	handles []any
}

func newHandleLoader(load func(k *handleLoader, in []value.Spec) ([]any, error)) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &handleLoader{base: base{cfg}, load: load}, nil
	}
}

func (k *handleLoader) Prepare(in []value.Spec) ([]value.Spec, error) {
	hs, err := k.load(k, in)
	if err != nil {
		return nil, err
	}
	k.handles = hs
	return handleSpecs(hs...), nil
}

func (k *handleLoader) Run(_, out []value.Value) error {
	if k.handles == nil {
		return errNotPrepared
	}
	for i, h := range k.handles {
		out[i] = value.OfHandle(h)
	}
	return nil
}

func loadCheckpoint(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "ckpt_name")
	name := a.str(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	f, err := sdFolders(k.cfg, "ckpt_name", name)
	if err != nil {
		return nil, err
	}
	m, err := sdmodel.Find(f, name)
	if err != nil {
		return nil, sdFileError("ckpt_name", err)
	}
	ios := map[string]sdmodel.IO{}
	for _, part := range sdmodel.Parts {
		if ios[part], err = m.Inspect(k.cfg.Engines, part); err != nil {
			return nil, sdFileError("ckpt_name", err)
		}
	}
	vocab, merges := m.TokenizerFiles()
	unet := &SDUNet{Name: name, Path: m.PartPath(sdmodel.UNet), IO: ios[sdmodel.UNet], Scheduler: m.Scheduler, LatentScale: m.LatentScale, Opts: k.cfg.Engine, Loader: "CheckpointLoaderSimple"}
	clip := &SDCLIP{Name: name, Path: m.PartPath(sdmodel.TextEncoder), IO: ios[sdmodel.TextEncoder], Vocab: vocab, Merges: merges, LastLayer: -1, Opts: k.cfg.Engine}
	vae := &SDVAE{VAE: m.VAE(), Enc: ios[sdmodel.VAEEncoder], Dec: ios[sdmodel.VAEDecoder], Opts: k.cfg.Engine}
	return []any{unet, clip, vae}, nil
}

// trtModelTypes are TensorRTLoader's model types comfyrt samples (4
// latent channels, SD1.5's schedule) with their prediction type: the
// ComfyStream build's SD15 and SD20, and upstream ComfyUI_TensorRT's sd1.x
// and sd2.x-768v (v-prediction, as its loader's BaseModel).
var trtModelTypes = map[string]string{"SD15": "epsilon", "SD20": "epsilon", "sd1.x": "epsilon", "sd2.x-768v": "v_prediction"}

// TensorRTUNetFile maps a TensorRTLoader unet_name to the ONNX file,
// relative to the models folder: tensorrt/<name> with ".engine" replaced
// by ".onnx".
func TensorRTUNetFile(unetName string) string {
	name := strings.ReplaceAll(unetName, "\\", "/")
	if strings.HasSuffix(name, ".engine") {
		name = strings.TrimSuffix(name, ".engine") + ".onnx"
	}
	return path.Join("tensorrt", name)
}

func loadTensorRT(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "unet_name", "model_type")
	name, mt := a.str(0), a.str(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	pred, ok := trtModelTypes[mt]
	if !ok {
		return nil, fmt.Errorf("input model_type: %q is not supported: comfyrt runs SD15, SD20, sd1.x and sd2.x-768v UNets (4 latent channels)", mt)
	}
	if _, err := sdFolders(k.cfg, "unet_name", name); err != nil {
		return nil, err
	}
	if err := localName("unet_name", "tensorrt", name); err != nil {
		return nil, err
	}
	rel := TensorRTUNetFile(name)
	p, err := resolveModel(k.cfg, rel)
	if err != nil {
		return nil, fmt.Errorf("unet_name %q: %w (comfyrt runs the UNet's ONNX file, %s, where ComfyUI_TensorRT would load the .engine; the TensorRT execution provider builds its engine from it: export it with optimum-cli export onnx --task stable-diffusion and copy unet/model.onnx there)", name, err, rel)
	}
	io, err := sdmodel.InspectPart(k.cfg.Engines, sdmodel.UNet, p, rel)
	if err != nil {
		return nil, sdFileError("unet_name", err)
	}
	sched := sdmodel.Scheduler{Class: "EulerDiscreteScheduler", PredictionType: pred, BetaSchedule: "scaled_linear",
		BetaStart: 0.00085, BetaEnd: 0.012, TrainSteps: 1000}
	return []any{&SDUNet{Name: name, Path: p, IO: io, Scheduler: sched, LatentScale: sdmodel.SD15LatentScale, Opts: k.cfg.Engine, Loader: "TensorRTLoader"}}, nil
}

func loadVAE(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "vae_name")
	name := a.str(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	f, err := sdFolders(k.cfg, "vae_name", name)
	if err != nil {
		return nil, err
	}
	v, err := sdmodel.FindVAE(f, name)
	if err != nil {
		return nil, sdFileError("vae_name", err)
	}
	enc, err := sdmodel.InspectPart(k.cfg.Engines, sdmodel.VAEEncoder, v.Encoder, name+" encoder")
	if err != nil {
		return nil, sdFileError("vae_name", err)
	}
	dec, err := sdmodel.InspectPart(k.cfg.Engines, sdmodel.VAEDecoder, v.Decoder, name+" decoder")
	if err != nil {
		return nil, sdFileError("vae_name", err)
	}
	return []any{&SDVAE{VAE: v, Enc: enc, Dec: dec, Opts: k.cfg.Engine}}, nil
}

func loadCLIP(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "clip_name", "type", "device")
	name, typ := a.str(0), a.str(1)
	dev := "default"
	if a.present(2) {
		dev = a.str(2)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if typ != "stable_diffusion" {
		return nil, fmt.Errorf("input type: %q is not supported: comfyrt runs SD1.x's CLIP-L text encoder (stable_diffusion)", typ)
	}
	if _, err := sdFolders(k.cfg, "clip_name", name); err != nil {
		return nil, err
	}
	if err := localName("clip_name", "text_encoders", name); err != nil {
		return nil, err
	}
	stem := strings.ReplaceAll(name, "\\", "/")
	for _, e := range []string{".safetensors", ".bin", ".pt", ".onnx"} {
		stem = strings.TrimSuffix(stem, e)
	}
	dir := path.Join("text_encoders", stem)
	var (
		files [3]string
		err   error
	)
	for i, n := range []string{"model.onnx", "vocab.json", "merges.txt"} {
		if files[i], err = resolveModel(k.cfg, path.Join(dir, n)); err != nil {
			return nil, fmt.Errorf("clip_name %q: %w (comfyrt runs a CLIP text encoder from %s/ with model.onnx, vocab.json and merges.txt: the text_encoder and tokenizer of an Optimum export)", name, err, dir)
		}
	}
	io, err := sdmodel.InspectPart(k.cfg.Engines, sdmodel.TextEncoder, files[0], dir+"/model.onnx")
	if err != nil {
		return nil, sdFileError("clip_name", err)
	}
	opts := k.cfg.Engine
	if dev == "cpu" {
		opts.Devices = []string{engine.CPU}
	}
	return []any{&SDCLIP{Name: name, Path: files[0], IO: io, Vocab: files[1], Merges: files[2], LastLayer: -1, Opts: opts}}, nil
}

func setLastLayer(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "clip", "stop_at_clip_layer")
	var clip *SDCLIP
	if s := a.spec(0); s.Kind != value.Handle || s.Const == nil {
		a.errorf(0, "want a CLIP known when the plan is built (from CheckpointLoaderSimple or CLIPLoader)")
	} else if clip, _ = s.Const.Handle.(*SDCLIP); clip == nil {
		a.errorf(0, "want a CLIP from CheckpointLoaderSimple or CLIPLoader, got %T", s.Const.Handle)
	}
	layer := a.int(1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if layer > -1 || layer < -24 {
		return nil, fmt.Errorf("input stop_at_clip_layer: %d is not in -24..-1", layer)
	}
	if clip.sd2() {
		// SD2's OpenCLIP-H: ComfyUI counts 24 layers and defaults to the
		// penultimate; a diffusers export holds 23 (that penultimate is
		// its last), so ComfyUI's layer numbers have no exact match there.
		return nil, fmt.Errorf("input clip: %s is an SD2 text encoder (1024 wide): ComfyUI counts its layers from a 24th that a "+
			"diffusers export does not hold, so CLIPSetLastLayer has no exact equivalent; remove the node (CLIPTextEncode then uses "+
			"the export's last layer, ComfyUI's SD2 default)", clip.Name)
	}
	c := *clip
	c.LastLayer = int(layer)
	return []any{&c}, nil
}

// SDControlNet is the CONTROL_NET handle: an ONNX ControlNet whose
// outputs are the UNet's additional residuals.
type SDControlNet struct {
	Name string
	Path string
	IO   sdmodel.IO
	Opts engine.Options
}

// ControlNetFile maps a ControlNetLoader control_net_name to the ONNX
// file, relative to the models folder: controlnet/<stem>.onnx.
func ControlNetFile(name string) string {
	n := strings.ReplaceAll(name, "\\", "/")
	for _, e := range []string{".safetensors", ".pth", ".ckpt", ".bin", ".onnx"} {
		n = strings.TrimSuffix(n, e)
	}
	return path.Join("controlnet", n+".onnx")
}

func loadControlNet(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "control_net_name")
	name := a.str(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if _, err := sdFolders(k.cfg, "control_net_name", name); err != nil {
		return nil, err
	}
	if err := localName("control_net_name", "controlnet", name); err != nil {
		return nil, err
	}
	rel := ControlNetFile(name)
	p, err := resolveModel(k.cfg, rel)
	if err != nil {
		return nil, fmt.Errorf("control_net_name %q: %w (comfyrt runs a ControlNet exported to ONNX, %s, with inputs %s)", name, err, rel, sdmodel.Signature(sdmodel.ControlNet))
	}
	io, err := sdmodel.InspectPart(k.cfg.Engines, sdmodel.ControlNet, p, rel)
	if err != nil {
		return nil, sdFileError("control_net_name", err)
	}
	return []any{&SDControlNet{Name: name, Path: p, IO: io, Opts: k.cfg.Engine}}, nil
}
