package graph

import (
	"comfyrt/graph/diag"
	"comfyrt/nodes/schema"
)

// UIWorkflow is a parsed UI-format workflow. (placeholder: being written)
type UIWorkflow struct{}

// ParseUI reads a UI-format workflow from its decoded JSON.
func ParseUI(v any) (*UIWorkflow, diag.List) {
	return nil, diag.List{{Code: diag.ConversionError, Message: "UI format not implemented yet"}}
}

// ConvertOptions configure Convert.
type ConvertOptions struct {
	Schemas *schema.Set
	Strict  bool
}

// Convert turns a UI workflow into an API prompt as the ComfyUI frontend's
// graphToPrompt does.
func Convert(ui *UIWorkflow, opts ConvertOptions) (*Prompt, diag.List) {
	return nil, nil
}
