package schema

import (
	"encoding/json"
	"strconv"
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
	// Hidden inputs are filled by the server (PROMPT, UNIQUE_ID, …); values
	// a prompt gives for them are ignored.
	Hidden
)

// Sections lists the sections in the order ComfyUI declares them.
var Sections = [...]Section{Required, Optional, Hidden}

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

// ParseSection returns the section named s ("required", "optional",
// "hidden"); ok is false for any other name.
func ParseSection(s string) (sec Section, ok bool) {
	switch s {
	case "required":
		return Required, true
	case "optional":
		return Optional, true
	case "hidden":
		return Hidden, true
	}
	return Required, false
}

// Well-known type names.
const (
	TypeInt     = "INT"
	TypeFloat   = "FLOAT"
	TypeString  = "STRING"
	TypeBoolean = "BOOLEAN"
	// TypeCombo is the type of every combo input, whether its spec listed
	// the choices ([["a","b"], {…}]) or used V3 "COMBO" with options.options.
	TypeCombo = "COMBO"
	// TypeAny is the wildcard type that matches every other type.
	TypeAny = "*"
)

// Input is one declared input.
type Input struct {
	Name    string
	Section Section
	// Type is the type name: "INT", "FLOAT", "STRING", "BOOLEAN", "IMAGE",
	// a comma union "FLOAT,INT", "*", or "COMBO" for a combo (whether the
	// spec was written as a list of choices or as V3 "COMBO"). An empty
	// spec ([]) gives "*".
	Type string
	// Choices are the combo choices (nil when not a combo). For V3 "COMBO"
	// specs they come from options["options"].
	Choices []any
	// Options is the options object ({default, min, max, …}); nil when the
	// spec had none.
	Options jsonx.Object
	// Spec is the input spec as an array: the file's array itself, or
	// [TYPE] when the file gave a bare type string (hidden inputs do).
	Spec []any
	// RawSpec is the spec exactly as the file gave it (an array or a bare
	// string); nil for inputs built in code. Emitting uses it.
	RawSpec any
}

// NewInput returns an input of type typ built in code; opts may be nil.
func NewInput(name string, sec Section, typ string, opts jsonx.Object) *Input {
	in := &Input{Name: name, Section: sec, Type: typ, Options: opts}
	in.Spec = []any{typ}
	if opts != nil {
		in.Spec = append(in.Spec, opts)
	}
	return in
}

// NewCombo returns a combo input built in code, written as ComfyUI's classic
// [[choices…], {opts}] spec; opts may be nil.
func NewCombo(name string, sec Section, choices []any, opts jsonx.Object) *Input {
	if choices == nil {
		choices = []any{}
	}
	in := &Input{Name: name, Section: sec, Type: TypeCombo, Choices: choices, Options: opts}
	in.Spec = []any{choices}
	if opts != nil {
		in.Spec = append(in.Spec, opts)
	}
	return in
}

// IsCombo reports whether the input is a combo.
func (in *Input) IsCombo() bool { return in.Type == TypeCombo }

// IsV3Combo reports whether the spec was written as V3 "COMBO" with the
// choices in options.options (rather than as a list of choices).
func (in *Input) IsV3Combo() bool {
	if len(in.Spec) == 0 {
		return false
	}
	s, ok := in.Spec[0].(string)
	return ok && s == TypeCombo
}

// IsAny reports whether the input accepts any type ("*").
func (in *Input) IsAny() bool { return in.Type == TypeAny }

// Types splits a comma union ("FLOAT,INT") into its trimmed members.
func (in *Input) Types() []string { return SplitTypes(in.Type) }

