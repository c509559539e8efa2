package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"comfyrt/internal/jsonx"
)

// Set is a collection of node classes keyed by class name. A Set is built
// once and then only read; it is safe for concurrent reads.
type Set struct {
	nodes map[string]*Node
}

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{nodes: map[string]*Node{}} }

// Lookup returns the class called name, or nil.
func (s *Set) Lookup(name string) *Node {
	if s == nil {
		return nil
	}
	return s.nodes[name]
}

// Len is the number of classes.
func (s *Set) Len() int { return len(s.nodes) }

// Names returns the class names, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.nodes))
	for n := range s.nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Add adds n, replacing a class of the same name.
func (s *Set) Add(n *Node) { s.nodes[n.Name] = n }

// Merge adds every class of o, replacing classes of the same name.
func (s *Set) Merge(o *Set) {
	for _, n := range o.nodes {
		s.nodes[n.Name] = n
	}
}

// LoadFile reads an object_info JSON file.
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

// Parse reads object_info JSON: an object keyed by class name. Keys whose
// value is not an object (comments such as "_comment") are skipped; unknown
// fields are kept in Node.Raw and never fail the load.
func Parse(data []byte, source string) (*Set, error) {
	v, err := jsonx.Decode(data)
	if err != nil {
		return nil, err
	}
	top, ok := v.(jsonx.Object)
	if !ok {
		return nil, fmt.Errorf("object_info must be a JSON object keyed by class name")
	}
	s := NewSet()
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

// ParseNode reads one class object.
func ParseNode(name string, obj jsonx.Object) (*Node, error) {
	n := &Node{Name: name, Raw: obj}
	if v, ok := obj.Get("name"); ok {
		if s, ok := v.(string); ok && s != "" {
			n.Name = s
		}
	}
	n.Name = name
	n.DisplayName = str(obj, "display_name")
	n.Description = str(obj, "description")
	n.Category = str(obj, "category")
	n.PythonModule = str(obj, "python_module")
	if v, ok := obj.Get("output_node"); ok {
		b, _ := v.(bool)
		n.OutputNode = b
	}
	if v, ok := obj.Get("output"); ok {
		arr, _ := v.([]any)
		for _, t := range arr {
			n.Output = append(n.Output, typeName(t))
		}
	}
	if v, ok := obj.Get("output_is_list"); ok {
		arr, _ := v.([]any)
		for _, t := range arr {
			b, _ := t.(bool)
			n.OutputIsList = append(n.OutputIsList, b)
		}
	}
	if v, ok := obj.Get("output_name"); ok {
		arr, _ := v.([]any)
		for _, t := range arr {
			s, _ := t.(string)
			n.OutputName = append(n.OutputName, s)
		}
	}
	inputs, _ := obj.Get("input")
	inObj, _ := inputs.(jsonx.Object)
	order, _ := obj.Get("input_order")
	orderObj, _ := order.(jsonx.Object)
	for _, sec := range []Section{Required, Optional, Hidden} {
		secV, _ := inObj.Get(sec.String())
		secObj, _ := secV.(jsonx.Object)
		if len(secObj) == 0 {
			continue
		}
		names := secObj.Keys()
		if ov, ok := orderObj.Get(sec.String()); ok && sec != Hidden {
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

// orderedNames returns the names of order first, then any declared name
// that order omitted.
func orderedNames(order []any, declared []string) []string {
	seen := map[string]bool{}
	decl := map[string]bool{}
	for _, d := range declared {
		decl[d] = true
	}
	var out []string
	for _, o := range order {
		s, ok := o.(string)
		if ok && decl[s] && !seen[s] {
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

func parseInput(name string, sec Section, spec any) *Input {
	in := &Input{Name: name, Section: sec}
	arr, ok := spec.([]any)
	if !ok {
		// A bare type string is tolerated.
		in.Type = typeName(spec)
		in.Spec = []any{spec}
		return in
	}
	in.Spec = arr
	if len(arr) == 0 {
		in.Type = "*"
		return in
	}
	if len(arr) > 1 {
		in.Options, _ = arr[1].(jsonx.Object)
	}
	switch t := arr[0].(type) {
	case []any:
		in.Type = "COMBO"
		in.Choices = t
	case string:
		in.Type = t
		if t == "COMBO" {
			if ch, ok := in.Options.Get("options"); ok {
				in.Choices, _ = ch.([]any)
			}
		}
	default:
		in.Type = typeName(t)
	}
	return in
}

func typeName(t any) string {
	switch t := t.(type) {
	case string:
		return t
	case []any:
		return "COMBO"
	case json.Number:
		return t.String()
	}
	return "*"
}

func str(o jsonx.Object, key string) string {
	v, _ := o.Get(key)
	s, _ := v.(string)
	return s
}
