package graph

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

// ConvertOptions configure Convert.
type ConvertOptions struct {
	// Schemas name widget values (object_info). May be nil: then no widget
	// value of a node without inputs[] widget entries can be named.
	Schemas *schema.Set
	// Strict makes the warning about widget values that could not be named
	// (classes without a schema) an error.
	Strict bool
}

// virtualClasses are frontend-only node types: never sent to the backend.
// Reroute and rgthree's reroute pass their input through by slot index,
// PrimitiveNode pushes its value into the widgets it feeds, notes and
// labels do nothing, and KJNodes' SetNode/GetNode pass a value by name.
// A class is virtual only when the schema set does not define it.
var virtualClasses = map[string]bool{
	"Reroute":                        true,
	"PrimitiveNode":                  true,
	"Note":                           true,
	"MarkdownNote":                   true,
	"SetNode":                        true,
	"GetNode":                        true,
	"Reroute (rgthree)":              true,
	"Note (rgthree)":                 true,
	"Label (rgthree)":                true,
	"Bookmark (rgthree)":             true,
	"Fast Groups Muter (rgthree)":    true,
	"Fast Groups Bypasser (rgthree)": true,
	"Fast Muter (rgthree)":           true,
	"Fast Bypasser (rgthree)":        true,
	"Fast Actions Button (rgthree)":  true,
}

// maxExpansion bounds the nodes produced by flattening subgraphs (a guard
// against definitions that instantiate each other exponentially).
const maxExpansion = 100000

// execNode is one node of the flattened graph (the frontend's
// ExecutableNodeDTO): execution id, UI node, containing graph and the
// subgraph or group-node instance it sits in.
type execNode struct {
	id   string
	ui   *UINode
	g    *UIGraph
	inst *execNode // the instance whose definition holds this node; nil at top level
	mode int
	// def is set for subgraph and group-node instances.
	def *UIGraph
	// virtual: frontend-only node.
	virtual bool
	// broken: an instance that cannot be expanded (left out).
	broken bool
	// widgets overrides ui.Widgets (group-node inner nodes take their values
	// from the instance).
	widgets    []any
	widgetsPtr func(string) string
	order      int
}

type converter struct {
	ui    *UIWorkflow
	opts  ConvertOptions
	diags diag.List
	nodes []*execNode
	byID  map[string]*execNode
	// too is set once the expansion limit was hit.
	too bool
}

// Convert turns a UI workflow into an API prompt the way the ComfyUI
// frontend's graphToPrompt does (COMFYUI.md c.3): widget values named by
// the schema's input order, links resolved through reroutes, primitive
// nodes, bypassed nodes and subgraph / group-node boundaries, muted and
// bypassed nodes left out, links to left-out nodes pruned. Node ids are
// execution ids ("7", "12:3", "4:1:9").
//
// Decisions where the frontend leaves a choice:
//   - The upload button of image_upload (and other *_upload) combos takes
//     the slot after all the other widgets in widgets_values (the
//     frontend creates it last) but is not emitted: the current frontend
//     does not serialize it. Older frontends wrote "upload": "image", as
//     every ComfyStream API file shows; ComfyUI ignores it either way.
//   - _meta.title is the node's own title, else the class's display_name,
//     else the class name (litegraph saves a title only when it differs
//     from the default, which is the display name).
//   - Output order is JavaScript's key order for the object the frontend
//     builds: integer ids ascending, then the other ids in execution order
//     (litegraph's computeExecutionOrder, subgraph inner nodes right after
//     their instance).
//   - A class with no schema keeps its class and links; its widget values
//     are named from the node's inputs[] widget entries when those account
//     for every value, else left out with a ConversionWarning (an error
//     with Strict).
func Convert(ui *UIWorkflow, opts ConvertOptions) (*Prompt, diag.List) {
	if ui == nil || ui.Graph == nil {
		return NewPrompt(), nil
	}
	c := &converter{ui: ui, opts: opts, byID: map[string]*execNode{}}
	c.flatten(ui.Graph, nil, "", 0, map[string]bool{})
	out := c.build()
	return out, c.diags
}

func (c *converter) add(code diag.Code, sev diag.Severity, ex *execNode, ptr, format string, args ...any) *diag.Diagnostic {
	d := &diag.Diagnostic{Code: code, Severity: sev, Pointer: ptr, Message: fmt.Sprintf(format, args...)}
	if ex != nil {
		d.NodeID, d.ClassType, d.NodeTitle = ex.id, ex.ui.Type, ex.ui.Title
		if d.Pointer == "" {
			d.Pointer = ex.ui.Pointer
		}
	}
	c.diags.Add(d)
	return d
}

