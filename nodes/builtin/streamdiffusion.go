package builtin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/sdmodel"
	"comfyrt/nodes/diffusion/streamdiff"
	"comfyrt/nodes/value"
)

// The StreamDiffusion nodes (pschroedl/ComfyUI-StreamDiffusion @e639495,
// which wraps cumulo-autumn/StreamDiffusion) as one compiled plan on ONNX
// Runtime: the loaders and configs run once, when the plan is built, and
// pass handles; StreamDiffusionSampler holds the stream (the denoising
// batch, the stock noise, the similar-image filter) across frames. The
// stream's maths are nodes/diffusion/streamdiff's.
//
//   - StreamDiffusionCheckpointLoader (checkpoint) and
//     StreamDiffusionLPCheckpointLoader (model_name) → SDMODEL: an Optimum
//     export folder, found as CheckpointLoaderSimple finds one
//     (checkpoints/<stem>/).
//   - StreamDiffusionTensorRTEngineLoader (engine_name) → SDMODEL: an engine
//     set, tensorrt/StreamDiffusion-engines/<name>/ in the pack's layout;
//     comfyrt runs the ONNX files beside the engines (unet.onnx,
//     vae_encoder.onnx, vae_decoder.onnx, Optimum's tensor names; the VAE
//     files are the tiny VAE the pack builds its engines with, read as
//     TAESD as vae_approx/taesd_*.onnx), as TensorRTLoader maps .engine to
//     .onnx. The layout, from the sources: the pack's get_engine_configs
//     (nodes.py:41-96) lists a set when one of its subfolders holds
//     unet.engine and one (not necessarily the same) both VAE engines;
//     StreamDiffusionPrebuiltConfig (nodes.py:473-526) hands the wrapper
//     engine_dir = the set (line 504), and the wrapper
//     (streamdiffusionwrapper.py:494-539, as cumulo-autumn/StreamDiffusion
//     @b623251 utils/wrapper.py:488) reads
//     <set>/<model stem>--lcm_lora-True--tiny_vae-True--max_batch-R--min_batch-R--mode-M/unet.engine
//     with R = StreamDiffusion's trt_unet_batch_size (pipeline.py:44-57:
//     len(t_index_list)·frame_buffer_size for cfg_type self, which
//     PrebuiltConfig keeps; frame_buffer_size without the denoising batch)
//     and the VAE engines from the folder with R = frame_buffer_size in
//     img2img (stream.frame_bff_size), the whole batch in txt2img
//     (streamdiffusionwrapper.py:147-150). So "39,35,30" puts the UNet
//     under max_batch-3 and the VAEs under max_batch-1. The
//     mode/t_index/buffer keys are in the set's own name when
//     StreamDiffusionConfig built it (parent_name, nodes.py:463:
//     <model>--lcm_lora-L--tiny_vae-V--mode-M--t_index-N--buffer-B).
//     StreamDiffusionPrebuiltConfig takes the UNet from the build folder
//     whose max_batch (and min_batch) is the UNet's rows and whose mode is
//     the config's, the VAEs from the one named for their rows, refuses a
//     set whose name contradicts its mode, t_index count or buffer, and
//     of several fitting builds keeps those named after the checkpoint's
//     stem; when that is not exactly one it refuses, naming the
//     candidates. The loader, which has no settings, wants exactly one
//     UNet build and one VAE build.
//     An engine set has no text encoder: StreamDiffusionPrebuiltConfig
//     takes it from its model input, and StreamDiffusionConfig refuses one.
//   - StreamDiffusionAdvancedConfig → ADVANCED_CONFIG: do_add_noise,
//     use_denoising_batch (without it the t_indexes run one after another
//     on each frame; the pack refuses that in img2img, comfyrt runs it) and
//     the similar-image filter's settings; warmup, device, dtype,
//     device_ids, use_safety_checker and engine_dir are accepted and have
//     no effect (the pack's wrapper does not use warmup either — the
//     sampler warms the batch up on the first frame; the execution
//     provider is the --device choice; the export's dtype is what runs).
//   - StreamDiffusionConfig and StreamDiffusionPrebuiltConfig →
//     STREAM_MODEL: t_index_list, mode (txt2img requires cfg_type none, as
//     the pack says), width and height (multiples of 8), frame_buffer_size
//     (1: the sampler feeds one frame per call), use_tiny_vae (TAESD from
//     vae_approx/, else the export's VAE), cfg_type, seed (−1, random in
//     the pack, is StreamDiffusion's default 2 here, so that runs
//     repeat). The seed draws the init noise; the pack's sampler calls
//     prepare again without a generator, which re-seeds it with
//     StreamDiffusion's default 2 whatever the seed — comfyrt keeps the
//     workflow's seed. PrebuiltConfig has no cfg_type or seed: the
//     wrapper's defaults, self and 2. acceleration none, xformers and tensorrt compile to the
//     same plan: the execution provider is --device's (cpu, cuda,
//     tensorrt). use_lcm_lora: the pack fuses LCM-LoRA into the UNet at
//     load (not for "turbo" models); an ONNX export cannot be changed at
//     run time, so the export must already hold it (fuse, then export).
//   - StreamDiffusionLoraLoader: refused when the plan is built — a LoRA
//     cannot be applied to an ONNX export at run time; fuse it into the
//     checkpoint before exporting.
//   - StreamDiffusionSampler (streamdiffusion_sampler.go).

