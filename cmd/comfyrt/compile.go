package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"comfyrt/compiler"
	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
)

// kernelRegistry is the registry the compile and run commands use: the
// built-in kernels (model-backed nodes and stream packs register here too).
func kernelRegistry() *nodes.Registry {
	r := nodes.NewRegistry()
	builtin.Register(r)
	registerPacks(r) // --pack, --packs-dir (pack.go)
	return r
}

// compileFile loads a workflow file and compiles it. On failure it prints
// the diagnostics in validate's text format to stdout and returns nil.
func compileFile(name string, data []byte, objectInfo []string, inputDir string, w, h int, ef *engineFlags, stdout io.Writer, opts ...func(*compiler.Config)) (*compiler.Plan, error) {
	schemas, err := loadSchemas(objectInfo, os.Stderr) // warnings: stdout may carry the plan
	if err != nil {
		return nil, err
	}
	// LoadImage names are not checked against the folder: the frame input's
	// file is never read, and a static image's kernel reports a missing file.
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		return nil, err
	}
	c := &checked{name: name}
	wf, diags := graph.Load(name, data, graph.Options{Schemas: schemas})
	c.wf, c.diags = wf, diags
	if wf.Prompt == nil || diags.HasErrors() {
		c.diags.Dedupe()
		c.printText(stdout)
		return nil, nil
	}
	cfg := compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, InputDir: inputDir, Width: w, Height: h}
	if ef != nil {
		if err := ef.apply(&cfg); err != nil {
			return nil, err
		}
	}
	for _, o := range opts {
		o(&cfg)
	}
	pl, err := compiler.Compile(wf.Prompt, cfg)
	if err != nil {
		var l diag.List
		if !errors.As(err, &l) {
			return nil, err
		}
		graph.Locate(data, l)
		l, why := engineUnavailable(l)
		if why != "" {
			fmt.Fprintf(stdout, "%s: %s\n", name, why)
			if len(l) == 0 {
				return nil, nil
			}
		}
		c.diags = append(c.diags, l...)
		c.diags.Dedupe()
		c.printText(stdout)
		return nil, nil
	}
	return pl, nil
}

// engineUnavailable takes the diagnostics of model nodes whose inference
// engine cannot be loaded (compiler.EngineUnavailable) out of l, and
// returns one message for them instead: which nodes need it, what is
// missing and how to get it (the compiler's details).
func engineUnavailable(l diag.List) (diag.List, string) {
	var rest diag.List
	var nodes []string
	why := ""
	for _, d := range l {
		if d.Code == diag.PrepareFailed && d.Message == compiler.EngineUnavailable {
			nodes = append(nodes, fmt.Sprintf("node %s (%s)", d.NodeID, d.ClassType))
			why = d.Details
			continue
		}
		rest = append(rest, d)
	}
	if len(nodes) == 0 {
		return l, ""
	}
	return rest, fmt.Sprintf("%s runs a model: %s", strings.Join(nodes, ", "), why)
}

func cmdCompile(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("compile", "[--object-info FILE]... [--explain] [--dot] [--width W --height H] FILE",
		"Compiles a workflow (API or UI format) into a per-frame plan and prints it:\n"+
			"each step, static (runs once) or per-frame, its kernel, input wiring, tensor\n"+
			"shapes, bytes and buffers. FILE '-' reads standard input.\n\n"+
			"Exit status: 0 when it compiles, 1 when it does not (diagnostics as\n"+
			"'comfyrt validate' prints them), 2 for usage errors or unreadable files.", stderr)
	var objectInfo multiFlag
	fs.Var(&objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable; later files win)")
	explain := fs.Bool("explain", false, "say why each step is static or per-frame, and list the buffer pool")
	dot := fs.Bool("dot", false, "print the plan as a Graphviz digraph (static and per-frame steps coloured apart)")
	width := fs.Int("width", compiler.DefaultWidth, "frame `width` in pixels")
	height := fs.Int("height", compiler.DefaultHeight, "frame `height` in pixels")
	inputDir := fs.String("input-dir", "", "`folder` static LoadImage files are read from (default: the workflow's folder)")
	ef := addEngineFlags(fs)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) != 1 {
		return usageError(stderr, fs, "give exactly one workflow file")
	}
	if *width <= 0 || *height <= 0 {
		return usageError(stderr, fs, "--width and --height must be positive")
	}
	data, err := readInput(files[0], stdin)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt compile: %v\n", err)
		return exitUsage
	}
	name := files[0]
	if name == "-" {
		name = "<stdin>"
	}
	dir := *inputDir
	if dir == "" && files[0] != "-" {
		dir = filepath.Dir(files[0])
	}
	pl, err := compileFile(name, data, objectInfo, dir, *width, *height, ef, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt compile: %v\n", err)
		return exitUsage
	}
	if pl == nil {
		return exitInvalid
	}
	defer pl.Close()
	switch {
	case *dot:
		fmt.Fprint(stdout, pl.DOT())
	case *explain:
		fmt.Fprint(stdout, pl.Explain())
	default:
		fmt.Fprint(stdout, pl.String())
	}
	return exitOK
}

// fileDir is the folder of a file name, "." for standard input.
func fileDir(name string) string {
	if name == "-" {
		if wd, err := os.Getwd(); err == nil {
			return wd
		}
		return "."
	}
	return filepath.Dir(name)
}
