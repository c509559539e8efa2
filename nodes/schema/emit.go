package schema

import (
	"comfyrt/internal/jsonx"
)

// JSON returns the class's object_info object: Raw when the class was
// loaded from a file (so unknown fields and the file's key order survive),
// else Layout.
func (n *Node) JSON() jsonx.Object {
	if n.Raw != nil {
		return n.Raw
	}
	return n.Layout()
}

// Layout builds the class's object from its fields in ComfyUI's own field
// layout (server.py node_info): input, input_order, output, output_is_list,
// output_name, name, display_name, description, python_module, category,
// output_node, then output_tooltips, deprecated, experimental and api_node
// when set. Each input's spec is RawSpec when it has one. An empty
// display name is written as null, as V3 nodes without one are served.
func (n *Node) Layout() jsonx.Object {
	input := jsonx.Object{}
	order := jsonx.Object{}
	for _, sec := range Sections {
		ins := n.InputsIn(sec)
		if len(ins) == 0 {
			continue
		}
		specs := make(jsonx.Object, len(ins))
		names := make([]any, len(ins))
		for i, in := range ins {
			specs[i] = jsonx.Member{Key: in.Name, Value: in.SpecJSON()}
			names[i] = in.Name
		}
		input = append(input, jsonx.Member{Key: sec.String(), Value: specs})
		order = append(order, jsonx.Member{Key: sec.String(), Value: names})
	}
	if len(input) == 0 {
		// INPUT_TYPES of a class without inputs is {"required": {}}.
		input = jsonx.Object{{Key: "required", Value: jsonx.Object{}}}
		order = jsonx.Object{{Key: "required", Value: []any{}}}
	}
	outputs := make([]any, len(n.Output))
	for i, t := range n.Output {
		outputs[i] = t
	}
	isList := make([]any, len(n.Output))
	names := make([]any, len(n.Output))
	for i := range n.Output {
		isList[i] = n.OutputIsListAt(i)
		names[i] = n.OutputNameAt(i)
	}
	var display any
	if n.DisplayName != "" {
		display = n.DisplayName
	}
	o := jsonx.Object{
		{Key: "input", Value: input},
		{Key: "input_order", Value: order},
		{Key: "output", Value: outputs},
		{Key: "output_is_list", Value: isList},
		{Key: "output_name", Value: names},
		{Key: "name", Value: n.Name},
		{Key: "display_name", Value: display},
		{Key: "description", Value: n.Description},
		{Key: "python_module", Value: n.PythonModule},
		{Key: "category", Value: n.Category},
		{Key: "output_node", Value: n.OutputNode},
	}
	if n.OutputTooltips != nil {
		tips := make([]any, len(n.OutputTooltips))
		for i, t := range n.OutputTooltips {
			if t != "" {
				tips[i] = t
			}
		}
		o = append(o, jsonx.Member{Key: "output_tooltips", Value: tips})
	}
	if n.Deprecated {
		o = append(o, jsonx.Member{Key: "deprecated", Value: true})
	}
	if n.Experimental {
		o = append(o, jsonx.Member{Key: "experimental", Value: true})
	}
	if n.APINode {
		o = append(o, jsonx.Member{Key: "api_node", Value: true})
	}
	return o
}

// SpecJSON returns the input's spec for emitting: RawSpec, else Spec, else
// one built from Type, Choices and Options.
func (in *Input) SpecJSON() any {
	if in.RawSpec != nil {
		return in.RawSpec
	}
	if in.Spec != nil {
		return in.Spec
	}
	var head any = in.Type
	if in.Type == TypeCombo {
		if _, v3 := in.Options.Get("options"); !v3 {
			ch := in.Choices
			if ch == nil {
				ch = []any{}
			}
			head = ch
		}
	}
	if in.Options != nil {
		return []any{head, in.Options}
	}
	return []any{head}
}

// Clone returns a copy of n whose Inputs and output slices may be changed
// without touching n. Inputs themselves and Raw are shared: replace an
// input rather than modify it.
func (n *Node) Clone() *Node {
	c := *n
	c.Inputs = append([]*Input(nil), n.Inputs...)
	c.Output = append([]string(nil), n.Output...)
	c.OutputIsList = append([]bool(nil), n.OutputIsList...)
	c.OutputName = append([]string(nil), n.OutputName...)
	if n.OutputTooltips != nil {
		c.OutputTooltips = append([]string{}, n.OutputTooltips...)
	}
	return &c
}

// WithChoices returns a copy of n whose combo input called input offers
// choices instead (for a classic combo the spec's list is replaced, for a V3
// "COMBO" its options.options), with Raw updated to match so that emitting
// shows the new list. The choices are the folder's listing, so an open list
// (Input.Folder) becomes a closed one: its FolderOption is dropped. n is not
// modified. It fails when n has no such input or the input is not a combo.
//
// This is how a caller fills lists that ComfyUI computes when it starts
// (LoadImage's files in the input folder, engine files in a models folder).
func (n *Node) WithChoices(input string, choices []any) (*Node, error) {
	idx, old, err := n.comboAt(input)
	if err != nil {
		return nil, err
	}
	if choices == nil {
		choices = []any{}
	}
	opts := old.Options
	if _, open := opts.Get(FolderOption); open {
		opts = make(jsonx.Object, 0, len(old.Options))
		for _, m := range old.Options {
			if m.Key != FolderOption {
				opts = append(opts, m)
			}
		}
		if len(opts) == 0 {
			opts = nil // the folder was its only option
		}
	} else if len(old.Spec) <= 1 && !old.IsV3Combo() {
		opts = nil // a classic spec without options stays [[choices]]
	}
	return n.withCombo(idx, choices, opts), nil
}

// replaceSpec returns a copy of raw with input.<sec>.<name> set to spec,
// copying only the objects on that path.
func replaceSpec(raw jsonx.Object, sec, name string, spec any) jsonx.Object {
	out := append(jsonx.Object{}, raw...)
	inV, _ := out.Get("input")
	inObj, _ := inV.(jsonx.Object)
	inObj = append(jsonx.Object{}, inObj...)
	secV, _ := inObj.Get(sec)
	secObj, _ := secV.(jsonx.Object)
	secObj = append(jsonx.Object{}, secObj...)
	secObj.Set(name, spec)
	inObj.Set(sec, secObj)
	out.Set("input", inObj)
	return out
}