// SDStreamModel is the SDMODEL handle: a checkpoint or an engine set.
type SDStreamModel struct {
	Name string
	UNet *SDUNet
	CLIP *SDCLIP // nil for an engine set
	VAE  *SDVAE
	// Engine marks an engine set (StreamDiffusionTensorRTEngineLoader).
	Engine bool
}

// SDStreamAdvanced is the ADVANCED_CONFIG handle.
type SDStreamAdvanced struct {
	Warmup                   int
	AddNoise, DenoisingBatch bool
	Filter                   bool
	FilterThreshold          float64
	FilterMaxSkip            int
	Device, DType, EngineDir string
	SafetyChecker            bool
	DeviceIDs                string
}

// defaultAdvanced is StreamDiffusionWrapper's defaults.
var defaultAdvanced = SDStreamAdvanced{Warmup: 10, AddNoise: true, DenoisingBatch: true, FilterThreshold: 0.98, FilterMaxSkip: 10}

// SDStream is the STREAM_MODEL handle: the parts and the stream settings.
type SDStream struct {
	Name          string
	UNet          *SDUNet
	CLIP          *SDCLIP
	VAE           *SDVAE
	TIndex        []int
	Txt2Img       bool
	Width, Height int
	Acceleration  string
	CFG           streamdiff.CFG
	Seed          uint64
	Advanced      SDStreamAdvanced
}

// streamDiffusionEngineDir is the pack's engine folder in the models
// folder.
const streamDiffusionEngineDir = "tensorrt/StreamDiffusion-engines"

func loadStreamCheckpoint(input string) func(k *handleLoader, in []value.Spec) ([]any, error) {
	return func(k *handleLoader, in []value.Spec) ([]any, error) {
		a := newArgs(in, input)
		name := a.str(0)
		if err := a.Err(); err != nil {
			return nil, err
		}
		f, err := sdFolders(k.cfg, input, name)
		if err != nil {
			return nil, err
		}
		m, err := sdmodel.Find(f, name)
		if err != nil {
			return nil, sdFileError(input, err)
		}
		ios := map[string]sdmodel.IO{}
		for _, part := range sdmodel.Parts {
			if ios[part], err = m.Inspect(k.cfg.Engines, part); err != nil {
				return nil, sdFileError(input, err)
			}
		}
		vocab, merges := m.TokenizerFiles()
		sm := &SDStreamModel{
			Name: name,
			UNet: &SDUNet{Name: name, Path: m.PartPath(sdmodel.UNet), IO: ios[sdmodel.UNet], Scheduler: m.Scheduler, LatentScale: m.LatentScale, Opts: k.cfg.Engine},
			CLIP: &SDCLIP{Name: name, Path: m.PartPath(sdmodel.TextEncoder), IO: ios[sdmodel.TextEncoder], Vocab: vocab, Merges: merges, LastLayer: -1, Opts: k.cfg.Engine},
			VAE:  &SDVAE{VAE: m.VAE(), Enc: ios[sdmodel.VAEEncoder], Dec: ios[sdmodel.VAEDecoder], Opts: k.cfg.Engine},
		}
		return []any{sm}, nil
	}
}

