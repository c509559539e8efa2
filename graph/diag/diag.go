// Package diag holds comfyrt's diagnostics: the error codes (whose wire
// strings are exactly ComfyUI's `type` strings), a Diagnostic addressed by
// node, input and JSON pointer, and a List that collects every problem at
// once, in the style of go/scanner's ErrorList.
//
// Package diag imports nothing from the project (stdlib only).
package diag

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Code is a diagnostic code. ComfyUI's codes use ComfyUI's exact wire
// strings so that responses are drop-in compatible. The list is
// append-only: nothing is renamed or removed.
type Code string

// ComfyUI's own error types (execution.py validate_prompt / validate_inputs).
const (
	// InvalidPrompt: the request itself is malformed (older ComfyUI also used
	// it for a missing class).
	InvalidPrompt Code = "invalid_prompt"
	// NoPrompt: a /prompt request without a prompt.
	NoPrompt Code = "no_prompt"
	// MissingNodeType: a node's class_type is absent or unknown, e.g.
	// "Node 'KSampler' not found. The custom node may not be installed."
	MissingNodeType Code = "missing_node_type"
	// PromptNoOutputs: no node of an OUTPUT_NODE class: "Prompt has no outputs".
	PromptNoOutputs Code = "prompt_no_outputs"
	// PromptOutputsFailedValidation: every output failed validation.
	PromptOutputsFailedValidation Code = "prompt_outputs_failed_validation"
	// RequiredInputMissing: a required input is absent.
	RequiredInputMissing Code = "required_input_missing"
	// BadLinkedInput: a link is not a [node_id, slot_index] pair, or names a
	// node or slot that does not exist.
	BadLinkedInput Code = "bad_linked_input"
	// ReturnTypeMismatch: the linked output's type does not match the input.
	ReturnTypeMismatch Code = "return_type_mismatch"
	// InvalidInputType: a literal cannot be converted to the input's type.
	InvalidInputType Code = "invalid_input_type"
	// ValueSmallerThanMin: "Value 0 smaller than min of 1".
	ValueSmallerThanMin Code = "value_smaller_than_min"
	// ValueBiggerThanMax: "Value 9.0 bigger than max of 8.0".
	ValueBiggerThanMax Code = "value_bigger_than_max"
	// ValueNotInList: a combo value that is not one of the choices.
	ValueNotInList Code = "value_not_in_list"
	// CustomValidationFailed: a node's own validation rejected its inputs.
	CustomValidationFailed Code = "custom_validation_failed"
	// ExceptionDuringValidation: validation of an output failed unexpectedly.
	ExceptionDuringValidation Code = "exception_during_validation"
	// ExceptionDuringInnerValidation: validation of a linked node failed
	// unexpectedly.
	ExceptionDuringInnerValidation Code = "exception_during_inner_validation"
	// DependencyCycle: linked nodes form a cycle (newer ComfyUI).
	DependencyCycle Code = "dependency_cycle"
)

// comfyrt's own codes, for problems ComfyUI has no type for.
const (
	// InvalidJSON: the file is not JSON, or not a workflow in either format.
	InvalidJSON Code = "invalid_json"
	// UnknownInput: an input name the schema does not declare (a warning,
	// as in newer ComfyUI which ignores it).
	UnknownInput Code = "unknown_input"
	// ConversionWarning: something in a UI-format workflow that the UI→API
	// conversion could not carry over exactly (e.g. widget values of a class
	// with no schema).
	ConversionWarning Code = "conversion_warning"
	// ConversionError: a UI-format workflow that cannot be converted.
	ConversionError Code = "conversion_error"
	// ValueCoerced: a literal was accepted after a coercion that ComfyUI
	// would apply differently (e.g. "false" for a BOOLEAN).
	ValueCoerced Code = "value_coerced"
	// MissingNodeImplementation: a class whose schema is known but which
	// comfyrt cannot execute.
	MissingNodeImplementation Code = "missing_node_implementation"
	// PlanTooLarge: the plan's buffers and kernel scratch would exceed its
	// memory budget, e.g. "node 2 (EmptyImage): output 0
	// IMAGE[4096,16384,16384,3] is 12 TiB; the plan would hold 12 TiB, over
	// its budget of 2 GiB". The plan is refused before anything is
	// allocated.
	PlanTooLarge Code = "plan_too_large"
	// MissingFile: a file the workflow names (a model, an input picture)
	// is not there (reported from a kernel's nodes.FileError).
	MissingFile Code = "missing_file"
	// InvalidFile: the file is there but cannot be used: not a regular
	// file, outside its folder, too big, or not in a format the node
	// reads (reported from a kernel's nodes.FileError).
	InvalidFile Code = "invalid_file"
	// IOContract: the workflow breaks the ComfyStream I/O contract, e.g.
	// "too many primary inputs in prompt: nodes 1, 4 (PrimaryInputLoadImage)".
	IOContract Code = "io_contract"
	// PrepareFailed: a kernel rejected its inputs (or panicked) when the
	// plan was built, e.g. "LoadImage #3: invalid image file cat.png".
	PrepareFailed Code = "prepare_failed"
)

// AllCodes returns every code, ComfyUI's then comfyrt's, in the order they
// are declared (append-only, so the order is stable). Each has a fixture
// that produces it (testdata/diag), except the ComfyUI types comfyrt never
// reports (custom_validation_failed, exception_during_validation,
// exception_during_inner_validation), kept for wire compatibility.
func AllCodes() []Code {
	return []Code{
		InvalidPrompt, NoPrompt, MissingNodeType, PromptNoOutputs, PromptOutputsFailedValidation,
		RequiredInputMissing, BadLinkedInput, ReturnTypeMismatch, InvalidInputType,
		ValueSmallerThanMin, ValueBiggerThanMax, ValueNotInList, CustomValidationFailed,
		ExceptionDuringValidation, ExceptionDuringInnerValidation, DependencyCycle,
		InvalidJSON, UnknownInput, ConversionWarning, ConversionError, ValueCoerced,
		MissingNodeImplementation, PlanTooLarge, MissingFile, InvalidFile, IOContract, PrepareFailed,
	}
}

