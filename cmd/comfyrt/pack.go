package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"comfyrt/internal/spell"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
	"comfyrt/streampack"
	"comfyrt/streampack/wasmv1"
)

// Stream packs on the command line. validate, compile, run, nodes, convert
// and serve take --pack [NS=]PATH (repeatable) and --packs-dir DIR (default
// $COMFYRT_PACKS): the packs are loaded while the flags are parsed (a bad
// pack is a usage error naming the file), their classes merged into the
// schemas (loadSchemas) and their kernels registered (kernelRegistry).
// Packs are loaded once per process (packLoader) and shared.
//
// The selection is process state, reset by newFlags for each command:
// commands run one at a time (tests drive run() sequentially).

var (
	packLoader = &streampack.Loader{Options: streampack.Options{ComfyrtVersion: version}}
	// cliPacks are the packs the current command selected.
	cliPacks = &streampack.Set{}
	// packsDirSeen is set when --packs-dir was given (else $COMFYRT_PACKS
	// applies).
	packsDirSeen bool
	// packsInterrupted is set when SIGINT or SIGTERM stopped the loading
	// of a --pack: the command fails and main exits with exitInterrupted.
	packsInterrupted bool
)

// errPackInterrupted is the error of a pack load stopped by SIGINT or
// SIGTERM (what it had expanded is removed).
var errPackInterrupted = errors.New("interrupted by a signal; nothing of the pack's expansion is left")

// packSignals returns a context cancelled by SIGINT or SIGTERM, for
// loading, expanding and installing packs: the load stops and removes
// what it expanded instead of the process dying with hundreds of MB left
// in $TMPDIR. stop restores the default handling.
func packSignals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// packCommands are the commands that take --pack and --packs-dir.
var packCommands = map[string]bool{"validate": true, "compile": true, "run": true, "nodes": true, "convert": true, "serve": true}

// addPackFlags resets the pack selection and, for the commands that take
// packs, adds --pack and --packs-dir to fs.
func addPackFlags(fs *flag.FlagSet) {
	cliPacks, packsDirSeen, packsInterrupted = &streampack.Set{}, false, false
	if !packCommands[fs.Name()] {
		return
	}
	if usage := fs.Usage; usage != nil { // no usage after an interrupted --pack: it was no usage error
		fs.Usage = func() {
			if !packsInterrupted {
				usage()
			}
		}
	}
	fs.Func("pack", "stream pack `[NS=]PATH` (folder or .tar.gz) whose nodes to add (repeatable);\nNS= puts its classes under the namespace NS (\"NS.Class\")", selectPack)
	fs.Func("packs-dir", "`folder` of installed packs to load (default $COMFYRT_PACKS)", func(dir string) error {
		packsDirSeen = true
		return selectPacksDir(dir)
	})
}

func initPackLoader() {
	if packLoader.Options.WASM == nil {
		packLoader.Options.WASM = wasmv1.UserCacheRuntime()
	}
}

// selectPack loads "[NS=]PATH" and adds it to the selection.
func selectPack(arg string) error {
	ns, path := streampack.ParseSelector(arg)
	initPackLoader()
	ctx, stop := packSignals()
	p, err := packLoader.LoadContext(ctx, path, ns)
	interrupted := ctx.Err() != nil
	stop()
	if interrupted { // a pack loaded all the same is removed by main's packLoader.Close
		packsInterrupted = true
		return errPackInterrupted
	}
	if err != nil {
		return streampack.WithSealHint(err, path)
	}
	for _, q := range cliPacks.Packs {
		if q == p {
			return nil
		}
	}
	if err := p.CheckClash(builtin.Schemas()); err != nil {
		return err
	}
	return cliPacks.Add(p)
}

func selectPacksDir(dir string) error {
	dirs, err := streampack.Installed(dir)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := selectPack(d); err != nil {
			return err
		}
	}
	return nil
}

// mergePackSchemas adds the selected packs' classes to s (and loads
// $COMFYRT_PACKS when no --packs-dir was given).
func mergePackSchemas(s *schema.Set) error {
	if !packsDirSeen {
		packsDirSeen = true
		if d := os.Getenv("COMFYRT_PACKS"); d != "" {
			if err := selectPacksDir(d); err != nil {
				return fmt.Errorf("$COMFYRT_PACKS: %w", err)
			}
		}
	}
	s.Merge(cliPacks.Schemas())
	return nil
}

