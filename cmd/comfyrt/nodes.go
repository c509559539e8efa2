package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"comfyrt/internal/jsonx"
	"comfyrt/nodes/known"
	"comfyrt/nodes/schema"
)

func cmdNodes(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("nodes", "[--object-info FILE]... [--implemented] [--format text|json]",
		"Lists every node class comfyrt knows: all ComfyUI core classes, the classes of\n"+
			"the custom node packs real-time workflows use, comfyrt's built-in nodes, stream\n"+
			"packs' nodes and the classes of the given object_info files. The KERNEL column\n"+
			"says whether comfyrt can run the class (compile reports the others as\n"+
			"missing_node_implementation); SOURCE says where its schema comes from: builtin,\n"+
			"comfyui (core), the custom node pack's folder, or the file. --implemented lists\n"+
			"only the classes with a kernel. --format json prints object_info JSON, as\n"+
			"ComfyUI's GET /object_info does.", stderr)
	var objectInfo multiFlag
	fs.Var(&objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable; later files win)")
	format := fs.String("format", "text", "output `format`: text or json")
	implemented := fs.Bool("implemented", false, "list only the classes comfyrt has a kernel for")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		return usageError(stderr, fs, "unexpected argument %q", rest[0])
	}
	if *format != "text" && *format != "json" {
		return usageError(stderr, fs, "--format must be text or json, not %q", *format)
	}
	schemas, err := loadSchemas(objectInfo, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt nodes: %v\n", err)
		return exitUsage
	}
	kernels := kernelRegistry()
	hasKernel := func(class string) bool { _, ok := kernels.Lookup(class); return ok }
	if *implemented {
		only := schema.NewSet()
		for _, n := range schemas.Nodes() {
			if hasKernel(n.Name) {
				only.Add(n)
			}
		}
		schemas = only
	}
	if *format == "json" {
		out, err := jsonx.Marshal(schemas.JSON(), "  ")
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt nodes: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s\n", out)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tKERNEL\tCATEGORY\tOUTPUTS\tSOURCE")
	withKernel := 0
	for _, n := range schemas.Nodes() {
		outs := "-"
		if len(n.Output) > 0 {
			outs = fmt.Sprint(n.Output)
		}
		if n.OutputNode {
			outs += " (output node)"
		}
		kernel := "-"
		if hasKernel(n.Name) {
			kernel = "yes"
			withKernel++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, kernel, n.Category, outs, sourceName(n))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d classes, %d with a kernel\n", schemas.Len(), withKernel)
	return exitOK
}

// sourceName is where a class's schema comes from, for the listing: the
// custom node pack's folder for a pack class, else its Source ("builtin",
// "comfyui", a file path, a stream pack).
func sourceName(n *schema.Node) string {
	if n.Source == known.PackSource {
		if p := schema.PackOf(n.PythonModule); p != "" {
			return p
		}
	}
	return n.Source
}