// Severity tells errors from warnings.
type Severity int

const (
	// Error makes the workflow invalid.
	Error Severity = iota
	// Warning is reported but does not make the workflow invalid.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem, addressed by node and input.
type Diagnostic struct {
	Code     Code
	Severity Severity
	// NodeID, ClassType and NodeTitle name the node; all empty for
	// prompt-level diagnostics.
	NodeID    string
	ClassType string
	NodeTitle string
	// Input is the input name, empty for node-level diagnostics.
	Input string
	// Message is ComfyUI's message ("Required input is missing").
	Message string
	// Details is ComfyUI's details string.
	Details string
	// Extra is ComfyUI's extra_info object (input_name, input_config,
	// received_value, …). It may be nil.
	Extra map[string]any
	// Pointer is a JSON pointer into the file, e.g. "/7/inputs/seed".
	Pointer string
	// Line and Col locate Pointer in the file (1-based; 0 when unknown).
	Line, Col int
	// DependentOutputs lists the output node ids that depend on the node.
	DependentOutputs []string
}

// Pos renders "line:col", or "" when unknown.
func (d *Diagnostic) Pos() string {
	if d.Line == 0 {
		return ""
	}
	return strconv.Itoa(d.Line) + ":" + strconv.Itoa(d.Col)
}

// Error renders one line: "node 7 (KSampler) input seed: value_smaller_than_min: message: details".
func (d *Diagnostic) Error() string {
	var b strings.Builder
	if d.NodeID != "" {
		b.WriteString("node ")
		b.WriteString(d.NodeID)
		if d.ClassType != "" {
			b.WriteString(" (")
			b.WriteString(d.ClassType)
			b.WriteString(")")
		}
		b.WriteString(" ")
	}
	if d.Input != "" {
		b.WriteString("input ")
		b.WriteString(d.Input)
		b.WriteString(" ")
	}
	if b.Len() > 0 {
		s := strings.TrimSuffix(b.String(), " ")
		b.Reset()
		b.WriteString(s)
		b.WriteString(": ")
	}
	b.WriteString(string(d.Code))
	b.WriteString(": ")
	b.WriteString(d.Message)
	if d.Details != "" {
		b.WriteString(": ")
		b.WriteString(d.Details)
	}
	if h := Hint(d); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	return b.String()
}

// List is an ordered list of diagnostics.
type List []*Diagnostic

// Add appends d.
func (l *List) Add(d *Diagnostic) { *l = append(*l, d) }

// Addf appends an error-severity diagnostic.
func (l *List) Addf(code Code, nodeID, input, format string, args ...any) *Diagnostic {
	d := &Diagnostic{Code: code, NodeID: nodeID, Input: input, Message: fmt.Sprintf(format, args...)}
	l.Add(d)
	return d
}

// Len, Less and Swap implement sort.Interface.
func (l List) Len() int      { return len(l) }
func (l List) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l List) Less(i, j int) bool {
	a, b := l[i], l[j]
	if c := CompareNodeIDs(a.NodeID, b.NodeID); c != 0 {
		return c < 0
	}
	if a.Input != b.Input {
		return a.Input < b.Input
	}
	if a.Code != b.Code {
		return a.Code < b.Code
	}
	if a.Severity != b.Severity {
		return a.Severity < b.Severity
	}
	return a.Message+a.Details < b.Message+b.Details
}

// Sort orders by node id (numerically where the ids are numbers, segment by
// segment for "outer:inner" ids), then input, then code. It is stable.
func (l List) Sort() { sort.Stable(l) }

// Dedupe sorts l and removes diagnostics with the same node, input, code,
// message and details.
func (l *List) Dedupe() {
	l.Sort()
	out := (*l)[:0]
	for i, d := range *l {
		if i > 0 {
			p := out[len(out)-1]
			if p.NodeID == d.NodeID && p.Input == d.Input && p.Code == d.Code && p.Message == d.Message && p.Details == d.Details && p.Severity == d.Severity {
				continue
			}
		}
		out = append(out, d)
	}
	*l = out
}

// Errors returns the error-severity diagnostics.
func (l List) Errors() List { return l.filter(Error) }

// Warnings returns the warning-severity diagnostics.
func (l List) Warnings() List { return l.filter(Warning) }

func (l List) filter(s Severity) List {
	var out List
	for _, d := range l {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Err returns l as an error when it holds any error-severity diagnostic,
// else nil.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return l.Errors()
}

// Error renders the first error and how many more there are.
func (l List) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", l[0].Error(), len(l)-1)
}

// CompareNodeIDs orders node ids: segments split on ':' compare numerically
// when both are integers, else as strings; a numeric segment sorts before a
// non-numeric one; the empty id sorts first.
func CompareNodeIDs(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	as, bs := strings.Split(a, ":"), strings.Split(b, ":")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if c := compareSegment(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return len(as) - len(bs)
}

func compareSegment(a, b string) int {
	if a == b {
		return 0
	}
	an, aerr := strconv.ParseInt(a, 10, 64)
	bn, berr := strconv.ParseInt(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		if an < bn {
			return -1
		}
		if an > bn {
			return 1
		}
		return strings.Compare(a, b)
	case aerr == nil:
		return -1
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}
