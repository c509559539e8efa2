package graph

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"testing"

	"comfyrt/internal/jsonx"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

var (
	corpusSchemaOnce sync.Once
	corpusSchemaSet  *schema.Set
	corpusSchemaErr  error
)

// corpusSchemas loads the corpus's object_info dump and the derived
// ComfyStream/Stream-Pack schemas, merged. The derived PrimaryInputLoadImage
// entry declares no inputs (it subclasses LoadImage, same INPUT_TYPES), so
// it is given LoadImage's inputs here.
func corpusSchemas(tb testing.TB) *schema.Set {
	tb.Helper()
	paths := testkit.CorpusObjectInfo(tb)
	corpusSchemaOnce.Do(func() {
		set := schema.NewSet()
		for _, p := range paths {
			s, err := schema.LoadFile(p)
			if err != nil {
				corpusSchemaErr = err
				return
			}
			set.Merge(s)
		}
		if pi, li := set.Lookup("PrimaryInputLoadImage"), set.Lookup("LoadImage"); pi != nil && li != nil && len(pi.Inputs) == 0 {
			cp := *pi
			cp.Inputs = li.Inputs
			if cp.DisplayName == "" {
				cp.DisplayName = "PrimaryInputLoadImage"
			}
			set.Add(&cp)
		}
		corpusSchemaSet = set
	})
	if corpusSchemaErr != nil {
		tb.Fatalf("loading schemas: %v", corpusSchemaErr)
	}
	return corpusSchemaSet
}

func readCorpus(tb testing.TB, rel string) any {
	tb.Helper()
	data := testkit.CorpusRead(tb, rel)
	v, err := jsonx.Decode(data)
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return v
}

// comparePrompts lists the differences between two prompts, per node id:
// class_type and inputs (as a set: order and _meta are ignored; numbers
// compare by value, so 1 equals 1.0). An input named in ignoreInputs is
// ignored when only want has it.
func comparePrompts(got, want *Prompt, ignoreInputs map[string]bool) []string {
	var diffs []string
	ids := map[string]bool{}
	for _, n := range got.Nodes {
		ids[n.ID] = true
	}
	for _, n := range want.Nodes {
		ids[n.ID] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	for _, id := range sorted {
		g, w := got.Node(id), want.Node(id)
		switch {
		case g == nil:
			diffs = append(diffs, fmt.Sprintf("%s: missing from conversion (%s)", id, w.ClassType))
			continue
		case w == nil:
			diffs = append(diffs, fmt.Sprintf("%s: extra in conversion (%s)", id, g.ClassType))
			continue
		}
		if g.ClassType != w.ClassType {
			diffs = append(diffs, fmt.Sprintf("%s: class_type %s, want %s", id, g.ClassType, w.ClassType))
		}
		names := map[string]bool{}
		for _, in := range g.Inputs {
			names[in.Name] = true
		}
		for _, in := range w.Inputs {
			names[in.Name] = true
		}
		ns := make([]string, 0, len(names))
		for n := range names {
			ns = append(ns, n)
		}
		sort.Strings(ns)
		for _, name := range ns {
			gi, wi := g.Input(name), w.Input(name)
			switch {
			case gi == nil && ignoreInputs[name]:
			case gi == nil:
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing, want %s", id, name, render(wi.Value)))
			case wi == nil:
				diffs = append(diffs, fmt.Sprintf("%s.%s: extra %s", id, name, render(gi.Value)))
			case !sameValue(gi.Value, wi.Value):
				diffs = append(diffs, fmt.Sprintf("%s.%s: %s, want %s", id, name, render(gi.Value), render(wi.Value)))
			}
		}
	}
	return diffs
}

func render(v any) string {
	b, err := jsonx.Marshal(v, "")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sameValue compares decoded JSON values; numbers by exact value, links
// ["7", 0] equal to [7, 0].
func sameValue(a, b any) bool {
	if la, lb := parseLink(a), parseLink(b); la != nil || lb != nil {
		return la != nil && lb != nil && *la == *lb
	}
	switch a := a.(type) {
	case json.Number:
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, ok1 := new(big.Rat).SetString(a.String())
		y, ok2 := new(big.Rat).SetString(bn.String())
		return ok1 && ok2 && x.Cmp(y) == 0
	case []any:
		bb, ok := b.([]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], bb[i]) {
				return false
			}
		}
		return true
	case jsonx.Object:
		bo, ok := b.(jsonx.Object)
		if !ok || len(a) != len(bo) {
			return false
		}
		for _, m := range a {
			v, ok := bo.Get(m.Key)
			if !ok || !sameValue(m.Value, v) {
				return false
			}
		}
		return true
	}
	return a == b
}

func joinLines(ss []string) string { return strings.Join(ss, "\n") }

// deriveSchemas returns base plus, for every class of the UI workflow that
// base lacks, a schema derived from the API twin: its inputs in the API
// file's order (which is the frontend's widget order, widgets first).
// Literal inputs become widgets typed by their JSON value; linked inputs
// are widgets when the UI node marks that input as a widget, and plain
// inputs otherwise. The corpus object_info lacks the ComfyStream custom
// nodes (TensorRTLoader, TorchCompileLoad*, DepthAnythingTensorrt, ...),
// whose widget values could not be named otherwise.
func deriveSchemas(tb testing.TB, base *schema.Set, ui *UIWorkflow, api *Prompt) *schema.Set {
	tb.Helper()
	out := schema.NewSet()
	out.Merge(base)
	uiNodes := map[string]*UINode{}
	for _, n := range ui.Graph.Nodes {
		uiNodes[n.ID] = n
	}
	for _, an := range api.Nodes {
		if base.Lookup(an.ClassType) != nil || out.Lookup(an.ClassType) != nil {
			continue
		}
		un := uiNodes[an.ID]
		if un == nil || un.Type != an.ClassType {
			continue
		}
		widgetInput := map[string]string{}
		for _, in := range un.Inputs {
			if in.HasWidget {
				widgetInput[in.Name] = in.Type
			} else {
				widgetInput[in.Name] = ""
			}
		}
		req := jsonx.Object{}
		var order []any
		for _, in := range an.Inputs {
			var typ string
			switch v := in.Literal().(type) {
			case json.Number:
				typ = "INT"
				if strings.ContainsAny(v.String(), ".eE") {
					typ = "FLOAT"
				}
			case string:
				typ = "STRING"
			case bool:
				typ = "BOOLEAN"
			default:
				typ = "*"
				if in.Link != nil {
					if t, ok := widgetInput[in.Name]; ok && t != "" {
						typ = t
					} else if t, ok := widgetInput[in.Name]; ok {
						typ = "LINKED"
						_ = t
					}
				}
			}
			req = append(req, jsonx.Member{Key: in.Name, Value: []any{typ, jsonx.Object{}}})
			order = append(order, in.Name)
		}
		n, err := schema.ParseNode(an.ClassType, jsonx.Object{
			{Key: "input", Value: jsonx.Object{{Key: "required", Value: req}}},
			{Key: "input_order", Value: jsonx.Object{{Key: "required", Value: order}}},
			{Key: "display_name", Value: an.Title},
		})
		if err != nil {
			tb.Fatal(err)
		}
		out.Add(n)
	}
	return out
}