// SplitTypes splits a comma union type name into its trimmed members.
func SplitTypes(t string) []string {
	parts := strings.Split(t, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

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

// Number returns a numeric option (min, max, step, …) as its JSON text, so
// that integers beyond 64 bits (seed max 2^64−1) stay exact.
func (in *Input) Number(key string) (json.Number, bool) {
	v, ok := in.Options.Get(key)
	if !ok {
		return "", false
	}
	n, ok := v.(json.Number)
	return n, ok
}

// Float returns a numeric option as a float64 (rounded for huge integers).
func (in *Input) Float(key string) (float64, bool) {
	n, ok := in.Number(key)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}

// Str returns a string option.
func (in *Input) Str(key string) (string, bool) {
	v, ok := in.Options.Get(key)
	s, isStr := v.(string)
	return s, ok && isStr
}

// Min returns the "min" option.
func (in *Input) Min() (json.Number, bool) { return in.Number("min") }

// Max returns the "max" option.
func (in *Input) Max() (json.Number, bool) { return in.Number("max") }

// Step returns the "step" option.
func (in *Input) Step() (json.Number, bool) { return in.Number("step") }

// Round returns the "round" option when it is a number (it may also be
// false, meaning no rounding).
func (in *Input) Round() (json.Number, bool) { return in.Number("round") }

// Tooltip returns the "tooltip" option.
func (in *Input) Tooltip() string { s, _ := in.Str("tooltip"); return s }

// Display returns the "display" option ("number", "slider", "knob", "color").
func (in *Input) Display() string { s, _ := in.Str("display"); return s }

// Placeholder returns the "placeholder" option.
func (in *Input) Placeholder() string { s, _ := in.Str("placeholder"); return s }

// WidgetType returns the "widgetType" option.
func (in *Input) WidgetType() string { s, _ := in.Str("widgetType"); return s }

// ForceInput reports whether the input must be linked (no widget).
func (in *Input) ForceInput() bool { return in.Flag("forceInput") }

// DefaultInput reports the deprecated "defaultInput" option.
func (in *Input) DefaultInput() bool { return in.Flag("defaultInput") }

// Lazy reports whether the input is evaluated lazily (check_lazy_status).
func (in *Input) Lazy() bool { return in.Flag("lazy") }

// RawLink reports whether the node receives the link itself, not its value.
func (in *Input) RawLink() bool { return in.Flag("rawLink") }

// Socketless reports whether the input is a widget without an input socket.
func (in *Input) Socketless() bool { return in.Flag("socketless") }

// Multiline reports whether a STRING input is a multi-line text box.
func (in *Input) Multiline() bool { return in.Flag("multiline") }

// DynamicPrompts reports the "dynamicPrompts" option.
func (in *Input) DynamicPrompts() bool { return in.Flag("dynamicPrompts") }

// ImageUpload reports whether the combo is an image upload widget
// (LoadImage).
func (in *Input) ImageUpload() bool { return in.Flag("image_upload") }

// ImageFolder returns the "image_folder" option ("input", "output", …).
func (in *Input) ImageFolder() string { s, _ := in.Str("image_folder"); return s }

// MultiSelect reports whether a combo accepts several choices
// ("multi_select" or V3 "multiselect").
func (in *Input) MultiSelect() bool {
	if in.Flag("multiselect") {
		return true
	}
	v, ok := in.Options.Get("multi_select")
	switch v := v.(type) {
	case bool:
		return ok && v
	case jsonx.Object:
		return ok
	}
	return false
}

// ControlAfterGenerate reports whether the frontend adds a "control after
// generate" widget (true, or a mode name such as "randomize").
func (in *Input) ControlAfterGenerate() bool {
	v, ok := in.Options.Get("control_after_generate")
	if !ok {
		return false
	}
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v != ""
	}
	return false
}

// IsWidgetType reports whether the type is one the frontend turns into a
// widget by default: INT, FLOAT, STRING, BOOLEAN or a combo.
func (in *Input) IsWidgetType() bool {
	switch in.Type {
	case TypeInt, TypeFloat, TypeString, TypeBoolean, TypeCombo:
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
	// Inputs lists the declared inputs: required, optional, then hidden,
	// each in input_order when the file gave one, else in declaration
	// order (duplicate names are read as Python does: the last value, at
	// the first position).
	Inputs []*Input
	// Output lists the output types. A combo output (a list of choices in
	// the file) reads as "COMBO".
	Output []string
	// OutputIsList says, per output, whether it is a list (OUTPUT_IS_LIST).
	OutputIsList []bool
	// OutputName lists the output names (RETURN_NAMES, else the types).
	OutputName []string
	// OutputTooltips lists the output tooltips ("" for null); nil when the
	// file gave none.
	OutputTooltips []string
	OutputNode     bool
	Deprecated     bool
	Experimental   bool
	APINode        bool
	// Raw is the class's object as the file gave it, unknown fields
	// included, so that emitting keeps them. Nil for classes built in code.
	Raw jsonx.Object
	// Source names where the class came from ("builtin" or a file path).
	Source string
}

// Input returns the declared input called name, or nil.
func (n *Node) Input(name string) *Input {
	for _, in := range n.Inputs {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// InputsIn returns the inputs declared in section sec, in order.
func (n *Node) InputsIn(sec Section) []*Input {
	var out []*Input
	for _, in := range n.Inputs {
		if in.Section == sec {
			out = append(out, in)
		}
	}
	return out
}

// Title is the display name, or the class name when there is none (V3
// nodes often serve display_name null).
func (n *Node) Title() string {
	if n.DisplayName != "" {
		return n.DisplayName
	}
	return n.Name
}

// OutputNameAt returns the name of output i: output_name[i], else the type.
func (n *Node) OutputNameAt(i int) string {
	if i < 0 {
		return ""
	}
	if i < len(n.OutputName) && n.OutputName[i] != "" {
		return n.OutputName[i]
	}
	if i < len(n.Output) {
		return n.Output[i]
	}
	return ""
}

// OutputIsListAt reports whether output i is a list.
func (n *Node) OutputIsListAt(i int) bool {
	return i >= 0 && i < len(n.OutputIsList) && n.OutputIsList[i]
}

// TypesMatch reports whether an output of type received may feed an input of
// type want, following ComfyUI's validate_node_input (non-strict): equal,
// either side "*", or comma-separated unions that intersect.
func TypesMatch(received, want string) bool {
	if received == want || received == TypeAny || want == TypeAny {
		return true
	}
	rs := strings.Split(received, ",")
	ws := strings.Split(want, ",")
	for _, r := range rs {
		r = strings.TrimSpace(r)
		for _, w := range ws {
			if w = strings.TrimSpace(w); r == w || r == TypeAny || w == TypeAny {
				return true
			}
		}
	}
	return false
}