// definitionOf returns the subgraph or group-node definition a node type
// names, or nil.
func (c *converter) definitionOf(t string) *UIGraph {
	if g, ok := c.ui.Subgraphs[t]; ok {
		return g
	}
	for _, pre := range []string{"workflow>", "workflow/"} {
		if name, ok := strings.CutPrefix(t, pre); ok {
			if g, ok := c.ui.GroupNodes[name]; ok {
				return g
			}
		}
	}
	return nil
}

func (c *converter) isVirtual(t string) bool {
	return virtualClasses[t] && c.opts.Schemas.Lookup(t) == nil
}

// flatten adds the nodes of g in execution order, expanding instances.
// active holds the definitions being expanded (recursion guard).
func (c *converter) flatten(g *UIGraph, inst *execNode, prefix string, depth int, active map[string]bool) {
	for _, n := range executionOrder(g) {
		if len(c.nodes) >= maxExpansion {
			if !c.too {
				c.too = true
				c.add(diag.ConversionError, diag.Error, nil, n.Pointer, "the workflow expands to more than %d nodes; conversion stopped", maxExpansion)
			}
			return
		}
		ex := &execNode{id: prefix + n.ID, ui: n, g: g, inst: inst, mode: n.Mode, order: len(c.nodes)}
		if inst != nil && (inst.mode == ModeNever || inst.mode == ModeBypass) && ex.mode == ModeAlways {
			ex.mode = inst.mode
		}
		ex.virtual = c.isVirtual(n.Type)
		ex.def = c.definitionOf(n.Type)
		if _, dup := c.byID[ex.id]; dup {
			c.add(diag.ConversionError, diag.Error, ex, n.Pointer, "execution id %s is used twice; the later node is ignored", ex.id)
			continue
		}
		c.nodes = append(c.nodes, ex)
		c.byID[ex.id] = ex
		if ex.def == nil {
			continue
		}
		key := strconv.Itoa(int(ex.def.Kind)) + ex.def.ID
		if active[key] {
			c.add(diag.ConversionError, diag.Error, ex, n.Pointer, "instantiates %q inside itself; left out", ex.def.ID)
			ex.def, ex.broken = nil, true
			continue
		}
		active[key] = true
		if ex.def.Kind == GroupNodeDef {
			c.flattenGroup(ex, prefix, depth, active)
		} else {
			c.flatten(ex.def, ex, ex.id+":", depth+1, active)
		}
		delete(active, key)
	}
}

// flattenGroup expands a legacy group node: its inner nodes get ids
// "<groupId>:<index>" and the instance's widgets_values, which concatenate
// the inner nodes' widget values in order, are dealt back to them.
func (c *converter) flattenGroup(ex *execNode, prefix string, depth int, active map[string]bool) {
	start := len(c.nodes)
	c.flatten(ex.def, ex, ex.id+":", depth+1, active)
	vals := ex.ui.Widgets
	if vals == nil {
		return
	}
	total := 0
	var inner []*execNode
	for _, in := range c.nodes[start:] {
		if in.inst == ex {
			inner = append(inner, in)
			total += len(in.ui.Widgets)
		}
	}
	// Deal in definition order (the concatenation order), not execution
	// order.
	sort.SliceStable(inner, func(i, j int) bool { return inner[i].ui.Index < inner[j].ui.Index })
	if total != len(vals) {
		c.add(diag.ConversionWarning, diag.Warning, ex, ex.ui.Pointer+"/widgets_values",
			"group node %s has %d widget values but its inner nodes have %d; the inner nodes' own values are used", ex.id, len(vals), total)
		return
	}
	off := 0
	for _, in := range inner {
		k := len(in.ui.Widgets)
		in.widgets = vals[off : off+k]
		base := off
		in.widgetsPtr = func(key string) string {
			i, err := strconv.Atoi(key)
			if err != nil {
				return ex.ui.Pointer + "/widgets_values"
			}
			return ex.ui.WidgetsPointer(strconv.Itoa(base + i))
		}
		off += k
	}
}

