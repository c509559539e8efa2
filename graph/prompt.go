package graph

import (
	"encoding/json"
	"fmt"
	"strconv"

	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
)

// NodeID is a node id as the API format writes it: a string such as "7" or,
// for nodes flattened out of subgraphs and group nodes, "12:3" or "4:1:9".
type NodeID = string

// Link is a linked input: output Slot of node From.
type Link struct {
	From NodeID
	Slot int
}

// Input is one entry of a node's "inputs" object, in file order.
type Input struct {
	Name string
	// Value is the value exactly as decoded (jsonx tree). For a link it is
	// the two-element array.
	Value any
	// Link is set when Value is a well-formed link: an array of length 2
	// whose first element is a string (or integer) node id and whose second
	// is an integer slot.
	Link *Link
}

// IsList reports whether the value is a JSON array, which ComfyUI always
// treats as a link (a malformed one unless Link is set).
func (in *Input) IsList() bool {
	_, ok := in.Value.([]any)
	return ok
}

// Literal returns the literal value with a {"__value__": [...]} wrapper
// removed.
func (in *Input) Literal() any {
	if o, ok := in.Value.(jsonx.Object); ok && len(o) == 1 && o[0].Key == "__value__" {
		return o[0].Value
	}
	return in.Value
}

// Node is one node of an API-format prompt.
type Node struct {
	ID NodeID
	// ClassType is "" when the node has no class_type (see HasClassType).
	ClassType    string
	HasClassType bool
	// Title is _meta.title, or "".
	Title  string
	Inputs []Input
	// Raw is the node object as decoded, unknown fields included; nil for
	// nodes built in code. Marshal writes Raw's unknown fields back.
	Raw jsonx.Object
	// Pointer is the JSON pointer of the node in its source file: "/7" for
	// an API-format file, "/nodes/3" (or deeper, inside subgraph
	// definitions) for a node converted from a UI-format file.
	Pointer string
	// InputPointers maps an input name to the JSON pointer of its value in
	// the source file when that is not Pointer+"/inputs/"+name (UI-format
	// files: a widgets_values entry or an inputs[] slot).
	InputPointers map[string]string
}

// PointerTo returns the JSON pointer of input name (or of the node when
// name is "").
func (n *Node) PointerTo(name string) string {
	if name == "" {
		return n.Pointer
	}
	if p, ok := n.InputPointers[name]; ok {
		return p
	}
	if n.Pointer == "" {
		return ""
	}
	if n.InputPointers != nil {
		// A UI-derived node without a pointer for this input: the node.
		return n.Pointer
	}
	return n.Pointer + jsonx.Pointer("inputs", name)
}

// Input returns the input called name, or nil.
func (n *Node) Input(name string) *Input {
	for i := range n.Inputs {
		if n.Inputs[i].Name == name {
			return &n.Inputs[i]
		}
	}
	return nil
}

// SetInput replaces or appends an input.
func (n *Node) SetInput(name string, v any) {
	in := Input{Name: name, Value: v, Link: parseLink(v)}
	for i := range n.Inputs {
		if n.Inputs[i].Name == name {
			n.Inputs[i] = in
			return
		}
	}
	n.Inputs = append(n.Inputs, in)
}

// DisplayName is the title, or the class, or "#id" — how ComfyUI names a
// node in messages.
func (n *Node) DisplayName() string {
	if n.Title != "" {
		return n.Title
	}
	if n.ClassType != "" {
		return n.ClassType
	}
	return "#" + n.ID
}

// Prompt is an API-format workflow: nodes keyed by id, in file order.
type Prompt struct {
	Nodes []*Node
	byID  map[NodeID]*Node
}

// NewPrompt returns a Prompt holding nodes (ids must be unique).
func NewPrompt(nodes ...*Node) *Prompt {
	p := &Prompt{byID: map[NodeID]*Node{}}
	for _, n := range nodes {
		p.Add(n)
	}
	return p
}

// Add appends n, replacing a node with the same id in place.
func (p *Prompt) Add(n *Node) {
	if p.byID == nil {
		p.byID = map[NodeID]*Node{}
	}
	if old, ok := p.byID[n.ID]; ok {
		for i := range p.Nodes {
			if p.Nodes[i] == old {
				p.Nodes[i] = n
			}
		}
	} else {
		p.Nodes = append(p.Nodes, n)
	}
	p.byID[n.ID] = n
}

// Remove deletes the node with id.
func (p *Prompt) Remove(id NodeID) {
	if _, ok := p.byID[id]; !ok {
		return
	}
	delete(p.byID, id)
	out := p.Nodes[:0]
	for _, n := range p.Nodes {
		if n.ID != id {
			out = append(out, n)
		}
	}
	p.Nodes = out
}

// Node returns the node with id, or nil.
func (p *Prompt) Node(id NodeID) *Node { return p.byID[id] }

