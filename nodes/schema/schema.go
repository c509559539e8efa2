// Package schema is the object_info model: node classes as ComfyUI serves
// them from GET /object_info (inputs required/optional/hidden, input_order,
// types, combo lists, options, outputs, output_node, list flags), loading
// any number of object_info JSON files, merging them, and emitting
// object_info JSON again.
//
// Package schema imports only internal/jsonx from the project; it knows
// nothing of workflows (graph), kernels or the compiler.
package schema

import (
	"encoding/json"
	"strings"

	"comfyrt/internal/jsonx"
)

// Section says where an input is declared.
type Section int

const (
	// Required inputs must be present.
	Required Section = iota
	// Optional inputs may be absent.
	Optional
	// Hidden inputs are filled by the server (PROMPT, UNIQUE_ID, …).
	Hidden
)

// String returns "required", "optional" or "hidden".
func (s Section) String() string {
	switch s {
	case Optional:
		return "optional"
	case Hidden:
		return "hidden"
	}
	return "required"
}

// Input is one declared input.
type Input struct {
	Name    string
	Section Section
	// Type is the type name: "INT", "FLOAT", "STRING", "BOOLEAN", "IMAGE",
	// a comma union "FLOAT,INT", "*", or "COMBO" for a combo (whether the
	// spec was written as a list of choices or as V3 "COMBO").
	Type string
	// Choices are the combo choices (nil when not a combo). For V3 "COMBO"
	// specs they come from options["options"].
	Choices []any
	// Options is the options object ({default, min, max, …}); nil when the
	// spec had none.
	Options jsonx.Object
	// Spec is the input spec exactly as the file gave it (for emitting).
	Spec []any
}

// IsCombo reports whether the input is a combo.
func (in *Input) IsCombo() bool { return in.Type == "COMBO" }

// Option returns an option value.
func (in *Input) Option(key string) (any, bool) { return in.Options.Get(key) }

// Flag reports whether a boolean option is true.
func (in *Input) Flag(key string) bool {
	v, ok := in.Options.Get(key)
	b, isBool := v.(bool)
	return ok && isBool && b
}

// Default returns the "default" option.
func (in *Input) Default() (any, bool) { return in.Options.Get("default") }

// Number returns a numeric option (min, max, step, …) as its JSON text.
func (in *Input) Number(key string) (json.Number, bool) {
	v, ok := in.Options.Get(key)
	if !ok {
		return "", false
	}
	n, ok := v.(json.Number)
	return n, ok
}

// ForceInput reports whether the input must be linked (no widget).
func (in *Input) ForceInput() bool { return in.Flag("forceInput") }

// IsWidgetType reports whether the type is one the frontend turns into a
// widget by default: INT, FLOAT, STRING, BOOLEAN or a combo.
func (in *Input) IsWidgetType() bool {
	switch in.Type {
	case "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO":
		return true
	}
	return false
}

// Node is one node class.
type Node struct {
	Name         string
	DisplayName  string
	Description  string
	Category     string
	PythonModule string
	// Inputs lists the declared inputs: required then optional (each in
	// input_order when the file gave one, else in declaration order), then
	// hidden.
	Inputs       []*Input
	Output       []string
	OutputIsList []bool
	OutputName   []string
	OutputNode   bool
	// Raw is the class's object as the file gave it, unknown fields
	// included, so that emitting keeps them.
	Raw jsonx.Object
	// Source names where the class came from ("builtin" or a file path).
	Source string
}

// Input returns the declared input called name.
func (n *Node) Input(name string) *Input {
	for _, in := range n.Inputs {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// TypesMatch reports whether an output of type received may feed an input of
// type want, following ComfyUI's validate_node_input: equal, either side
// "*", or (non-strict) comma-separated unions that intersect.
func TypesMatch(received, want string) bool {
	if received == want || received == "*" || want == "*" {
		return true
	}
	rs := strings.Split(received, ",")
	ws := strings.Split(want, ",")
	for _, r := range rs {
		r = strings.TrimSpace(r)
		for _, w := range ws {
			if w = strings.TrimSpace(w); r == w || r == "*" || w == "*" {
				return true
			}
		}
	}
	return false
}