// engineUNetFiles and engineVAEFiles are the ONNX files comfyrt runs
// beside an engine set's .engine files: the UNet's, and the two VAE files,
// which the pack keeps in another build folder than the UNet's whenever
// their rows differ.
var (
	engineUNetFiles = []string{"unet.onnx"}
	engineVAEFiles  = []string{"vae_encoder.onnx", "vae_decoder.onnx"}
)

// engineBuild is what a config asks of an engine set: the keys the pack
// puts in the set's own name (StreamDiffusionConfig's parent_name,
// …--mode-M--t_index-N--buffer-B) and in its build folders' names
// (StreamDiffusionWrapper's create_prefix,
// <model>--lcm_lora-True--tiny_vae-True--max_batch-R--min_batch-R--mode-M),
// R being the UNet's rows for the UNet's folder and the VAEs' for theirs.
type engineBuild struct {
	model          string // the checkpoint's stem, preferred among several fitting builds
	mode           string
	tIndex, buffer int
	unetRows       int
	vaeRows        int
}

// newEngineBuild is the build a StreamDiffusionPrebuiltConfig asks for:
// cfg_type self (the wrapper's default, which PrebuiltConfig keeps) gives
// the UNet len(t_index_list)·frame_buffer_size rows with the denoising
// batch, frame_buffer_size without (StreamDiffusion's trt_unet_batch_size);
// the VAEs have frame_buffer_size rows in img2img and the whole batch in
// txt2img (the wrapper's vae_encoder/vae_decoder paths).
func newEngineBuild(model, mode string, tIndex, buffer int, denoisingBatch bool) *engineBuild {
	batch := buffer
	if denoisingBatch {
		batch = tIndex * buffer
	}
	vae := buffer
	if mode == "txt2img" {
		vae = batch
	}
	return &engineBuild{model: modelStem(model), mode: mode, tIndex: tIndex, buffer: buffer, unetRows: batch, vaeRows: vae}
}

// modelStem is name without its folder and model-file extension (the stem
// create_prefix names a build after).
func modelStem(name string) string {
	name = path.Base(filepath.ToSlash(name))
	for _, ext := range []string{".safetensors", ".ckpt", ".pt", ".pth", ".bin"} {
		if s, ok := strings.CutSuffix(name, ext); ok {
			return s
		}
	}
	return name
}

// nameKeys reads the key-value parts of a pack folder name (parts joined by
// "--", each key-value; the first part, the model, under "model").
func nameKeys(folder string) map[string]string {
	parts := strings.Split(folder, "--")
	keys := map[string]string{}
	for i, part := range parts {
		key, val, ok := strings.Cut(part, "-")
		if !ok || i == 0 {
			continue
		}
		keys[key] = val
	}
	// The model name may itself hold "--": it is everything before the
	// first key the pack writes.
	model := folder
	if i := strings.Index(folder, "--lcm_lora-"); i >= 0 {
		model = folder[:i]
	}
	keys["model"] = model
	return keys
}

// setFits reports how the engine set's own name contradicts b (""
// when it does not): the keys StreamDiffusionConfig names a set with.
func (b *engineBuild) setFits(set string) string {
	if b == nil {
		return ""
	}
	k := nameKeys(set)
	for _, c := range []struct{ key, want string }{{"mode", b.mode}, {"t_index", strconv.Itoa(b.tIndex)}, {"buffer", strconv.Itoa(b.buffer)}} {
		if v, ok := k[c.key]; ok && v != c.want {
			return fmt.Sprintf("its name says %s-%s, the config %s", c.key, v, c.want)
		}
	}
	return ""
}