// parseLink recognises [node_id, slot]: node id a string or an integer,
// slot an integer (ComfyUI's frontend writes [String(id), slot]).
func parseLink(v any) *Link {
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return nil
	}
	var from string
	switch id := arr[0].(type) {
	case string:
		from = id
	case json.Number:
		if _, err := strconv.ParseInt(id.String(), 10, 64); err != nil {
			return nil
		}
		from = id.String()
	default:
		return nil
	}
	n, ok := arr[1].(json.Number)
	if !ok {
		return nil
	}
	slot, err := strconv.Atoi(n.String())
	if err != nil {
		return nil
	}
	return &Link{From: from, Slot: slot}
}

// ParseAPI reads an API-format prompt from its decoded JSON. A node whose
// value is not an object, or whose inputs are not an object, is a
// diagnostic, not a failure: every problem is reported at once.
func ParseAPI(v any) (*Prompt, diag.List) {
	var diags diag.List
	top, ok := v.(jsonx.Object)
	if !ok {
		diags.Add(&diag.Diagnostic{Code: diag.InvalidPrompt, Message: "a prompt must be a JSON object keyed by node id", Pointer: ""})
		return NewPrompt(), diags
	}
	// ComfyUI's /prompt body wraps the prompt: {"prompt": {...}, "client_id": …}.
	base := ""
	if inner, ok := top.Get("prompt"); ok && len(top) <= 8 && !looksLikeNode(top) {
		if o, ok := inner.(jsonx.Object); ok {
			top, base = o, "/prompt"
		}
	}
	p := &Prompt{byID: make(map[NodeID]*Node, len(top))}
	for _, m := range top {
		ptr := base + jsonx.Pointer(m.Key)
		obj, ok := m.Value.(jsonx.Object)
		if !ok {
			diags.Add(&diag.Diagnostic{Code: diag.InvalidPrompt, NodeID: m.Key, Pointer: ptr,
				Message: "Cannot execute because a node is not a JSON object.", Details: fmt.Sprintf("Node ID '#%s'", m.Key)})
			continue
		}
		n := &Node{ID: m.Key, Raw: obj, Pointer: ptr}
		if ct, ok := obj.Get("class_type"); ok {
			if s, ok := ct.(string); ok {
				n.ClassType, n.HasClassType = s, true
			}
		}
		if meta, ok := obj.Get("_meta"); ok {
			if mo, ok := meta.(jsonx.Object); ok {
				if t, ok := mo.Get("title"); ok {
					n.Title, _ = t.(string)
				}
			}
		}
		if ins, ok := obj.Get("inputs"); ok {
			io, ok := ins.(jsonx.Object)
			if !ok && ins != nil {
				diags.Add(&diag.Diagnostic{Code: diag.InvalidPrompt, NodeID: n.ID, ClassType: n.ClassType,
					Pointer: ptr + "/inputs", Message: "inputs must be a JSON object"})
			}
			n.Inputs = make([]Input, 0, len(io))
			for _, im := range io {
				n.Inputs = append(n.Inputs, Input{Name: im.Key, Value: im.Value, Link: parseLink(im.Value)})
			}
		}
		if _, dup := p.byID[n.ID]; dup {
			diags.Add(&diag.Diagnostic{Code: diag.InvalidPrompt, NodeID: n.ID, Pointer: ptr, Severity: diag.Warning,
				Message: "duplicate node id; the last definition wins"})
		}
		p.Add(n)
	}
	return p, diags
}

func looksLikeNode(o jsonx.Object) bool {
	_, ok := o.Get("class_type")
	return ok
}

// JSON returns the prompt as a jsonx.Object: {id: {inputs, class_type,
// _meta}} in node order, with unknown fields of the original nodes kept.
func (p *Prompt) JSON() jsonx.Object {
	out := make(jsonx.Object, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		out = append(out, jsonx.Member{Key: n.ID, Value: n.JSON()})
	}
	return out
}

// JSON returns the node object: inputs, class_type, _meta first, then any
// other field of the original.
func (n *Node) JSON() jsonx.Object {
	ins := make(jsonx.Object, 0, len(n.Inputs))
	for _, in := range n.Inputs {
		ins = append(ins, jsonx.Member{Key: in.Name, Value: in.Value})
	}
	o := jsonx.Object{{Key: "inputs", Value: ins}}
	if n.HasClassType || n.ClassType != "" {
		o = append(o, jsonx.Member{Key: "class_type", Value: n.ClassType})
	}
	meta := jsonx.Object{{Key: "title", Value: n.DisplayName()}}
	if n.Raw != nil {
		if mv, ok := n.Raw.Get("_meta"); ok {
			if mo, ok := mv.(jsonx.Object); ok {
				meta = append(jsonx.Object(nil), mo...)
				meta.Set("title", n.Title)
			}
		} else if n.Title == "" {
			meta = nil
		}
	}
	if meta != nil {
		o = append(o, jsonx.Member{Key: "_meta", Value: meta})
	}
	for _, m := range n.Raw {
		switch m.Key {
		case "inputs", "class_type", "_meta":
			continue
		}
		o = append(o, m)
	}
	return o
}

// MarshalJSON encodes the prompt with two-space indentation.
func (p *Prompt) MarshalJSON() ([]byte, error) { return jsonx.Marshal(p.JSON(), "") }