// registerPacks registers the selected packs' kernels (after the
// built-ins: ONNX bindings use the generic image-model kernels).
func registerPacks(r *nodes.Registry) {
	if err := cliPacks.Register(r); err != nil {
		// Clashes are refused when the packs are selected; this is a bug.
		panic(err)
	}
}

func cmdPack(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub := map[string]func([]string, io.Writer, io.Writer) int{
		"validate": packValidate, "inspect": packInspect, "install": packInstall, "list": packList,
		"seal": packSeal,
	}
	if len(args) == 0 || sub[args[0]] == nil {
		if len(args) > 1 && args[0] == "help" && sub[args[1]] != nil { // pack help SUB: SUB --help
			return sub[args[1]]([]string{"--help"}, stdout, stderr)
		}
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			packUsage(stdout)
			return exitOK
		}
		if len(args) > 0 {
			fmt.Fprintf(stderr, "comfyrt pack: unknown subcommand %q", args[0])
			if s := suggestSubcommand(args[0], slices.Sorted(maps.Keys(sub))); s != "" {
				fmt.Fprintf(stderr, "; did you mean %s?", s)
			}
			fmt.Fprintln(stderr)
		}
		packUsage(stderr)
		return exitUsage
	}
	return sub[args[0]](args[1:], stdout, stderr)
}

// suggestSubcommand returns the subcommand a mistyped name most likely
// meant, as suggestCommand does for commands.
func suggestSubcommand(name string, subs []string) string {
	if s := spell.Nearest(name, subs); s != "" {
		return s
	}
	for _, c := range subs {
		if strings.HasPrefix(c, name) || strings.HasPrefix(name, c) {
			return c
		}
	}
	return ""
}

func packUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: comfyrt pack validate|inspect|install|list|seal [options] [PACK...]")
	fmt.Fprintln(w, "\n  validate PACK...           load each pack (folder or .tar.gz) and check it: manifest, paths,\n                             sizes and sha256, WASM modules (compiled, ABI checked), examples")
	fmt.Fprintln(w, "  inspect [--format json] PACK  print a pack's manifest summary: classes, modules, models, tests")
	fmt.Fprintln(w, "  install [--packs-dir DIR] PACK  copy a pack into the packs folder, fetching URL models (verified)")
	fmt.Fprintln(w, "  list [--packs-dir DIR]     list installed packs")
	fmt.Fprintln(w, "  seal DIR...                for pack authors: write the size and sha256 of every module and\n                             model file into the folder's pack.json (nothing is built)")
	fmt.Fprintln(w, "\nThe packs folder defaults to $COMFYRT_PACKS.")
}

// packsDirFlag adds --packs-dir to a pack subcommand.
func packsDirFlag(fs *flag.FlagSet) *string {
	return fs.String("packs-dir", os.Getenv("COMFYRT_PACKS"), "packs `folder` (default $COMFYRT_PACKS)")
}

func packValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pack validate", "PACK...", "Loads each pack and checks everything Load checks; compiles the WASM modules\nand checks their ABI; compiles every example workflow and test workflow.\n\nExit status: 0 when every pack is valid, 1 when one is not, 2 for usage errors.", stderr)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) == 0 {
		return usageError(stderr, fs, "no pack given")
	}
	ctx, stop := packSignals()
	defer stop()
	code := exitOK
	for _, f := range files {
		p, err := streampack.LoadContext(ctx, f, streampack.Options{ComfyrtVersion: version, WASM: wasmv1.UserCacheRuntime()})
		if ctx.Err() != nil {
			return packInterrupted(stderr, "pack validate", f, p)
		}
		if err != nil {
			fmt.Fprintf(stdout, "%s: invalid: %v\n", f, streampack.WithSealHint(err, f))
			code = exitInvalid
			continue
		}
		problems := checkPackWorkflows(p)
		p.Close()
		if len(problems) > 0 {
			for _, pr := range problems {
				fmt.Fprintf(stdout, "%s: invalid: %s\n", f, pr)
			}
			code = exitInvalid
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%s %s: %d classes, %d modules, %d models, %d workflows, %d tests)\n", f,
			p.Manifest.Name, p.Manifest.Version, len(p.Classes()), len(p.Manifest.Modules), len(p.Manifest.Models), len(p.Manifest.Workflows), len(p.Manifest.Tests))
	}
	return code
}