// buildFits reports whether a build folder's name is one create_prefix
// writes for rows (any rows when b is nil) and b's mode.
func (b *engineBuild) buildFits(folder string, rows int) bool {
	k := nameKeys(folder)
	maxB, ok := k["max_batch"]
	if !ok || k["mode"] == "" || (k["min_batch"] != "" && k["min_batch"] != maxB) {
		return false
	}
	if b == nil {
		return true
	}
	return maxB == strconv.Itoa(rows) && k["mode"] == b.mode && k["tiny_vae"] != "False" && k["lcm_lora"] != "False"
}

// findEngineSet finds the build folders of the engine set name that hold
// the UNet's ONNX file and the VAEs' (relative to the models folder). As
// the pack's get_engine_configs, a set is a folder of build folders; as
// its wrapper, the UNet's folder is the one named for the UNet's rows
// (max_batch) and the VAEs' the one named for theirs. Without b (the
// engine loader) each must be the only one there.
func findEngineSet(k *handleLoader, input, name string, b *engineBuild) (unet, vae string, err error) {
	if _, err := sdFolders(k.cfg, input, name); err != nil {
		return "", "", err
	}
	if err := localName(input, streamDiffusionEngineDir, name); err != nil {
		return "", "", err
	}
	dir := path.Join(streamDiffusionEngineDir, filepath.ToSlash(name))
	subs, err := readModelDir(k.cfg, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid model file", Input: input, Err: fmt.Errorf("%s %q: %v", input, name, err)}
	}
	if why := b.setFits(name); why != "" {
		return "", "", fmt.Errorf("input %s: the engine set %q was built for other settings: %s", input, name, why)
	}
	if unet, err = pickBuild(k.cfg, input, name, dir, subs, engineUNetFiles, b, "UNet"); err != nil {
		return "", "", err
	}
	if vae, err = pickBuild(k.cfg, input, name, dir, subs, engineVAEFiles, b, "VAE"); err != nil {
		return "", "", err
	}
	return unet, vae, nil
}

// pickBuild picks the build folder of dir that holds files and is named
// for part's rows (part "UNet" or "VAE").
func pickBuild(cfg nodes.Config, input, name, dir string, subs, files []string, b *engineBuild, part string) (string, error) {
	rows := 0
	if b != nil {
		rows = b.vaeRows
		if part == "UNet" {
			rows = b.unetRows
		}
	}
	var have, fit []string
	for _, s := range subs {
		if !engineComplete(cfg, path.Join(dir, s), files) {
			continue
		}
		have = append(have, s)
		if b.buildFits(s, rows) {
			fit = append(fit, s)
		}
	}
	if len(fit) > 1 && b != nil {
		if same := slices.DeleteFunc(slices.Clone(fit), func(s string) bool { return nameKeys(s)["model"] != b.model }); len(same) > 0 {
			fit = same
		}
	}
	if len(fit) == 1 {
		return path.Join(dir, fit[0]), nil
	}
	if len(have) == 0 {
		return "", &nodes.FileError{Code: diag.MissingFile, Summary: "Model file not found", Input: input,
			Err: fmt.Errorf("%s %q: comfyrt runs the ONNX files beside the pack's engines: want %s in a build folder of %s/ (next to the .engine files, in folders named as the pack's <model>--lcm_lora-True--tiny_vae-True--max_batch-R--min_batch-R--mode-M; the TensorRT execution provider builds its engines from them)",
				input, name, strings.Join(files, " and "), dir)}
	}
	want := "a build folder named …--max_batch-R--min_batch-R--mode-M"
	if b != nil {
		want = fmt.Sprintf("…--max_batch-%d--min_batch-%d--mode-%s (the %s's rows for %d t_indexes, frame buffer %d, %s)", rows, rows, b.mode, part, b.tIndex, b.buffer, b.mode)
	}
	if len(fit) == 0 {
		return "", fmt.Errorf("input %s: none of the engine set %q's %s builds (%s) is named %s", input, name, part, quoteAll(have), want)
	}
	return "", fmt.Errorf("input %s: the engine set %q has %d %s builds named %s: %s; keep one of them", input, name, len(fit), part, want, quoteAll(fit))
}

