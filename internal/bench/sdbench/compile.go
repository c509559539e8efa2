package sdbench

import (
	"errors"
	"fmt"
	"io"
	"os"

	"comfyrt/compiler"
	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
	"comfyrt/nodes/known"
)

// CompileFile is Config.Compile without the CLI (the GPU tool's): the
// known schemas, the built-in kernels, ONNX Runtime on the CPU, then set.
// Diagnostics go to stderr, one per line.
func CompileFile(name string, w, h int, set func(*compiler.Config), stderr io.Writer) (*compiler.Plan, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	schemas := known.Schemas()
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		return nil, err
	}
	wf, diags := graph.Load(name, data, graph.Options{Schemas: schemas})
	if wf.Prompt == nil || diags.HasErrors() {
		printDiags(stderr, name, diags)
		return nil, nil
	}
	reg := nodes.NewRegistry()
	builtin.Register(reg)
	cfg := compiler.Config{Schemas: schemas, Registry: reg, Unlisted: unlisted, Width: w, Height: h,
		Engines: ort.New(), Engine: engine.Options{Devices: []string{engine.CPU}}}
	if set != nil {
		set(&cfg)
	}
	pl, err := compiler.Compile(wf.Prompt, cfg)
	var l diag.List
	if errors.As(err, &l) {
		printDiags(stderr, name, l)
		return nil, nil
	}
	return pl, err
}

func printDiags(w io.Writer, name string, l diag.List) {
	for _, d := range l {
		fmt.Fprintf(w, "%s: %v\n", name, d)
	}
}
