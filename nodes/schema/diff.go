package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"comfyrt/internal/jsonx"
)

// Differences lists how o declares the class differently from n, in the
// parts that decide what a workflow may give it and what it produces: the
// inputs (present or not, section, order, type, combo choices, options
// other than tooltip) and the outputs (types, names, list flags,
// output_node). Display fields (display name, description, category,
// python_module, tooltips) are not compared, nor the choices of a combo
// that either side lists from a folder (Input.Folder). Each entry says what o has
// instead of n ("input image: choices [\"a.png\"] instead of []"); the list
// is empty when the two agree. Either node may be nil (no class).
func (n *Node) Differences(o *Node) []string {
	switch {
	case n == nil && o == nil:
		return nil
	case n == nil:
		return []string{"class declared where there was none"}
	case o == nil:
		return []string{"class missing"}
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, in := range n.Inputs {
		oi := o.Input(in.Name)
		if oi == nil {
			add("no input %s (%s %s)", in.Name, in.Section, in.Type)
			continue
		}
		if oi.Section != in.Section {
			add("input %s: %s instead of %s", in.Name, oi.Section, in.Section)
		}
		// A folder-listed combo's choices are one server's files: where
		// either side lists a folder, its choices are not compared (nor the
		// folder, unless both name one).
		listed := in.Folder() == "" && oi.Folder() == ""
		oneFolder := (in.Folder() == "") != (oi.Folder() == "")
		if oi.Type != in.Type {
			add("input %s: type %s instead of %s", in.Name, oi.Type, in.Type)
		} else if in.IsCombo() && listed && !equalJSON(oi.Choices, in.Choices) {
			add("input %s: choices %s instead of %s", in.Name, brief(oi.Choices), brief(in.Choices))
		}
		for _, k := range optionKeys(in.Options, oi.Options) {
			if k == "tooltip" || (k == "options" && in.IsCombo()) || (k == FolderOption && oneFolder) {
				continue // display text; V3 combo choices are compared above
			}
			a, aok := in.Options.Get(k)
			b, bok := oi.Options.Get(k)
			switch {
			case !bok:
				add("input %s: no option %s (was %s)", in.Name, k, brief(a))
			case !aok:
				add("input %s: option %s %s added", in.Name, k, brief(b))
			case !equalJSON(a, b):
				add("input %s: option %s %s instead of %s", in.Name, k, brief(b), brief(a))
			}
		}
	}
	for _, oi := range o.Inputs {
		if n.Input(oi.Name) == nil {
			add("extra input %s (%s %s)", oi.Name, oi.Section, oi.Type)
		}
	}
	for _, sec := range Sections {
		a, b := inputNames(n, o, sec), inputNames(o, n, sec)
		if !slices.Equal(a, b) {
			add("%s input order %s instead of %s", sec, strings.Join(b, ", "), strings.Join(a, ", "))
		}
	}
	if !slices.Equal(n.Output, o.Output) {
		add("outputs [%s] instead of [%s]", strings.Join(o.Output, ", "), strings.Join(n.Output, ", "))
	} else {
		for i := range n.Output {
			if a, b := n.OutputNameAt(i), o.OutputNameAt(i); a != b {
				add("output %d: name %s instead of %s", i, b, a)
			}
			if a, b := n.OutputIsListAt(i), o.OutputIsListAt(i); a != b {
				add("output %d: output_is_list %v instead of %v", i, b, a)
			}
		}
	}
	if n.OutputNode != o.OutputNode {
		add("output_node %v instead of %v", o.OutputNode, n.OutputNode)
	}
	return out
}

// inputNames lists the inputs of a in section sec that b also declares in
// that section, in a's order (so that only the order is compared).
func inputNames(a, b *Node, sec Section) []string {
	var out []string
	for _, in := range a.Inputs {
		if bi := b.Input(in.Name); in.Section == sec && bi != nil && bi.Section == sec {
			out = append(out, in.Name)
		}
	}
	return out
}

// optionKeys lists the keys of a, then those of b that a lacks, once each.
func optionKeys(a, b jsonx.Object) []string {
	var keys []string
	for _, k := range append(a.Keys(), b.Keys()...) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// equalJSON compares decoded JSON values: numbers by value (1 equals 1.0),
// objects as sets of members.
func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Float).SetString(string(a))
		y, oky := new(big.Float).SetString(string(b))
		if !okx || !oky {
			return a == b
		}
		return x.Cmp(y) == 0
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case jsonx.Object:
		b, ok := b.(jsonx.Object)
		if !ok {
			return false
		}
		for _, k := range optionKeys(a, b) {
			x, okx := a.Get(k)
			y, oky := b.Get(k)
			if !okx || !oky || !equalJSON(x, y) {
				return false
			}
		}
		return true
	case nil, bool, string:
		return a == b
	}
	return false
}

// brief renders a value for a message, cut to 60 bytes.
func brief(v any) string {
	if s, ok := v.([]any); ok && s == nil {
		v = []any{}
	}
	b, err := jsonx.Marshal(v, "")
	if err != nil {
		return "?"
	}
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}
