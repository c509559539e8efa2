package main

import (
	"fmt"
	"io"
	"strings"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/graph/validate"
	"comfyrt/internal/jsonx"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
)

// checked is one workflow file after loading, conversion and validation.
type checked struct {
	name   string
	wf     *graph.Workflow
	diags  diag.List // every diagnostic: parse, conversion, validation
	result *validate.Result
	valid  bool
}

// check loads, converts (UI format) and validates one file's bytes.
func check(name string, data []byte, schemas *schema.Set, strict bool, unlisted map[string][]string) *checked {
	c := &checked{name: name}
	wf, diags := graph.Load(name, data, graph.Options{Schemas: schemas, Strict: strict})
	c.wf = wf
	c.diags = diags
	if wf.Prompt == nil || diags.HasErrors() {
		c.diags.Dedupe()
		return c
	}
	c.result = validate.Validate(wf.Prompt, schemas, validate.Options{Unlisted: frameUnlisted(wf.Prompt, unlisted)})
	graph.Locate(data, c.result.Diags)
	c.diags = append(c.diags, c.result.Diags...)
	c.diags.Dedupe()
	// ComfyUI's rule: a prompt is valid when at least one output is (the
	// failing outputs are reported and would not run).
	c.valid = c.result.Valid
	return c
}

func cmdValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "[--object-info FILE]... [--format text|json] FILE...",
		"Checks workflows in the API or UI format with ComfyUI's validation rules and\n"+
			"error types, reporting every problem at once. A UI-format file is converted\n"+
			"first. FILE '-' reads standard input.\n\n"+
			"Exit status: 0 when every file is valid, 1 when any is invalid, 2 for usage\n"+
			"errors or unreadable files.", stderr)
	var objectInfo multiFlag
	fs.Var(&objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable; later files win)")
	format := fs.String("format", "text", "output `format`: text or json")
	strict := fs.Bool("strict", false, "treat conversion warnings (unnamed widget values of unknown classes) as errors")
	inputDir := fs.String("input-dir", "", "`folder` whose images are LoadImage's choices, as ComfyUI's input folder\n(without it, LoadImage file names are not checked)")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *format != "text" && *format != "json" {
		return usageError(stderr, fs, "--format must be text or json, not %q", *format)
	}
	if len(files) == 0 {
		return usageError(stderr, fs, "no workflow files given")
	}
	schemas, err := loadSchemas(objectInfo, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt validate: %v\n", err)
		return exitUsage
	}
	unlisted, err := builtin.FolderLists(schemas, *inputDir)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt validate: %v\n", err)
		return exitUsage
	}

	code := exitOK
	var results []any
	for _, f := range files {
		data, err := readInput(f, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt validate: %v\n", err)
			code = exitUsage
			continue
		}
		name := f
		if f == "-" {
			name = "<stdin>"
		}
		c := check(name, data, schemas, *strict, unlisted)
		if !c.valid && code == exitOK {
			code = exitInvalid
		}
		if *format == "json" {
			results = append(results, c.json())
		} else {
			c.printText(stdout)
		}
	}
	if *format == "json" {
		out, err := jsonx.Marshal(results, "  ")
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt validate: %v\n", err)
			return exitUsage
		}
		if results == nil {
			out = []byte("[]")
		}
		fmt.Fprintf(stdout, "%s\n", out)
	}
	return code
}

// printText writes one line per diagnostic:
// "FILE: node ID (CLASS) input NAME: TYPE: message [pointer line:col]".
func (c *checked) printText(w io.Writer) {
	for _, d := range c.diags {
		var where []string
		if d.Pointer != "" {
			where = append(where, d.Pointer)
		}
		if p := d.Pos(); p != "" {
			where = append(where, p)
		}
		sev := ""
		if d.Severity == diag.Warning {
			sev = "warning: "
		}
		line := fmt.Sprintf("%s: %s%s", c.name, sev, d.Error())
		if len(where) > 0 {
			line += " [" + strings.Join(where, " ") + "]"
		}
		fmt.Fprintln(w, line)
	}
	if c.valid {
		n := 0
		if c.wf.Prompt != nil {
			n = len(c.wf.Prompt.Nodes)
		}
		outs := ""
		if c.result != nil && len(c.result.Outputs) > 0 {
			outs = ", outputs " + strings.Join(c.result.Outputs, " ")
		}
		if c.result != nil && len(c.result.FailedOutputs) > 0 {
			outs += "; failed outputs " + strings.Join(c.result.FailedOutputs, " ") + " would not run"
		}
		fmt.Fprintf(w, "%s: valid (%s format, %d nodes%s)\n", c.name, c.wf.Format, n, outs)
	}
}

// json renders {"file","format","valid","error","node_errors","diagnostics"}
// where error and node_errors have the shape of ComfyUI's /prompt response.
func (c *checked) json() jsonx.Object {
	o := jsonx.Object{
		{Key: "file", Value: c.name},
		{Key: "format", Value: string(c.wf.Format)},
		{Key: "valid", Value: c.valid},
	}
	var errV, nodeErrs any = nil, jsonx.Object{}
	if c.result != nil {
		resp := c.result.Response()
		if v, ok := resp.Get("error"); ok {
			errV = v
		}
		if v, ok := resp.Get("node_errors"); ok {
			nodeErrs = v
		}
	}
	if errV == nil && c.diags.HasErrors() && (c.result == nil || c.result.Valid) {
		// The file failed before validation (JSON, parse or conversion):
		// report the first error in ComfyUI's error shape.
		d := c.diags.Errors()[0]
		errV = jsonx.Object{
			{Key: "type", Value: string(d.Code)},
			{Key: "message", Value: d.Message},
			{Key: "details", Value: d.Details},
			{Key: "extra_info", Value: extraOf(d)},
		}
	}
	o = append(o, jsonx.Member{Key: "error", Value: errV}, jsonx.Member{Key: "node_errors", Value: nodeErrs})
	ds := make([]any, 0, len(c.diags))
	for _, d := range c.diags {
		ds = append(ds, diagJSON(d))
	}
	o = append(o, jsonx.Member{Key: "diagnostics", Value: ds})
	return o
}

func extraOf(d *diag.Diagnostic) any {
	if d.Extra == nil {
		return jsonx.Object{}
	}
	return d.Extra
}

// diagJSON renders a diagnostic with everything comfyrt knows about it.
func diagJSON(d *diag.Diagnostic) jsonx.Object {
	o := jsonx.Object{
		{Key: "severity", Value: d.Severity.String()},
		{Key: "type", Value: string(d.Code)},
		{Key: "message", Value: d.Message},
		{Key: "details", Value: d.Details},
	}
	if d.NodeID != "" {
		o = append(o, jsonx.Member{Key: "node_id", Value: d.NodeID}, jsonx.Member{Key: "class_type", Value: d.ClassType})
	}
	if d.Input != "" {
		o = append(o, jsonx.Member{Key: "input_name", Value: d.Input})
	}
	if d.Pointer != "" {
		o = append(o, jsonx.Member{Key: "pointer", Value: d.Pointer})
	}
	if d.Line > 0 {
		o = append(o, jsonx.Member{Key: "line", Value: d.Line}, jsonx.Member{Key: "column", Value: d.Col})
	}
	return o
}
