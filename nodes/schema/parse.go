package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"comfyrt/internal/jsonx"
)

// ErrNotObject is returned when an object_info document is not a JSON
// object keyed by class name.
var ErrNotObject = errors.New("object_info must be a JSON object keyed by class name")

// LoadFile reads an object_info JSON file. Each class's Source is path.
func LoadFile(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// LoadFiles reads object_info files and merges them in order: a class in a
// later file replaces one of the same name from an earlier file. Each class
// keeps the path it came from in Source. No paths give an empty Set.
func LoadFiles(paths ...string) (*Set, error) {
	out := NewSet()
	for _, p := range paths {
		s, err := LoadFile(p)
		if err != nil {
			return nil, err
		}
		out.Merge(s)
	}
	return out, nil
}

// Parse reads object_info JSON: an object keyed by class name. Keys whose
// value is not an object (comments such as "_comment") are skipped; unknown
// fields, and known fields of an unexpected shape, are kept in Node.Raw and
// never fail the load. Each class's Source is source. A class repeated in
// the document is read as Python does: the last one wins.
func Parse(data []byte, source string) (*Set, error) {
	v, err := jsonx.Decode(data)
	if err != nil {
		return nil, err
	}
	top, ok := v.(jsonx.Object)
	if !ok {
		return nil, ErrNotObject
	}
	s := &Set{nodes: make(map[string]*Node, len(top))}
	for _, m := range top {
		obj, ok := m.Value.(jsonx.Object)
		if !ok {
			continue
		}
		n, err := ParseNode(m.Key, obj)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", m.Key, err)
		}
		n.Source = source
		s.Add(n)
	}
	return s, nil
}

// ParseNode reads one class object; name is its key in object_info (the
// object's own "name" field, when different, stays in Raw only). It is
// lenient like the ComfyUI frontend: it does not fail on unknown fields or
// odd shapes, and currently never returns an error.
func ParseNode(name string, obj jsonx.Object) (*Node, error) {
	n := &Node{Name: name, Raw: obj}
	n.DisplayName = str(obj, "display_name")
	n.Description = str(obj, "description")
	n.Category = str(obj, "category")
	n.PythonModule = str(obj, "python_module")
	n.OutputNode = boolField(obj, "output_node")
	n.Deprecated = boolField(obj, "deprecated")
	n.Experimental = boolField(obj, "experimental")
	n.APINode = boolField(obj, "api_node")
	if arr, ok := array(obj, "output"); ok {
		n.Output = make([]string, len(arr))
		for i, t := range arr {
			n.Output[i] = typeName(t)
		}
	}
	if arr, ok := array(obj, "output_is_list"); ok {
		n.OutputIsList = make([]bool, len(arr))
		for i, t := range arr {
			n.OutputIsList[i], _ = t.(bool)
		}
	}
	if arr, ok := array(obj, "output_name"); ok {
		n.OutputName = make([]string, len(arr))
		for i, t := range arr {
			n.OutputName[i], _ = t.(string)
		}
	}
	if arr, ok := array(obj, "output_tooltips"); ok {
		n.OutputTooltips = make([]string, len(arr))
		for i, t := range arr {
			n.OutputTooltips[i], _ = t.(string)
		}
	}
	inputs, _ := obj.Get("input")
	inObj, _ := inputs.(jsonx.Object)
	order, _ := obj.Get("input_order")
	orderObj, _ := order.(jsonx.Object)
	for _, sec := range Sections {
		secV, _ := inObj.Get(sec.String())
		secObj, _ := secV.(jsonx.Object)
		if len(secObj) == 0 {
			continue
		}
		names := uniqueKeys(secObj)
		if ov, ok := orderObj.Get(sec.String()); ok {
			if arr, ok := ov.([]any); ok {
				names = orderedNames(arr, names)
			}
		}
		for _, in := range names {
			specV, _ := secObj.Get(in)
			n.Inputs = append(n.Inputs, parseInput(in, sec, specV))
		}
	}
	return n, nil
}

// uniqueKeys returns the keys of o in first-occurrence order, once each
// (a Python dict keeps a repeated key at its first position).
func uniqueKeys(o jsonx.Object) []string {
	keys := make([]string, 0, len(o))
	if len(o) <= 32 {
	next:
		for i, m := range o {
			for _, p := range o[:i] {
				if p.Key == m.Key {
					continue next
				}
			}
			keys = append(keys, m.Key)
		}
		return keys
	}
	seen := make(map[string]bool, len(o))
	for _, m := range o {
		if !seen[m.Key] {
			seen[m.Key] = true
			keys = append(keys, m.Key)
		}
	}
	return keys
}

// orderedNames returns the names of order that are declared, once each,
// then any declared name that order omitted.
func orderedNames(order []any, declared []string) []string {
	isDecl := make(map[string]bool, len(declared))
	for _, d := range declared {
		isDecl[d] = true
	}
	seen := make(map[string]bool, len(declared))
	out := make([]string, 0, len(declared))
	for _, o := range order {
		s, ok := o.(string)
		if ok && isDecl[s] && !seen[s] {
			out = append(out, s)
			seen[s] = true
		}
	}
	for _, d := range declared {
		if !seen[d] {
			out = append(out, d)
			seen[d] = true
		}
	}
	return out
}

// parseInput reads one input spec: [TYPE], [TYPE, {options}],
// [[choices…], {options}], ["COMBO", {options: […]}], or a bare TYPE string.
func parseInput(name string, sec Section, spec any) *Input {
	in := &Input{Name: name, Section: sec, RawSpec: spec}
	arr, ok := spec.([]any)
	if !ok {
		// A bare type string (hidden inputs: "PROMPT").
		in.Type = typeName(spec)
		in.Spec = []any{spec}
		return in
	}
	in.Spec = arr
	if len(arr) == 0 {
		in.Type = TypeAny
		return in
	}
	if len(arr) > 1 {
		in.Options, _ = arr[1].(jsonx.Object)
	}
	switch t := arr[0].(type) {
	case []any:
		in.Type = TypeCombo
		in.Choices = t
	case string:
		in.Type = t
		if t == TypeCombo {
			if ch, ok := in.Options.Get("options"); ok {
				in.Choices, _ = ch.([]any)
			}
			if in.Choices == nil {
				in.Choices = []any{}
			}
		}
	default:
		in.Type = typeName(t)
	}
	return in
}

// typeName names the type a spec or output entry stands for: the string
// itself, "COMBO" for a list of choices, and "*" for anything else.
func typeName(t any) string {
	switch t := t.(type) {
	case string:
		return t
	case []any:
		return TypeCombo
	case json.Number:
		return t.String()
	}
	return TypeAny
}

func str(o jsonx.Object, key string) string {
	v, _ := o.Get(key)
	s, _ := v.(string)
	return s
}

func boolField(o jsonx.Object, key string) bool {
	v, _ := o.Get(key)
	b, _ := v.(bool)
	return b
}

func array(o jsonx.Object, key string) ([]any, bool) {
	v, ok := o.Get(key)
	if !ok {
		return nil, false
	}
	arr, ok := v.([]any)
	return arr, ok
}