// executionOrder is litegraph's computeExecutionOrder: nodes without
// linked inputs first in file order, then each node once all the nodes
// feeding it are placed (breadth first); nodes on cycles last, in file
// order.
func executionOrder(g *UIGraph) []*UINode {
	indeg := make(map[*UINode]int, len(g.Nodes))
	succ := map[*UINode][]*UINode{}
	for _, l := range g.Links {
		o, t := g.byID[l.Origin], g.byID[l.Target]
		if o == nil || t == nil || !inputReferences(t, l.ID) {
			continue
		}
		indeg[t]++
		succ[o] = append(succ[o], t)
	}
	out := make([]*UINode, 0, len(g.Nodes))
	placed := make(map[*UINode]bool, len(g.Nodes))
	var queue []*UINode
	for _, n := range g.Nodes {
		if indeg[n] == 0 {
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if placed[n] {
			continue
		}
		placed[n] = true
		out = append(out, n)
		for _, s := range succ[n] {
			indeg[s]--
			if indeg[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	for _, n := range g.Nodes {
		if !placed[n] {
			out = append(out, n)
		}
	}
	return out
}

func inputReferences(n *UINode, linkID string) bool {
	for _, in := range n.Inputs {
		if in.Link == linkID {
			return true
		}
	}
	return false
}

// resolved is where an input's value comes from.
type resolved struct {
	kind  int // resNone, resLink, resValue
	from  string
	slot  int
	value any
	// ptr locates a value in the file (a PrimitiveNode's or a subgraph
	// instance's widgets_values entry).
	ptr string
}

const (
	resNone = iota
	resLink
	resValue
)

type visitKey struct {
	ex  *execNode
	out bool
	i   int
}

// resolveInput follows input slot i of ex to the output that feeds it
// (ExecutableNodeDTO.resolveInput).
func (c *converter) resolveInput(ex *execNode, i int, typ string, visited map[visitKey]bool) resolved {
	k := visitKey{ex, false, i}
	if visited[k] {
		c.add(diag.ConversionError, diag.Error, ex, "", "links loop through node %s without reaching a real node", ex.id)
		return resolved{}
	}
	visited[k] = true
	if i < 0 {
		i += len(ex.ui.Inputs) // JavaScript's Array.at(-1)
	}
	if i < 0 || i >= len(ex.ui.Inputs) {
		return resolved{}
	}
	in := ex.ui.Inputs[i]
	if typ == "" {
		typ = in.Type
	}
	if in.Link == "" {
		return resolved{}
	}
	l := ex.g.LinkByID[in.Link]
	if l == nil {
		c.add(diag.BadLinkedInput, diag.Warning, ex, in.Pointer+"/link", "input %q references link %s, which does not exist; read as unlinked", in.Name, in.Link)
		return resolved{}
	}
	if l.Origin == SubgraphInputID {
		inst := ex.inst
		if inst == nil {
			c.add(diag.BadLinkedInput, diag.Warning, ex, l.Pointer, "link %s comes from a subgraph input outside any subgraph; ignored", l.ID)
			return resolved{}
		}
		return c.resolveInstanceInput(inst, l.OriginSlot, typ, visited)
	}
	prefix := ""
	if ex.inst != nil {
		prefix = ex.inst.id + ":"
	}
	origin := c.byID[prefix+l.Origin]
	if origin == nil || origin.g != ex.g {
		c.add(diag.BadLinkedInput, diag.Warning, ex, in.Pointer+"/link", "input %q is linked from node %s, which does not exist; read as unlinked", in.Name, l.Origin)
		return resolved{}
	}
	return c.resolveOutput(origin, l.OriginSlot, typ, visited)
}

// resolveInstanceInput resolves input slot of a subgraph (or group-node)
// instance seen from inside: the outer link when connected, else the
// instance's promoted widget value, else nothing (the inner widget keeps
// its own value).
func (c *converter) resolveInstanceInput(inst *execNode, slot int, typ string, visited map[visitKey]bool) resolved {
	if slot < 0 || slot >= len(inst.ui.Inputs) {
		return resolved{}
	}
	in := inst.ui.Inputs[slot]
	if in.Link != "" {
		return c.resolveInput(inst, slot, typ, visited)
	}
	if !in.HasWidget {
		return resolved{}
	}
	// The promoted widgets are saved in the instance's widgets_values, in
	// the order of the widget inputs.
	if inst.ui.WidgetMap != nil {
		if v, ok := inst.ui.WidgetMap.Get(in.Widget); ok {
			return resolved{kind: resValue, value: v, ptr: inst.ui.WidgetsPointer(in.Widget)}
		}
		return resolved{}
	}
	k := 0
	for j := 0; j < slot; j++ {
		if inst.ui.Inputs[j].HasWidget {
			k++
		}
	}
	if k < len(inst.ui.Widgets) {
		return resolved{kind: resValue, value: inst.ui.Widgets[k], ptr: inst.ui.WidgetsPointer(strconv.Itoa(k))}
	}
	return resolved{}
}

// resolveOutput follows output slot of ex to a real node
// (ExecutableNodeDTO.resolveOutput).
func (c *converter) resolveOutput(ex *execNode, slot int, typ string, visited map[visitKey]bool) resolved {
	k := visitKey{ex, true, slot}
	if visited[k] {
		c.add(diag.ConversionError, diag.Error, ex, "", "links loop through node %s without reaching a real node", ex.id)
		return resolved{}
	}
	visited[k] = true
	if ex.mode == ModeBypass {
		return c.resolveInput(ex, bypassSlot(ex.ui, slot, typ), typ, visited)
	}
	if ex.def != nil {
		return c.resolveInstanceOutput(ex, slot, typ, visited)
	}
	if ex.virtual {
		switch ex.ui.Type {
		case "PrimitiveNode":
			if len(ex.ui.Widgets) > 0 {
				return resolved{kind: resValue, value: ex.ui.Widgets[0], ptr: ex.ui.WidgetsPointer("0")}
			}
			if v, ok := ex.ui.WidgetMap.Get("value"); ok {
				return resolved{kind: resValue, value: v, ptr: ex.ui.WidgetsPointer("value")}
			}
			return resolved{}
		case "GetNode":
			if set := c.setterFor(ex); set != nil {
				return c.resolveInput(set, 0, typ, visited)
			}
			c.add(diag.ConversionWarning, diag.Warning, ex, "", "GetNode %v has no matching SetNode; its links are dropped", firstWidget(ex.ui))
			return resolved{}
		}
		return c.resolveInput(ex, slot, typ, visited)
	}
	return resolved{kind: resLink, from: ex.id, slot: slot}
}

// setterFor finds the KJNodes SetNode with the GetNode's constant name in
// the same graph instance.
func (c *converter) setterFor(get *execNode) *execNode {
	name := firstWidget(get.ui)
	if name == nil {
		return nil
	}
	for _, n := range c.nodes {
		if n.inst == get.inst && n.g == get.g && n.ui.Type == "SetNode" && n.virtual {
			if v := firstWidget(n.ui); v != nil && fmt.Sprint(v) == fmt.Sprint(name) {
				return n
			}
		}
	}
	return nil
}

func firstWidget(n *UINode) any {
	if len(n.Widgets) > 0 {
		return n.Widgets[0]
	}
	if len(n.WidgetMap) > 0 {
		return n.WidgetMap[0].Value
	}
	return nil
}

// resolveInstanceOutput follows output slot of a subgraph instance to the
// inner node linked to the definition's output node.
func (c *converter) resolveInstanceOutput(ex *execNode, slot int, typ string, visited map[visitKey]bool) resolved {
	def := ex.def
	var l *UILink
	if slot >= 0 && slot < len(def.Outputs) {
		for _, id := range def.Outputs[slot].LinkIDs {
			if cand := def.LinkByID[id]; cand != nil && cand.Target == SubgraphOutputID {
				l = cand
				break
			}
		}
	}
	if l == nil {
		for _, cand := range def.Links {
			if cand.Target == SubgraphOutputID && cand.TargetSlot == slot {
				l = cand
				break
			}
		}
	}
	if l == nil {
		return resolved{}
	}
	if l.Origin == SubgraphInputID {
		return c.resolveInstanceInput(ex, l.OriginSlot, typ, visited)
	}
	inner := c.byID[ex.id+":"+l.Origin]
	if inner == nil {
		c.add(diag.BadLinkedInput, diag.Warning, ex, l.Pointer, "subgraph output %d of node %s comes from inner node %s, which does not exist", slot, ex.id, l.Origin)
		return resolved{}
	}
	return c.resolveOutput(inner, l.OriginSlot, typ, visited)
}

// bypassSlot picks the input a bypassed node passes to output slot
// (COMFYUI.md c.3 rule 5): for an any-type request the same index (or 0);
// else the same index when its type is compatible with the output; else the
// first input of exactly the requested type, and when there is none, -1,
// which the caller reads as the last input (JavaScript's Array.at(-1)).
func bypassSlot(n *UINode, slot int, typ string) int {
	if typ == "*" || typ == "" {
		if slot < len(n.Inputs) {
			return slot
		}
		return 0
	}
	outType := ""
	if slot >= 0 && slot < len(n.Outputs) {
		outType = n.Outputs[slot].Type
	}
	if slot >= 0 && slot < len(n.Inputs) && validConnection(n.Inputs[slot].Type, outType) {
		return slot
	}
	for i, in := range n.Inputs {
		if in.Type == typ {
			return i
		}
	}
	return -1
}

// validConnection is LiteGraph.isValidConnection: any-type, equal, or
// sharing one of their comma-separated types (case-insensitive).
func validConnection(a, b string) bool {
	if a == "" || a == "*" || b == "" || b == "*" {
		return true
	}
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == b {
		return true
	}
	for _, x := range strings.Split(a, ",") {
		for _, y := range strings.Split(b, ",") {
			if strings.TrimSpace(x) == strings.TrimSpace(y) {
				return true
			}
		}
	}
	return false
}

// build makes the prompt from the flattened nodes.
func (c *converter) build() *Prompt {
	var built []*Node
	for _, ex := range c.nodes {
		if ex.virtual || ex.def != nil || ex.mode == ModeNever || ex.mode == ModeBypass || ex.ui.Type == "" || ex.broken {
			continue
		}
		built = append(built, c.buildNode(ex))
	}
	// JavaScript object key order: canonical array-index keys ascending,
	// then the rest in insertion order.
	sort.SliceStable(built, func(i, j int) bool {
		ai, aok := arrayIndex(built[i].ID)
		bi, bok := arrayIndex(built[j].ID)
		switch {
		case aok && bok:
			return ai < bi
		case aok != bok:
			return aok
		}
		return false
	})
	p := NewPrompt(built...)
	// Rule 7: drop inputs linked to nodes that are not in the prompt.
	for _, n := range p.Nodes {
		kept := n.Inputs[:0]
		for _, in := range n.Inputs {
			if in.Link != nil && p.Node(in.Link.From) == nil {
				delete(n.InputPointers, in.Name)
				continue
			}
			kept = append(kept, in)
		}
		n.Inputs = kept
	}
	return p
}

// arrayIndex reports whether id is a canonical array index (as JavaScript
// orders object keys).
func arrayIndex(id string) (uint64, bool) {
	if id == "" || (len(id) > 1 && id[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(id, 10, 32)
	if err != nil || v == 1<<32-1 {
		return 0, false
	}
	return v, true
}

func (c *converter) buildNode(ex *execNode) *Node {
	n := &Node{ID: ex.id, ClassType: ex.ui.Type, HasClassType: true, Pointer: ex.ui.Pointer, InputPointers: map[string]string{}}
	sn := c.opts.Schemas.Lookup(ex.ui.Type)
	n.Title = ex.ui.Title
	if n.Title == "" && sn != nil {
		n.Title = sn.DisplayName
	}
	if n.Title == "" {
		n.Title = ex.ui.Type
	}
	values, ptr := ex.ui.Widgets, ex.ui.WidgetsPointer
	if ex.widgets != nil {
		values, ptr = ex.widgets, ex.widgetsPtr
	}
	wr := nameWidgets(sn, ex.ui, values, ex.ui.WidgetMap, ptr)
	set := func(name string, v any, p string) {
		if arr, ok := v.([]any); ok {
			v = jsonx.Object{{Key: "__value__", Value: arr}}
		}
		n.SetInput(name, v)
		if p != "" {
			n.InputPointers[name] = p
		}
	}
	for _, w := range wr.Named {
		set(w.Name, w.Value, w.Pointer)
	}
	if len(wr.Unnamed) > 0 {
		sev := diag.Warning
		msg := "class %s has no schema; widget values that could not be named are left out"
		if !wr.NoSchema {
			msg = "class %s has more widget values than its schema has widgets; the extra values are left out"
		} else if c.opts.Strict {
			sev = diag.Error
		}
		d := c.add(diag.ConversionWarning, sev, ex, ex.ui.Pointer+"/widgets_values", msg, ex.ui.Type)
		d.Details = "unnamed values (index=value): " + strings.Join(wr.Unnamed, ", ")
	}
	if len(wr.Defaulted) > 0 {
		c.add(diag.ConversionWarning, diag.Warning, ex, ex.ui.Pointer+"/widgets_values",
			"fewer widget values than widgets; %s take the schema default", strings.Join(wr.Defaulted, ", "))
	}
	for i, in := range ex.ui.Inputs {
		if in.Name == "" {
			continue
		}
		r := c.resolveInput(ex, i, in.Type, map[visitKey]bool{})
		switch r.kind {
		case resValue:
			p := r.ptr
			if p == "" {
				p = in.Pointer
			}
			set(in.Name, r.value, p)
		case resLink:
			n.SetInput(in.Name, []any{r.from, json.Number(strconv.Itoa(r.slot))})
			n.InputPointers[in.Name] = in.Pointer
		}
	}
	return n
}
