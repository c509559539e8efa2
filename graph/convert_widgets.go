package graph

import (
	"fmt"
	"strconv"
	"strings"

	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

// namedWidget is one widget value given a name: the input it sets and the
// JSON pointer of its widgets_values entry.
type namedWidget struct {
	Name    string
	Value   any
	Pointer string
}

// widgetResult is the outcome of naming a node's widgets_values.
type widgetResult struct {
	Named []namedWidget
	// Unnamed lists "index=value" renderings of values that could not be
	// named (no schema, or more values than widgets).
	Unnamed []string
	// Defaulted lists widgets that had no value and took the schema default.
	Defaulted []string
	// NoSchema is set when the class has no usable schema.
	NoSchema bool
}

// controlValues are the values of a control_after_generate widget.
var controlValues = map[string]bool{"fixed": true, "increment": true, "decrement": true, "randomize": true, "increment-wrap": true}

func isControlValue(v any, legacyBool bool) bool {
	switch v := v.(type) {
	case string:
		return controlValues[v]
	case bool:
		return legacyBool
	}
	return false
}

// widgetSpec is one widget the frontend creates for a node, in order.
type widgetSpec struct {
	Name string
	In   *schema.Input
	// Control: a control_after_generate value follows (spec flag or the
	// legacy seed/noise_seed rule). Upload: the class has an upload button
	// (image_upload, video_upload, ... options), whose value comes after
	// every other widget's.
	Control bool
	Upload  bool
}

// widgetSpecs lists the widgets of class sn as the frontend creates them:
// inputs in input order (required, then optional) whose type has a widget
// (INT, FLOAT, STRING, BOOLEAN, COMBO, unless forceInput), plus any input
// the UI node itself marks as a widget (custom widget types).
func widgetSpecs(sn *schema.Node, n *UINode) []widgetSpec {
	uiWidget := map[string]bool{}
	for _, in := range n.Inputs {
		if in.HasWidget {
			uiWidget[in.Widget] = true
		}
	}
	var out []widgetSpec
	for _, in := range sn.Inputs {
		if in.Section == schema.Hidden {
			continue
		}
		isW := in.IsWidgetType() && !in.ForceInput() && !in.Flag("socketless") && in.Type != "*"
		if !isW && uiWidget[in.Name] && !in.ForceInput() {
			isW = true
		}
		if !isW {
			continue
		}
		ws := widgetSpec{Name: in.Name, In: in}
		if in.Flag("control_after_generate") {
			ws.Control = true
		} else if in.Type == "INT" && (in.Name == "seed" || in.Name == "noise_seed") {
			ws.Control = true
		}
		for _, m := range in.Options {
			if strings.HasSuffix(m.Key, "_upload") {
				if b, ok := m.Value.(bool); ok && b {
					ws.Upload = true
				}
			}
		}
		out = append(out, ws)
	}
	return out
}

// nameWidgets maps widget values to input names.
//
// With a schema, the values are read in widget order; each widget takes
// one slot even when its input is linked, a control_after_generate value
// follows the widgets that have one, and the upload button of a class with
// an upload combo takes the slot after all of them when the array holds
// it. Without a schema the names come from the UI node's own inputs[]
// widget entries, when they account for every value.
func nameWidgets(sn *schema.Node, n *UINode, values []any, valueMap jsonx.Object, ptr func(string) string) widgetResult {
	var r widgetResult
	if sn == nil || (len(sn.Inputs) == 0 && (len(values) > 0 || len(valueMap) > 0)) {
		r.NoSchema = true
		return nameWidgetsFromUI(n, values, valueMap, ptr)
	}
	specs := widgetSpecs(sn, n)
	if valueMap != nil {
		seen := map[string]bool{}
		for _, ws := range specs {
			if v, ok := valueMap.Get(ws.Name); ok {
				r.Named = append(r.Named, namedWidget{ws.Name, v, ptr(ws.Name)})
				seen[ws.Name] = true
			}
		}
		for _, m := range valueMap {
			if !seen[m.Key] {
				r.Unnamed = append(r.Unnamed, fmt.Sprintf("%s=%s", m.Key, short(m.Value)))
			}
		}
		return r
	}
	// The upload button's value (image_upload, audio_upload, video_upload,
	// … combos) comes after every other widget's: the frontend adds the
	// button as one more input that input_order does not list, so it is
	// created last (LoadImageMask ["example.png", "red", "image"]).
	upload := false
	for _, ws := range specs {
		upload = upload || ws.Upload
	}
	vi := 0
	for si, ws := range specs {
		if vi >= len(values) {
			if def, ok := defaultOf(ws.In); ok {
				r.Named = append(r.Named, namedWidget{ws.Name, def, n.Pointer + "/widgets_values"})
				r.Defaulted = append(r.Defaulted, ws.Name)
			}
			continue
		}
		r.Named = append(r.Named, namedWidget{ws.Name, values[vi], ptr(strconv.Itoa(vi))})
		vi++
		remaining := len(specs) - si - 1
		if upload {
			remaining++
		}
		surplus := func() bool { return len(values)-vi > remaining }
		if vi < len(values) {
			switch {
			case ws.Control && isControlValue(values[vi], true):
				vi++
			case !ws.Control && (ws.In.Type == "INT" || ws.In.Type == "COMBO") && isControlValue(values[vi], false) && surplus():
				// A control widget the schema does not announce (older or
				// newer node versions): its value is unmistakable.
				vi++
			}
		}
	}
	if upload && vi < len(values) {
		vi++
	}
	for ; vi < len(values); vi++ {
		r.Unnamed = append(r.Unnamed, fmt.Sprintf("%d=%s", vi, short(values[vi])))
	}
	return r
}

// nameWidgetsFromUI names values without a schema: the frontend gives
// every widget an inputs[] entry with widget.name (frontend >= 1.16), so
// when those entries (plus control values after them) account for every
// value, the k-th entry names the k-th value.
func nameWidgetsFromUI(n *UINode, values []any, valueMap jsonx.Object, ptr func(string) string) widgetResult {
	r := widgetResult{NoSchema: true}
	if valueMap != nil {
		for _, m := range valueMap {
			r.Named = append(r.Named, namedWidget{m.Key, m.Value, ptr(m.Key)})
		}
		return r
	}
	var names []*UIInput
	for _, in := range n.Inputs {
		if in.HasWidget && in.Widget != "" {
			names = append(names, in)
		}
	}
	var named []namedWidget
	vi := 0
	ok := len(names) > 0
	for k, in := range names {
		if vi >= len(values) {
			ok = false
			break
		}
		named = append(named, namedWidget{in.Widget, values[vi], ptr(strconv.Itoa(vi))})
		vi++
		remaining := len(names) - k - 1
		if vi < len(values) && len(values)-vi > remaining && isControlValue(values[vi], in.Widget == "seed" || in.Widget == "noise_seed") {
			vi++
		}
	}
	if ok && vi == len(values) {
		r.Named = named
		return r
	}
	for i, v := range values {
		r.Unnamed = append(r.Unnamed, fmt.Sprintf("%d=%s", i, short(v)))
	}
	return r
}

// defaultOf is the value a new widget starts with: the spec's default, or
// the first choice of a combo.
func defaultOf(in *schema.Input) (any, bool) {
	if in == nil {
		return nil, false
	}
	if d, ok := in.Default(); ok {
		return d, true
	}
	if in.IsCombo() && len(in.Choices) > 0 {
		return in.Choices[0], true
	}
	return nil, false
}

// short renders a value for a message, cut to 40 bytes.
func short(v any) string {
	b, err := jsonx.Marshal(v, "")
	if err != nil {
		return "?"
	}
	s := string(b)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