// engineComplete reports whether every one of files is in dir.
func engineComplete(cfg nodes.Config, dir string, files []string) bool {
	for _, f := range files {
		if _, err := resolveModel(cfg, path.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// quoteAll quotes each name.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// readModelDir lists the subfolders of rel in the models folder (inside it
// only, when confined).
func readModelDir(cfg nodes.Config, rel string) ([]string, error) {
	var ents []fs.DirEntry
	var err error
	if cfg.Confined {
		root, rerr := os.OpenRoot(cfg.ModelDir)
		if rerr != nil {
			return nil, rerr
		}
		defer root.Close()
		ents, err = fs.ReadDir(root.FS(), filepath.ToSlash(rel))
	} else {
		ents, err = os.ReadDir(filepath.Join(cfg.ModelDir, filepath.FromSlash(rel)))
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, err
}

func loadStreamEngine(k *handleLoader, in []value.Spec) ([]any, error) {
	const input = "engine_name"
	a := newArgs(in, input)
	name := a.str(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	sm, err := engineSetModel(k, input, name, nil)
	if err != nil {
		return nil, err
	}
	return []any{sm}, nil
}

// engineSetModel opens the engine set name (its builds that fit b; nil:
// its only UNet and VAE builds) as an SDMODEL without a text encoder.
func engineSetModel(k *handleLoader, input, name string, b *engineBuild) (*SDStreamModel, error) {
	unetDir, vaeDir, err := findEngineSet(k, input, name, b)
	if err != nil {
		return nil, err
	}
	abs := map[string]string{}
	ios := map[string]sdmodel.IO{}
	for _, f := range []struct{ dir, file, part string }{{unetDir, "unet.onnx", sdmodel.UNet},
		{vaeDir, "vae_encoder.onnx", sdmodel.VAEEncoder}, {vaeDir, "vae_decoder.onnx", sdmodel.VAEDecoder}} {
		rel := path.Join(f.dir, f.file)
		p, err := resolveModel(k.cfg, rel)
		if err != nil {
			return nil, sdFileError(input, err)
		}
		abs[f.file] = p
		if ios[f.file], err = sdmodel.InspectPart(k.cfg.Engines, f.part, p, rel); err != nil {
			return nil, sdFileError(input, err)
		}
	}
	sched := sdmodel.Scheduler{Class: "LCMScheduler", PredictionType: "epsilon", BetaSchedule: "scaled_linear", BetaStart: 0.00085, BetaEnd: 0.012, TrainSteps: 1000}
	return &SDStreamModel{
		Name:   name,
		Engine: true,
		UNet:   &SDUNet{Name: name, Path: abs["unet.onnx"], IO: ios["unet.onnx"], Scheduler: sched, LatentScale: sdmodel.SD15LatentScale, Opts: k.cfg.Engine},
		VAE: &SDVAE{VAE: sdmodel.VAE{Name: name, Encoder: abs["vae_encoder.onnx"], Decoder: abs["vae_decoder.onnx"], TAESD: true, Scale: sdmodel.SD15LatentScale},
			Enc: ios["vae_encoder.onnx"], Dec: ios["vae_decoder.onnx"], Opts: k.cfg.Engine},
	}, nil
}

func refuseStreamLoRA(_ *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "lora_name", "strength", "previous_loras")
	name := a.str(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("input lora_name: LoRA %q cannot be applied to an ONNX export at run time; fuse the LoRA into the checkpoint before exporting it (diffusers' load_lora_weights and fuse_lora, then optimum-cli export onnx) and remove this node", name)
}

func streamAdvancedConfig(_ *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "warmup", "do_add_noise", "use_denoising_batch", "enable_similar_image_filter",
		"similar_image_filter_threshold", "similar_image_filter_max_skip_frame", "device", "dtype", "device_ids",
		"use_safety_checker", "engine_dir")
	adv := SDStreamAdvanced{
		Warmup: int(a.int(0)), AddNoise: a.bool(1), DenoisingBatch: a.bool(2), Filter: a.bool(3),
		FilterThreshold: a.float(4), FilterMaxSkip: int(a.int(5)), Device: a.str(6), DType: a.str(7), DeviceIDs: a.str(8),
		SafetyChecker: a.bool(9), EngineDir: a.str(10),
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if adv.FilterThreshold < 0 || adv.FilterThreshold > 1 {
		return nil, fmt.Errorf("input similar_image_filter_threshold: %g is outside 0…1", adv.FilterThreshold)
	}
	if adv.FilterMaxSkip < 0 {
		return nil, fmt.Errorf("input similar_image_filter_max_skip_frame: %d must not be negative", adv.FilterMaxSkip)
	}
	return []any{&adv}, nil
}

// streamModelHandle reads the SDMODEL handle of slot i.
func streamModelHandle(a *args, i int) *SDStreamModel {
	return handleOf[*SDStreamModel](a, i, "SDMODEL", "StreamDiffusionCheckpointLoader")
}

// streamSettings are the inputs both configs share.
type streamSettings struct {
	tIndex        string
	mode          string
	width, height int
	fbs           int
	tinyVAE       bool
	cfgType       string
	seed          int64
	acceleration  string
	lora, adv     int // slots of opt_lora_dict, opt_advanced_config
}

func streamConfig(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "model", "t_index_list", "mode", "width", "height", "acceleration", "frame_buffer_size",
		"use_tiny_vae", "cfg_type", "use_lcm_lora", "seed", "opt_lora_dict", "opt_advanced_config")
	m := streamModelHandle(a, 0)
	s := streamSettings{tIndex: a.str(1), mode: a.str(2), width: int(a.int(3)), height: int(a.int(4)), acceleration: a.str(5),
		fbs: int(a.int(6)), tinyVAE: a.bool(7), cfgType: a.str(8), seed: a.int(10), lora: 11, adv: 12}
	a.bool(9)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if m.CLIP == nil {
		return nil, fmt.Errorf("input model: the engine set %q has no text encoder; load a checkpoint (StreamDiffusionCheckpointLoader) or use StreamDiffusionPrebuiltConfig with its model input", m.Name)
	}
	st, err := buildStream(k, a, m, s)
	if err != nil {
		return nil, err
	}
	return []any{st}, nil
}

func streamPrebuiltConfig(k *handleLoader, in []value.Spec) ([]any, error) {
	a := newArgs(in, "engine_config", "t_index_list", "mode", "frame_buffer_size", "width", "height", "model",
		"opt_lora_dict", "opt_advanced_config")
	name := a.str(0)
	s := streamSettings{tIndex: a.str(1), mode: a.str(2), fbs: int(a.int(3)), width: int(a.int(4)), height: int(a.int(5)),
		tinyVAE: true, cfgType: "self", seed: 2, acceleration: "tensorrt", lora: 7, adv: 8}
	var ckpt *SDStreamModel
	if a.present(6) {
		ckpt = streamModelHandle(a, 6)
	} else {
		a.errorf(6, "comfyrt needs the model input (a checkpoint from StreamDiffusionCheckpointLoader) for the text encoder and tokenizer, which an engine set does not hold")
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if ckpt.CLIP == nil {
		return nil, fmt.Errorf("input model: %q is an engine set without a text encoder; link a checkpoint", ckpt.Name)
	}
	ti, err := streamdiff.ParseTIndexList(s.tIndex)
	if err != nil {
		return nil, fmt.Errorf("input t_index_list: %w", err)
	}
	adv, err := streamAdvanced(a, s.adv)
	if err != nil {
		return nil, err
	}
	eng, err := engineSetModel(k, "engine_config", name, newEngineBuild(ckpt.Name, s.mode, len(ti), s.fbs, adv.DenoisingBatch))
	if err != nil {
		return nil, err
	}
	m := &SDStreamModel{Name: name, UNet: eng.UNet, CLIP: ckpt.CLIP, VAE: eng.VAE, Engine: true}
	st, err := buildStream(k, a, m, s)
	if err != nil {
		return nil, err
	}
	return []any{st}, nil
}

// streamAdvanced reads the ADVANCED_CONFIG of slot i (the wrapper's
// defaults when it is not linked).
func streamAdvanced(a *args, i int) (SDStreamAdvanced, error) {
	adv := defaultAdvanced
	if a.present(i) {
		if p := handleOf[*SDStreamAdvanced](a, i, "ADVANCED_CONFIG", "StreamDiffusionAdvancedConfig"); p != nil {
			adv = *p
		}
		if err := a.Err(); err != nil {
			return adv, err
		}
	}
	return adv, nil
}

// buildStream checks the shared settings and makes the STREAM_MODEL.
func buildStream(k *handleLoader, a *args, m *SDStreamModel, s streamSettings) (*SDStream, error) {
	if a.present(s.lora) {
		return nil, fmt.Errorf("input opt_lora_dict: a LoRA cannot be applied to an ONNX export at run time; fuse it into the checkpoint before exporting")
	}
	adv, err := streamAdvanced(a, s.adv)
	if err != nil {
		return nil, err
	}
	ti, err := streamdiff.ParseTIndexList(s.tIndex)
	if err != nil {
		return nil, fmt.Errorf("input t_index_list: %w", err)
	}
	cfgType, err := streamdiff.ParseCFG(s.cfgType)
	if err != nil {
		return nil, fmt.Errorf("input cfg_type: %w", err)
	}
	switch {
	case s.mode != "img2img" && s.mode != "txt2img":
		return nil, fmt.Errorf("input mode: %q is not img2img or txt2img", s.mode)
	case s.mode == "txt2img" && cfgType != streamdiff.CFGNone:
		return nil, fmt.Errorf("input cfg_type: txt2img mode accepts only cfg_type none, got %s (as the pack says)", cfgType)
	case s.width%8 != 0 || s.width < 8:
		return nil, fmt.Errorf("input width: %d must be a multiple of 8 (the VAE's latent pixel)", s.width)
	case s.height%8 != 0 || s.height < 8:
		return nil, fmt.Errorf("input height: %d must be a multiple of 8 (the VAE's latent pixel)", s.height)
	case s.fbs != 1:
		return nil, fmt.Errorf("input frame_buffer_size: %d; comfyrt runs a frame buffer of 1 (the sampler feeds one frame per call, as the pack's does)", s.fbs)
	}
	seed := uint64(s.seed)
	if s.seed < 0 {
		seed = 2
	}
	vae := m.VAE
	if s.tinyVAE && !m.Engine {
		if vae, err = streamTAESD(k); err != nil {
			return nil, err
		}
	}
	return &SDStream{Name: m.Name, UNet: m.UNet, CLIP: m.CLIP, VAE: vae, TIndex: ti, Txt2Img: s.mode == "txt2img",
		Width: s.width, Height: s.height, Acceleration: s.acceleration, CFG: cfgType, Seed: seed, Advanced: adv}, nil
}

// streamTAESD opens vae_approx/taesd_{encoder,decoder}.onnx for
// use_tiny_vae.
func streamTAESD(k *handleLoader) (*SDVAE, error) {
	const input = "use_tiny_vae"
	f, err := sdFolders(k.cfg, input, "taesd")
	if err != nil {
		return nil, err
	}
	v, err := sdmodel.FindVAE(f, "taesd")
	if err != nil {
		return nil, sdFileError(input, fmt.Errorf("use_tiny_vae: %w (or set use_tiny_vae false to run the checkpoint's own VAE)", err))
	}
	enc, err := sdmodel.InspectPart(k.cfg.Engines, sdmodel.VAEEncoder, v.Encoder, "taesd encoder")
	if err != nil {
		return nil, sdFileError(input, err)
	}
	dec, err := sdmodel.InspectPart(k.cfg.Engines, sdmodel.VAEDecoder, v.Decoder, "taesd decoder")
	if err != nil {
		return nil, sdFileError(input, err)
	}
	return &SDVAE{VAE: v, Enc: enc, Dec: dec, Opts: k.cfg.Engine}, nil
}
