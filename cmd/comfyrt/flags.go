package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"comfyrt/compiler"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"

	"comfyrt/nodes/builtin"
	"comfyrt/nodes/known"
	"comfyrt/nodes/schema"
)

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// newFlags returns a FlagSet whose usage text names the command.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: comfyrt %s %s\n\n%s\n\nOptions:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	addPackFlags(fs) // --pack, --packs-dir (pack.go)
	return fs
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("comfyrt validate a.json --format json"). "--" ends flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" && len(args) > 0 && args[len(args)-len(rest)] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a usage problem and returns exit code 2.
func usageError(stderr io.Writer, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(stderr, "comfyrt %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run 'comfyrt %s --help' for usage.\n", fs.Name())
	return exitUsage
}

// flagExit maps a flag parsing error to an exit code (--help is success).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// loadSchemas returns every known node class (known.Schemas: ComfyUI core,
// the custom packs' classes, the built-in ones) and the stream packs'
// classes, merged with the object_info files (later files win over earlier
// ones), except that the classes comfyrt runs with its own kernel keep
// their built-in (or stream-pack) schema; where a file differs for one of
// them, a warning goes to warn (nil: none). See mergeObjectInfo.
func loadSchemas(files []string, warn io.Writer) (*schema.Set, error) {
	s := known.Schemas()
	if err := mergePackSchemas(s); err != nil { // stream packs (pack.go)
		return nil, err
	}
	if len(files) == 0 {
		return s, nil
	}
	kernels := kernelRegistry()
	kernel := func(class string) bool { _, ok := kernels.Lookup(class); return ok }
	for _, f := range files {
		fs, err := schema.LoadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--object-info: %w", err)
		}
		mergeObjectInfo(s, fs, f, kernel, warn)
	}
	return s, nil
}

// readInput reads a file, or stdin for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// engineFlags are the options of model-backed nodes, shared by compile and
// run.
type engineFlags struct {
	device    *string
	modelsDir *string
	threads   *int
	// maxImagePixels is --max-image-pixels (nil: the default).
	maxImagePixels *int64
	maxPlan        *byteSize // --max-plan-bytes (budget.go); nil: the default
}

func addEngineFlags(fs *flag.FlagSet) *engineFlags {
	return &engineFlags{
		device:    fs.String("device", "cpu", "ONNX Runtime execution `providers` for model nodes, in preference order:\ncpu, cuda, tensorrt (comma-separated, e.g. cuda,cpu)"),
		modelsDir: fs.String("models-dir", "", "models `folder` that model nodes load from (default: $COMFYRT_MODELS,\nelse $COMFYRT_CACHE/models, else .cache/models beside the program or the working directory, where make fetches them)"),
		threads:   fs.Int("threads", 0, "intra-op threads per model session (0: one per core)"),
		maxImagePixels: fs.Int64("max-image-pixels", builtin.DefaultMaxImagePixels,
			"largest picture (width×height `pixels`) that LoadImage and -i decode; a file whose header claims more is refused"),
		maxPlan: maxPlanFlag(fs),
	}
}

// apply sets the engine fields of cfg: ONNX Runtime as the provider (its
// library is loaded when the first model node prepares), the models folder
// and the devices.
func (e *engineFlags) apply(cfg *compiler.Config) error {
	devs, err := engine.ParseDevices(*e.device)
	if err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	if *e.threads < 0 {
		return fmt.Errorf("--threads must be 0 or more")
	}
	cfg.Engines = ort.New()
	cfg.ModelDir = *e.modelsDir
	if cfg.ModelDir == "" {
		cfg.ModelDir = defaultModelsDir()
	}
	cfg.Engine = engine.Options{Devices: devs, IntraOpThreads: *e.threads}
	if e.maxImagePixels != nil {
		if *e.maxImagePixels <= 0 {
			return fmt.Errorf("--max-image-pixels must be 1 or more")
		}
		cfg.MaxImagePixels = *e.maxImagePixels
	}
	cfg.MaxBytes = e.planBytes(1)
	return nil
}

// imagePixels is --max-image-pixels, or the default.
func (e *engineFlags) imagePixels() int64 {
	if e == nil || e.maxImagePixels == nil {
		return builtin.DefaultMaxImagePixels
	}
	return *e.maxImagePixels
}

// defaultModelsDir is $COMFYRT_MODELS, else $COMFYRT_CACHE/models when it
// is a folder (where scripts/setup.sh puts the models when COMFYRT_CACHE
// is set, as it does the runtime library), else the first .cache/models
// found in the program's folder or the working directory or a folder above
// them (where scripts/setup.sh puts the models by default), else "".
func defaultModelsDir() string {
	if d := os.Getenv("COMFYRT_MODELS"); d != "" {
		return d
	}
	if c := os.Getenv("COMFYRT_CACHE"); c != "" {
		p := filepath.Join(c, "models")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	var starts []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, ".cache", "models")
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				return p
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	return ""
}
