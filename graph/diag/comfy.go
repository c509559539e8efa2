package diag

import (
	"bytes"
	"encoding/json"
	"sort"
)

// This file renders diagnostics as ComfyUI's POST /prompt answers them:
//
//	{"error": {"type", "message", "details", "extra_info"} | null,
//	 "node_errors": {id: {"errors": [...], "dependent_outputs": [...], "class_type": ...}}}
//
// The rendering is a tree of Object (ordered members), so key order is
// ComfyUI's and the output is deterministic. Warnings have no place in
// ComfyUI's answer and are left out; so is comfyrt's hint (HintKey).

// Member is one member of an ordered JSON object.
type Member struct {
	Key   string
	Value any
}

// Object is a JSON object whose members keep their order. It marshals with
// encoding/json (HTML characters are not escaped); its values may be nil,
// bool, string, json.Number, Go numbers, []any, []string, Object, or
// anything else encoding/json encodes.
type Object []Member

// Get returns the value of key (the last one when repeated).
func (o Object) Get(key string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the members in order.
func (o Object) MarshalJSON() ([]byte, error) {
	if o == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	out := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			out = append(out, ',')
		}
		buf.Reset()
		if err := enc.Encode(m.Key); err != nil {
			return nil, err
		}
		out = append(out, bytes.TrimRight(buf.Bytes(), "\n")...)
		out = append(out, ':')
		buf.Reset()
		if err := enc.Encode(m.Value); err != nil {
			return nil, err
		}
		out = append(out, bytes.TrimRight(buf.Bytes(), "\n")...)
	}
	return append(out, '}'), nil
}

// HintKey is the key of Diagnostic.Extra under which comfyrt keeps its "did
// you mean" hint (e.g. `did you mean "KSampler"?` for a misspelt class). It
// is comfyrt's own: ComfyError leaves it out of extra_info so that the
// ComfyUI-shaped JSON stays exactly ComfyUI's, and ComfyUI's message is never
// changed. Hint returns it for text renderings.
const HintKey = "hint"

// Hint returns the diagnostic's "did you mean" hint, or "".
func Hint(d *Diagnostic) string {
	if d == nil {
		return ""
	}
	s, _ := d.Extra[HintKey].(string)
	return s
}

// extraOrder is the order of ComfyUI's extra_info keys (execution.py);
// other keys follow, sorted.
var extraOrder = []string{
	"node_id", "class_type", "node_title",
	"input_name", "input_config", "received_value", "received_type",
	"exception_message", "exception_type", "traceback", "linked_node",
	"cycle_nodes",
}

// ComfyError renders d as one ComfyUI error object:
// {"type", "message", "details", "extra_info"}. extra_info is {} when d has
// no Extra; HintKey is left out.
func (d *Diagnostic) ComfyError() Object {
	return Object{
		{"type", string(d.Code)},
		{"message", d.Message},
		{"details", d.Details},
		{"extra_info", extraInfo(d.Extra)},
	}
}

func extraInfo(extra map[string]any) Object {
	out := Object{}
	done := map[string]bool{HintKey: true}
	for _, k := range extraOrder {
		if v, ok := extra[k]; ok {
			out = append(out, Member{k, v})
			done[k] = true
		}
	}
	var rest []string
	for k := range extra {
		if !done[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, Member{k, extra[k]})
	}
	return out
}

// PromptLevel reports whether a diagnostic of code c answers for the whole
// prompt — ComfyUI's top-level "error" — rather than for one node in
// "node_errors". missing_node_type is prompt-level although it names a node:
// ComfyUI returns it with empty node_errors.
func PromptLevel(c Code) bool {
	switch c {
	case InvalidPrompt, NoPrompt, MissingNodeType, PromptNoOutputs, PromptOutputsFailedValidation,
		InvalidJSON, ConversionError:
		return true
	}
	return false
}

// NodeErrors renders ComfyUI's node_errors object from the error-severity,
// node-level diagnostics of l (those with a NodeID and a code that is not
// PromptLevel): one entry per node, keyed by node id in CompareNodeIDs
// order, each {"errors": [...] in l's order, "dependent_outputs": the union
// of the diagnostics' DependentOutputs in CompareNodeIDs order,
// "class_type"}. Nodes without errors of their own never appear.
func (l List) NodeErrors() Object {
	type entry struct {
		errs    []any
		deps    map[string]bool
		class   string
		hasType bool
	}
	byID := map[string]*entry{}
	var ids []string
	for _, d := range l {
		if d.Severity != Error || d.NodeID == "" || PromptLevel(d.Code) {
			continue
		}
		e := byID[d.NodeID]
		if e == nil {
			e = &entry{deps: map[string]bool{}}
			byID[d.NodeID] = e
			ids = append(ids, d.NodeID)
		}
		e.errs = append(e.errs, d.ComfyError())
		for _, o := range d.DependentOutputs {
			e.deps[o] = true
		}
		if !e.hasType && d.ClassType != "" {
			e.class, e.hasType = d.ClassType, true
		}
	}
	sort.SliceStable(ids, func(i, j int) bool { return CompareNodeIDs(ids[i], ids[j]) < 0 })
	out := make(Object, 0, len(ids))
	for _, id := range ids {
		e := byID[id]
		deps := make([]string, 0, len(e.deps))
		for o := range e.deps {
			deps = append(deps, o)
		}
		sort.Slice(deps, func(i, j int) bool { return CompareNodeIDs(deps[i], deps[j]) < 0 })
		out = append(out, Member{id, Object{
			{"errors", e.errs},
			{"dependent_outputs", deps},
			{"class_type", e.class},
		}})
	}
	return out
}

// ComfyResponse renders ComfyUI's validation answer:
// {"error": top.ComfyError() or null, "node_errors": l.NodeErrors()}.
// top is the prompt-level error (nil when the prompt is valid: ComfyUI then
// queues it and still reports the node errors of outputs it dropped).
func ComfyResponse(top *Diagnostic, l List) Object {
	var errV any
	if top != nil {
		errV = top.ComfyError()
	}
	return Object{{"error", errV}, {"node_errors", l.NodeErrors()}}
}

// ComfyResponse renders l as ComfyUI's validation answer, taking as "error"
// the first error-severity PromptLevel diagnostic in l's order (null when
// there is none). A checker that knows ComfyUI's choice (e.g. the first
// missing class in prompt order, which a sorted List may not put first)
// should call the function ComfyResponse with it instead.
func (l List) ComfyResponse() Object {
	var top *Diagnostic
	for _, d := range l {
		if d.Severity == Error && PromptLevel(d.Code) {
			top = d
			break
		}
	}
	return ComfyResponse(top, l)
}
