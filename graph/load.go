package graph

import (
	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

// Format is a workflow file format.
type Format string

const (
	// FormatAPI is the API "prompt" format: {id: {class_type, inputs}}.
	FormatAPI Format = "api"
	// FormatUI is the UI (litegraph) format: {nodes: [...], links: [...]}.
	FormatUI Format = "ui"
)

// Detect tells the format of a decoded workflow: an object with a "nodes"
// array is a UI workflow; anything else is read as an API prompt.
func Detect(v any) Format {
	o, ok := v.(jsonx.Object)
	if !ok {
		return FormatAPI
	}
	if nodes, ok := o.Get("nodes"); ok {
		if _, isArr := nodes.([]any); isArr {
			return FormatUI
		}
	}
	return FormatAPI
}

// Options configure Load.
type Options struct {
	// Schemas are the known node classes, used by the UI→API conversion to
	// name widget values. May be nil.
	Schemas *schema.Set
	// Strict turns conversion warnings (widget values that could not be
	// named, for classes without a schema) into errors.
	Strict bool
}

// Workflow is a loaded workflow file.
type Workflow struct {
	Name   string
	Data   []byte
	Format Format
	// Tree is the decoded JSON.
	Tree any
	// UI is the parsed UI workflow (FormatUI only).
	UI *UIWorkflow
	// Prompt is the API prompt: parsed, or converted from UI. Nil only when
	// the file could not be read as a workflow at all.
	Prompt *Prompt
}

// Load decodes data, detects its format, parses it and, for UI workflows,
// converts it to an API prompt. Every diagnostic carries a JSON pointer and,
// when there are diagnostics, line:column.
func Load(name string, data []byte, opts Options) (*Workflow, diag.List) {
	w := &Workflow{Name: name, Data: data}
	tree, err := jsonx.Decode(data)
	if err != nil {
		d := &diag.Diagnostic{Code: diag.InvalidJSON, Message: err.Error()}
		if se, ok := err.(*jsonx.SyntaxError); ok {
			d.Message = se.Msg
			d.Line, d.Col = se.Line, se.Col
		}
		return w, diag.List{d}
	}
	w.Tree = tree
	w.Format = Detect(tree)
	var diags diag.List
	switch w.Format {
	case FormatUI:
		ui, ds := ParseUI(tree)
		diags = append(diags, ds...)
		w.UI = ui
		if ui != nil {
			p, ds := Convert(ui, ConvertOptions(opts))
			diags = append(diags, ds...)
			w.Prompt = p
		}
	default:
		p, ds := ParseAPI(tree)
		diags = append(diags, ds...)
		w.Prompt = p
	}
	Locate(data, diags)
	return w, diags
}

// Locate fills Line and Col of every diagnostic that has a pointer, in one
// pass over data.
func Locate(data []byte, diags diag.List) {
	var ptrs []string
	for _, d := range diags {
		if d.Line == 0 && (d.Pointer != "" || d.NodeID != "") {
			ptrs = append(ptrs, d.Pointer)
		}
	}
	if len(ptrs) == 0 {
		return
	}
	pos := jsonx.LocateAll(data, ptrs)
	for _, d := range diags {
		if d.Line != 0 || (d.Pointer == "" && d.NodeID == "") {
			continue
		}
		if p, ok := pos[d.Pointer]; ok {
			d.Line, d.Col = p.Line, p.Col
		}
	}
}
