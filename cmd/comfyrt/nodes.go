package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"comfyrt/internal/jsonx"
)

func cmdNodes(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("nodes", "[--object-info FILE]... [--format text|json]",
		"Lists every node class comfyrt knows: its built-in nodes plus the classes of\n"+
			"the given object_info files. --format json prints object_info JSON, as\n"+
			"ComfyUI's GET /object_info does.", stderr)
	var objectInfo multiFlag
	fs.Var(&objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable; later files win)")
	format := fs.String("format", "text", "output `format`: text or json")
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
	fmt.Fprintln(tw, "CLASS\tCATEGORY\tOUTPUTS\tSOURCE")
	for _, name := range schemas.Names() {
		n := schemas.Lookup(name)
		outs := "-"
		if len(n.Output) > 0 {
			outs = fmt.Sprint(n.Output)
		}
		if n.OutputNode {
			outs += " (output node)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, n.Category, outs, n.Source)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d classes\n", schemas.Len())
	return exitOK
}