// checkPackWorkflows compiles the pack's example and test workflows
// against the built-in classes and the pack's (diagnostics only: models
// are not opened).
func checkPackWorkflows(p *streampack.Pack) []string {
	if err := p.CheckClash(builtin.Schemas()); err != nil {
		return []string{err.Error()}
	}
	schemas := schema.NewSet()
	schemas.Merge(builtin.Schemas())
	schemas.Merge(p.Schemas())
	seen := map[string]bool{}
	var out []string
	files := append([]string(nil), p.Manifest.Workflows...)
	for _, t := range p.Manifest.Tests {
		files = append(files, t.Workflow)
	}
	for _, wf := range files {
		if seen[wf] {
			continue
		}
		seen[wf] = true
		full, err := p.Path(wf)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		data, err := os.ReadFile(full)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		unlisted, _ := builtin.FolderLists(schemas, "")
		c := check(wf, data, schemas, false, unlisted)
		if !c.valid {
			var b strings.Builder
			c.printText(&b)
			out = append(out, fmt.Sprintf("workflow %s does not validate:\n%s", wf, strings.TrimSpace(b.String())))
		}
	}
	return out
}

func packInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pack inspect", "[--format text|json] PACK", "Prints a pack's name, version, classes (with their implementation), modules,\nmodels and tests, after loading and verifying it.", stderr)
	format := fs.String("format", "text", "output `format`: text or json")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) != 1 {
		return usageError(stderr, fs, "give exactly one pack")
	}
	ctx, stop := packSignals()
	p, err := streampack.LoadContext(ctx, files[0], streampack.Options{ComfyrtVersion: version, NoWASM: true})
	interrupted := ctx.Err() != nil
	stop()
	if interrupted {
		return packInterrupted(stderr, "pack inspect", files[0], p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt pack inspect: %v\n", streampack.WithSealHint(err, files[0]))
		return exitInvalid
	}
	defer p.Close()
	s := p.Summary()
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(s)
		return exitOK
	}
	fmt.Fprintf(stdout, "%s %s (%s)\n", s.Name, s.Version, s.Source)
	if s.Description != "" {
		fmt.Fprintf(stdout, "  %s\n", s.Description)
	}
	if s.Comfyrt != "" {
		fmt.Fprintf(stdout, "  comfyrt %s\n", s.Comfyrt)
	}
	fmt.Fprintln(stdout, "classes:")
	for _, c := range s.Classes {
		fmt.Fprintf(stdout, "  %-14s %-16s (%s) -> %s\n", c.Class, c.Impl, strings.Join(c.Inputs, ", "), strings.Join(c.Outputs, ", "))
	}
	fmt.Fprintln(stdout, "modules:")
	for _, k := range slices.Sorted(maps.Keys(p.Manifest.Modules)) {
		m := p.Manifest.Modules[k]
		fmt.Fprintf(stdout, "  %-14s %s %d bytes sha256:%s abi %d memory %d MB timeout %d ms grants [%s]\n", k, m.File, m.Size, m.SHA256[:12], m.ABI,
			orDefault(m.MemoryMB, wasmv1.DefaultMemoryMB), orDefault(m.TimeoutMS, wasmv1.DefaultTimeoutMS), strings.Join(m.Grants, ","))
	}
	fmt.Fprintln(stdout, "models:")
	for _, k := range slices.Sorted(maps.Keys(p.Manifest.Models)) {
		m := p.Manifest.Models[k]
		fmt.Fprintf(stdout, "  %-14s %s %d bytes sha256:%s %s\n", k, m.File, m.Size, m.SHA256[:12], m.URL)
	}
	fmt.Fprintf(stdout, "workflows: %s\n", strings.Join(s.Workflows, ", "))
	fmt.Fprintln(stdout, "tests:")
	for _, t := range s.Tests {
		in := strings.Join(t.Inputs, ", ")
		if t.Clip != "" {
			in = "clip " + t.Clip
		}
		fmt.Fprintf(stdout, "  %-14s %s on %s\n", t.Name, t.Workflow, in)
	}
	return exitOK
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func packInstall(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pack install", "[--packs-dir DIR] [--replace] PACK...", "Copies each pack into the packs folder as NAME-VERSION, fetching the models\nthat have a URL and verifying every size and sha256, then loads it to check it.", stderr)
	dir := packsDirFlag(fs)
	replace := fs.Bool("replace", false, "replace an installed pack of the same name and version")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) == 0 {
		return usageError(stderr, fs, "no pack given")
	}
	if *dir == "" {
		return usageError(stderr, fs, "no packs folder: give --packs-dir or set $COMFYRT_PACKS")
	}
	ctx, stop := packSignals()
	defer stop()
	code := exitOK
	for _, f := range files {
		dest, err := streampack.Install(ctx, f, *dir, streampack.InstallOptions{
			Options: streampack.Options{ComfyrtVersion: version}, Replace: *replace})
		if ctx.Err() != nil {
			if err == nil { // installed just before the signal: it stays
				fmt.Fprintf(stdout, "%s: installed in %s\n", f, dest)
			}
			return packInterrupted(stderr, "pack install", f, nil)
		}
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt pack install: %v\n", streampack.WithSealHint(err, f))
			code = exitInvalid
			continue
		}
		fmt.Fprintf(stdout, "%s: installed in %s\n", f, dest)
	}
	return code
}

