package main

import (
	"fmt"
	"io"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
)

func cmdConvert(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("convert", "[--object-info FILE]... [--strict] FILE",
		"Converts a UI-format workflow (what the ComfyUI editor saves) into the API\n"+
			"prompt format, exactly as the ComfyUI frontend does when it queues a prompt.\n"+
			"The prompt goes to standard output, diagnostics to standard error. An\n"+
			"API-format file is printed back normalised. FILE '-' reads standard input.\n\n"+
			"Node classes with no schema (custom nodes with no --object-info) are kept\n"+
			"with their links and the widget values that can be named; the rest are\n"+
			"reported as warnings (errors with --strict).\n\n"+
			"Exit status: 0 on success, 1 when the file cannot be converted, 2 for usage\n"+
			"errors or unreadable files.", stderr)
	var objectInfo multiFlag
	fs.Var(&objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable; later files win)")
	strict := fs.Bool("strict", false, "treat conversion warnings as errors")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) != 1 {
		return usageError(stderr, fs, "expected exactly one workflow file, got %d", len(files))
	}
	schemas, err := loadSchemas(objectInfo, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt convert: %v\n", err)
		return exitUsage
	}
	data, err := readInput(files[0], stdin)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt convert: %v\n", err)
		return exitUsage
	}
	name := files[0]
	if name == "-" {
		name = "<stdin>"
	}
	wf, diags := graph.Load(name, data, graph.Options{Schemas: schemas, Strict: *strict})
	diags.Dedupe()
	printDiags(stderr, name, diags)
	if wf.Prompt == nil || diags.HasErrors() {
		fmt.Fprintf(stderr, "comfyrt convert: %s: cannot convert (%d errors)\n", name, len(diags.Errors()))
		return exitInvalid
	}
	out, err := jsonx.Marshal(wf.Prompt.JSON(), "  ")
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt convert: %v\n", err)
		return exitInvalid
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return exitOK
}

// printDiags writes diagnostics one per line, with their position.
func printDiags(w io.Writer, name string, diags diag.List) {
	c := &checked{name: name, diags: diags}
	c.printText(w)
}