func packList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pack list", "[--packs-dir DIR]", "Lists the packs installed in the packs folder, each checked.", stderr)
	dir := packsDirFlag(fs)
	if _, err := parseInterleaved(fs, args); err != nil {
		return flagExit(err)
	}
	if *dir == "" {
		return usageError(stderr, fs, "no packs folder: give --packs-dir or set $COMFYRT_PACKS")
	}
	dirs, err := streampack.Installed(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt pack list: %v\n", err)
		return exitUsage
	}
	code := exitOK
	for _, d := range dirs {
		p, err := streampack.Load(d, streampack.Options{ComfyrtVersion: version, NoWASM: true})
		if err != nil {
			fmt.Fprintf(stdout, "%s: invalid: %v\n", d, err)
			code = exitInvalid
			continue
		}
		fmt.Fprintf(stdout, "%-24s %-10s %s (%s)\n", p.Manifest.Name, p.Manifest.Version, strings.Join(p.Classes(), ", "), d)
		p.Close()
	}
	if len(dirs) == 0 {
		fmt.Fprintf(stdout, "no packs in %s\n", *dir)
	}
	return code
}

// packInterrupted reports a pack command stopped by SIGINT or SIGTERM
// while it loaded src (p, when it loaded all the same, is closed: its
// expansion removed).
func packInterrupted(stderr io.Writer, cmd, src string, p *streampack.Pack) int {
	if p != nil {
		p.Close()
	}
	fmt.Fprintf(stderr, "comfyrt %s: %s: %v\n", cmd, src, errPackInterrupted)
	return exitInterrupted
}

func packSeal(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pack seal", "DIR...", "For pack authors: writes the size and sha256 of every module and model file\nthat pack.json lists into the pack.json of each folder. Nothing is built:\nbuild the files first. A model with a URL whose file is absent keeps the\nsize and sha256 it has. Sealing a sealed pack whose files did not change\nleaves pack.json as it is.\n\nExit status: 0 when every pack is sealed, 1 when one cannot be, 2 for usage errors.", stderr)
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(dirs) == 0 {
		return usageError(stderr, fs, "no pack folder given")
	}
	code := exitOK
	for _, d := range dirs {
		m, changed, err := streampack.SealFolder(d)
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt pack seal: %v\n", err)
			code = exitInvalid
			continue
		}
		what := "already sealed"
		if changed {
			what = "sealed"
		}
		fmt.Fprintf(stdout, "%s: %s (%s %s: %d modules, %d models); check it with 'comfyrt pack validate %s'\n",
			d, what, m.Name, m.Version, len(m.Modules), len(m.Models), d)
	}
	return code
}
