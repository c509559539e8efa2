package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
)

// Ids of the virtual input and output nodes inside a subgraph definition.
const (
	SubgraphInputID  = "-10"
	SubgraphOutputID = "-20"
)

// Node modes (litegraph LGraphEventMode).
const (
	ModeAlways    = 0
	ModeOnEvent   = 1
	ModeNever     = 2 // muted
	ModeOnTrigger = 3
	ModeBypass    = 4
)

// UIWorkflow is a parsed UI-format (litegraph) workflow. Every piece keeps
// its decoded JSON (Raw) so that fields comfyrt does not model survive.
type UIWorkflow struct {
	// Raw is the whole decoded file.
	Raw jsonx.Object
	// Version is the "version" field as written ("0.4", "1", ...; "" when
	// absent). Schema is 1 for `version: 1` files and 0 (meaning 0.4)
	// otherwise, as the frontend reads unknown versions as 0.4.
	Version string
	Schema  int
	// Graph is the top-level graph.
	Graph *UIGraph
	// Subgraphs are the subgraph definitions by id, nested definitions
	// included (their ids are UUIDs, global to the file).
	Subgraphs map[string]*UIGraph
	// SubgraphOrder lists the subgraph ids in file order.
	SubgraphOrder []string
	// GroupNodes are the legacy group-node definitions
	// (extra.groupNodes.NAME), rewritten as subgraph-like graphs whose
	// nodes have ids "0", "1", ... (their index).
	GroupNodes map[string]*UIGraph
	// Extra is the "extra" object (ds, reroutes, linkExtensions, groupNodes,
	// arbitrary keys), or nil.
	Extra jsonx.Object
}

// GraphKind tells a top-level graph from subgraph and group-node
// definitions.
type GraphKind int

const (
	// RootGraph is the workflow itself.
	RootGraph GraphKind = iota
	// SubgraphDef is an entry of definitions.subgraphs.
	SubgraphDef
	// GroupNodeDef is a legacy extra.groupNodes entry.
	GroupNodeDef
)

// UIGraph is one litegraph graph: the workflow, a subgraph definition or a
// legacy group-node definition.
type UIGraph struct {
	Kind GraphKind
	// ID is the subgraph definition id (UUID) or the group-node name; "" for
	// the root graph.
	ID   string
	Name string
	// Pointer is the JSON pointer of the graph object ("" for the root).
	Pointer string
	Nodes   []*UINode
	// Links in file order; LinkByID indexes them.
	Links    []*UILink
	LinkByID map[string]*UILink
	// Inputs and Outputs are the subgraph's IO slots (definitions only).
	Inputs  []*UISubgraphIO
	Outputs []*UISubgraphIO
	Groups  []*UIGroup
	Raw     jsonx.Object

	byID map[string]*UINode
}

// Node returns the node with id, or nil.
func (g *UIGraph) Node(id string) *UINode {
	if g == nil {
		return nil
	}
	return g.byID[id]
}

// UISubgraphIO is one input or output of a subgraph definition.
type UISubgraphIO struct {
	ID      string
	Name    string
	Type    string
	LinkIDs []string
	Raw     jsonx.Object
}

// UIGroup is a visual group (ignored by the conversion).
type UIGroup struct {
	ID       string
	Title    string
	Bounding []float64
	Raw      jsonx.Object
}

// UINode is one node of a UI graph.
type UINode struct {
	// ID is the node id as a string ("7", "KSampler.0").
	ID   string
	Type string
	// Title is the node's own title; HasTitle tells "" from absent.
	Title    string
	HasTitle bool
	Mode     int
	Order    int
	Pos      [2]float64
	Inputs   []*UIInput
	Outputs  []*UIOutput
	// Widgets is widgets_values when it is an array; WidgetMap when it is
	// an object (keyed by widget name). Both nil when absent or null.
	Widgets   []any
	WidgetMap jsonx.Object
	// Properties is the properties object, or nil.
	Properties jsonx.Object
	// Raw is the node object exactly as decoded.
	Raw jsonx.Object
	// Pointer is the JSON pointer of the node ("/nodes/3", or inside
	// definitions).
	Pointer string
	// Index is the position of the node in its graph's nodes array.
	Index int
}

// WidgetsPointer returns the pointer of widgets_values entry i (or key).
func (n *UINode) WidgetsPointer(key string) string {
	return n.Pointer + jsonx.Pointer("widgets_values", key)
}

// UIInput is one entry of a node's inputs[].
type UIInput struct {
	Name string
	Type string
	// Link is the link id, "" when null or absent.
	Link string
	// Widget is widget.name when the input is (or can become) a widget.
	Widget    string
	HasWidget bool
	Label     string
	Raw       jsonx.Object
	Pointer   string
}

// UIOutput is one entry of a node's outputs[].
type UIOutput struct {
	Name    string
	Type    string
	Links   []string
	Widget  string
	Raw     jsonx.Object
	Pointer string
}

// UILink is one link, from a tuple [id, origin, oslot, target, tslot,
// type] or an object {id, origin_id, ...}.
type UILink struct {
	ID         string
	Origin     string
	OriginSlot int
	Target     string
	TargetSlot int
	Type       string
	ParentID   string
	// Raw is the tuple or the object as decoded.
	Raw     any
	Pointer string
}

// ParseUI reads a UI-format workflow from its decoded JSON. It never fails
// on malformed pieces: each becomes a diagnostic with a JSON pointer and is
// left out. It returns nil only when v is not a JSON object.
func ParseUI(v any) (*UIWorkflow, diag.List) {
	var diags diag.List
	top, ok := v.(jsonx.Object)
	if !ok {
		diags.Add(&diag.Diagnostic{Code: diag.ConversionError, Message: "a UI workflow must be a JSON object"})
		return nil, diags
	}
	w := &UIWorkflow{Raw: top, Subgraphs: map[string]*UIGraph{}, GroupNodes: map[string]*UIGraph{}}
	if ver, ok := top.Get("version"); ok {
		switch ver := ver.(type) {
		case json.Number:
			w.Version = ver.String()
		case string:
			w.Version = ver
		}
		if f, err := strconv.ParseFloat(w.Version, 64); err == nil && f == 1 {
			w.Schema = 1
		}
	}
	if ex, ok := top.Get("extra"); ok {
		w.Extra, _ = ex.(jsonx.Object)
	}
	p := &uiParser{w: w, diags: &diags}
	w.Graph = p.graph(top, "", RootGraph)
	p.definitions(top, "", 0)
	p.groupNodes()
	return w, diags
}

type uiParser struct {
	w     *UIWorkflow
	diags *diag.List
}

func (p *uiParser) add(code diag.Code, sev diag.Severity, ptr, nodeID, format string, args ...any) *diag.Diagnostic {
	d := &diag.Diagnostic{Code: code, Severity: sev, Pointer: ptr, NodeID: nodeID, Message: fmt.Sprintf(format, args...)}
	p.diags.Add(d)
	return d
}

// maxDefinitionDepth bounds nested definitions (a guard against hostile
// files; real workflows nest a few levels).
const maxDefinitionDepth = 32

func (p *uiParser) definitions(obj jsonx.Object, base string, depth int) {
	defs, ok := obj.Get("definitions")
	if !ok || defs == nil {
		return
	}
	dobj, ok := defs.(jsonx.Object)
	if !ok {
		p.add(diag.ConversionWarning, diag.Warning, base+"/definitions", "", "definitions is not an object; ignored")
		return
	}
	subs, ok := dobj.Get("subgraphs")
	if !ok || subs == nil {
		return
	}
	arr, ok := subs.([]any)
	if !ok {
		p.add(diag.ConversionWarning, diag.Warning, base+"/definitions/subgraphs", "", "definitions.subgraphs is not an array; ignored")
		return
	}
	if depth >= maxDefinitionDepth {
		p.add(diag.ConversionError, diag.Error, base+"/definitions", "", "subgraph definitions nested more than %d levels deep", maxDefinitionDepth)
		return
	}
	for i, s := range arr {
		ptr := base + "/definitions/subgraphs/" + strconv.Itoa(i)
		so, ok := s.(jsonx.Object)
		if !ok {
			p.add(diag.ConversionError, diag.Error, ptr, "", "subgraph definition is not an object")
			continue
		}
		id, _ := idOf(getOr(so, "id"))
		if id == "" {
			p.add(diag.ConversionError, diag.Error, ptr+"/id", "", "subgraph definition has no id")
			continue
		}
		if _, dup := p.w.Subgraphs[id]; dup {
			p.add(diag.ConversionError, diag.Error, ptr+"/id", "", "duplicate subgraph definition id %q; the first is used", id)
			continue
		}
		g := p.graph(so, ptr, SubgraphDef)
		g.ID = id
		g.Name, _ = getOr(so, "name").(string)
		g.Inputs = p.subgraphIO(so, "inputs", ptr)
		g.Outputs = p.subgraphIO(so, "outputs", ptr)
		p.w.Subgraphs[id] = g
		p.w.SubgraphOrder = append(p.w.SubgraphOrder, id)
		p.definitions(so, ptr, depth+1)
	}
}

func (p *uiParser) subgraphIO(obj jsonx.Object, key, base string) []*UISubgraphIO {
	v, ok := obj.Get(key)
	if !ok || v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.add(diag.ConversionWarning, diag.Warning, base+"/"+key, "", "subgraph %s is not an array; ignored", key)
		return nil
	}
	out := make([]*UISubgraphIO, 0, len(arr))
	for i, e := range arr {
		eo, _ := e.(jsonx.Object)
		io := &UISubgraphIO{Raw: eo}
		if eo == nil {
			p.add(diag.ConversionWarning, diag.Warning, base+"/"+key+"/"+strconv.Itoa(i), "", "subgraph %s entry is not an object", key)
		}
		io.ID, _ = idOf(getOr(eo, "id"))
		io.Name, _ = getOr(eo, "name").(string)
		io.Type = typeString(getOr(eo, "type"))
		if ids, ok := getOr(eo, "linkIds").([]any); ok {
			for _, l := range ids {
				if s, ok := idOf(l); ok {
					io.LinkIDs = append(io.LinkIDs, s)
				}
			}
		}
		out = append(out, io)
	}
	return out
}

// graph parses nodes, links and groups of one graph object.
func (p *uiParser) graph(obj jsonx.Object, base string, kind GraphKind) *UIGraph {
	g := &UIGraph{Kind: kind, Pointer: base, Raw: obj, LinkByID: map[string]*UILink{}, byID: map[string]*UINode{}}
	if nv, ok := obj.Get("nodes"); ok && nv != nil {
		arr, ok := nv.([]any)
		if !ok {
			p.add(diag.ConversionError, diag.Error, base+"/nodes", "", "nodes is not an array")
		}
		for i, e := range arr {
			n := p.node(e, base+"/nodes/"+strconv.Itoa(i), i, kind == GroupNodeDef)
			if n == nil {
				continue
			}
			g.Nodes = append(g.Nodes, n)
		}
	}
	p.assignIDs(g, obj)
	if lv, ok := obj.Get("links"); ok && lv != nil {
		switch lv := lv.(type) {
		case []any:
			for i, e := range lv {
				p.link(g, e, base+"/links/"+strconv.Itoa(i), "")
			}
		case jsonx.Object:
			// Some subgraph definitions store links keyed by id.
			for _, m := range lv {
				p.link(g, m.Value, base+"/links"+jsonx.Pointer(m.Key), m.Key)
			}
		default:
			p.add(diag.ConversionError, diag.Error, base+"/links", "", "links is neither an array nor an object")
		}
	}
	if gv, ok := obj.Get("groups"); ok {
		if arr, ok := gv.([]any); ok {
			for _, e := range arr {
				eo, _ := e.(jsonx.Object)
				gr := &UIGroup{Raw: eo}
				gr.ID, _ = idOf(getOr(eo, "id"))
				gr.Title, _ = getOr(eo, "title").(string)
				if b, ok := getOr(eo, "bounding").([]any); ok {
					for _, x := range b {
						f, _ := floatOf(x)
						gr.Bounding = append(gr.Bounding, f)
					}
				}
				g.Groups = append(g.Groups, gr)
			}
		}
	}
	p.checkLinks(g)
	return g
}

func (p *uiParser) node(v any, ptr string, index int, groupDef bool) *UINode {
	o, ok := v.(jsonx.Object)
	if !ok {
		p.add(diag.ConversionError, diag.Error, ptr, "", "node is not a JSON object")
		return nil
	}
	n := &UINode{Raw: o, Pointer: ptr, Index: index}
	if n.ID, ok = nodeID(o, index, groupDef); !ok {
		p.add(diag.ConversionError, diag.Error, ptr, "", "node has no usable id")
		return nil
	}
	tv, _ := o.Get("type")
	if n.Type, ok = tv.(string); !ok {
		p.add(diag.ConversionError, diag.Error, ptr+"/type", n.ID, "the node has no type (a string); it is left out")
	}
	if t, ok := o.Get("title"); ok {
		if s, ok := t.(string); ok {
			n.Title, n.HasTitle = s, true
		}
	}
	if m, ok := o.Get("mode"); ok && m != nil {
		mi, ok := intOf(m)
		if !ok {
			p.add(diag.ConversionWarning, diag.Warning, ptr+"/mode", n.ID, "mode %v is not an integer; read as 0", m)
		}
		n.Mode = mi
	}
	n.Order, _ = intOf(getOr(o, "order"))
	switch pos := getOr(o, "pos").(type) {
	case []any:
		for i := 0; i < 2 && i < len(pos); i++ {
			n.Pos[i], _ = floatOf(pos[i])
		}
	case jsonx.Object:
		n.Pos[0], _ = floatOf(getOr(pos, "0"))
		n.Pos[1], _ = floatOf(getOr(pos, "1"))
	}
	n.Properties, _ = getOr(o, "properties").(jsonx.Object)
	switch wv := getOr(o, "widgets_values").(type) {
	case []any:
		n.Widgets = wv
	case jsonx.Object:
		n.WidgetMap = wv
	case nil:
	default:
		p.add(diag.ConversionWarning, diag.Warning, ptr+"/widgets_values", n.ID, "widgets_values is neither an array nor an object; ignored")
	}
	for i, e := range p.slots(o, "inputs", ptr, n.ID) {
		n.Inputs = append(n.Inputs, p.input(e, ptr+"/inputs/"+strconv.Itoa(i), i, n.ID))
	}
	for i, e := range p.slots(o, "outputs", ptr, n.ID) {
		n.Outputs = append(n.Outputs, p.output(e, ptr+"/outputs/"+strconv.Itoa(i), i, n.ID))
	}
	return n
}

// nodeID is a node's id; group-node inner nodes all have id -1, so their
// "index" (or position) names them.
func nodeID(o jsonx.Object, index int, groupDef bool) (string, bool) {
	idv, hasID := o.Get("id")
	id, ok := idOf(idv)
	if groupDef {
		if iv, ok := o.Get("index"); ok {
			if s, ok := idOf(iv); ok {
				id = s
			}
		} else {
			id = strconv.Itoa(index)
		}
		ok, hasID = true, true
	}
	return id, hasID && ok && id != ""
}

// slots returns the node's "inputs" or "outputs" array (key), warning
// when it is something else.
func (p *uiParser) slots(o jsonx.Object, key, ptr, id string) []any {
	v, ok := o.Get(key)
	if !ok || v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.add(diag.ConversionWarning, diag.Warning, ptr+"/"+key, id, "%s is not an array; ignored", key)
	}
	return arr
}

// input reads input i of node id at ip.
func (p *uiParser) input(e any, ip string, i int, id string) *UIInput {
	eo, ok := e.(jsonx.Object)
	in := &UIInput{Raw: eo, Pointer: ip}
	if !ok {
		p.add(diag.ConversionWarning, diag.Warning, ip, id, "input %d is not an object", i)
	}
	in.Name, _ = getOr(eo, "name").(string)
	in.Type = typeString(getOr(eo, "type"))
	in.Label, _ = getOr(eo, "label").(string)
	if l := getOr(eo, "link"); l != nil {
		s, ok := idOf(l)
		if !ok {
			p.add(diag.BadLinkedInput, diag.Warning, ip+"/link", id, "input %q has a malformed link id %v; read as unlinked", in.Name, l)
		}
		in.Link = s
	}
	if wo, ok := getOr(eo, "widget").(jsonx.Object); ok {
		in.HasWidget = true
		in.Widget, _ = getOr(wo, "name").(string)
		if in.Widget == "" {
			in.Widget = in.Name
		}
	}
	return in
}

// output reads output i of node id at op.
func (p *uiParser) output(e any, op string, i int, id string) *UIOutput {
	eo, ok := e.(jsonx.Object)
	out := &UIOutput{Raw: eo, Pointer: op}
	if !ok {
		p.add(diag.ConversionWarning, diag.Warning, op, id, "output %d is not an object", i)
	}
	out.Name, _ = getOr(eo, "name").(string)
	out.Type = typeString(getOr(eo, "type"))
	if ls, ok := getOr(eo, "links").([]any); ok {
		for _, l := range ls {
			if s, ok := idOf(l); ok {
				out.Links = append(out.Links, s)
			}
		}
	}
	if wo, ok := getOr(eo, "widget").(jsonx.Object); ok {
		out.Widget, _ = getOr(wo, "name").(string)
	}
	return out
}

// assignIDs indexes the nodes by id. A node whose id is already taken gets
// a new one, as litegraph's LGraph.add does on load ("there is already a
// node with this ID, changing it"): one more than the largest id in use
// or recorded in last_node_id / state.lastNodeId. Links keep naming the
// first node with the id.
func (p *uiParser) assignIDs(g *UIGraph, obj jsonx.Object) {
	last := 0
	if v, ok := intOf(getOr(obj, "last_node_id")); ok {
		last = v
	}
	if st, ok := getOr(obj, "state").(jsonx.Object); ok {
		if v, ok := intOf(getOr(st, "lastNodeId")); ok && v > last {
			last = v
		}
	}
	for _, n := range g.Nodes {
		if v, err := strconv.Atoi(n.ID); err == nil && v > last {
			last = v
		}
	}
	for _, n := range g.Nodes {
		if _, dup := g.byID[n.ID]; dup {
			last++
			newID := strconv.Itoa(last)
			p.add(diag.ConversionWarning, diag.Warning, n.Pointer+"/id", n.ID,
				"duplicate node id %s: renumbered %s as the frontend does on load; links naming %s go to the first node with that id", n.ID, newID, n.ID)
			n.ID = newID
		}
		g.byID[n.ID] = n
	}
}

// link parses a tuple or object link; key is the object key when links is
// an object keyed by id.
func (p *uiParser) link(g *UIGraph, v any, ptr, key string) {
	l := &UILink{Raw: v, Pointer: ptr}
	var ok [5]bool
	switch v := v.(type) {
	case []any:
		if len(v) < 5 || len(v) > 6 {
			p.add(diag.BadLinkedInput, diag.Warning, ptr, "", "link is not a 6-tuple [id, origin_id, origin_slot, target_id, target_slot, type] (%d elements); ignored", len(v))
			return
		}
		l.ID, ok[0] = idOf(v[0])
		l.Origin, ok[1] = idOf(v[1])
		l.OriginSlot, ok[2] = intOf(v[2])
		l.Target, ok[3] = idOf(v[3])
		l.TargetSlot, ok[4] = intOf(v[4])
		if len(v) == 6 {
			l.Type = typeString(v[5])
		}
	case jsonx.Object:
		l.ID, ok[0] = idOf(getOr(v, "id"))
		if !ok[0] && key != "" {
			l.ID, ok[0] = key, true
		}
		l.Origin, ok[1] = idOf(getOr(v, "origin_id"))
		l.OriginSlot, ok[2] = intOf(getOr(v, "origin_slot"))
		l.Target, ok[3] = idOf(getOr(v, "target_id"))
		l.TargetSlot, ok[4] = intOf(getOr(v, "target_slot"))
		l.Type = typeString(getOr(v, "type"))
		l.ParentID, _ = idOf(getOr(v, "parentId"))
	default:
		p.add(diag.BadLinkedInput, diag.Warning, ptr, "", "link is neither a 6-tuple nor an object; ignored")
		return
	}
	names := [5]string{"id", "origin_id", "origin_slot", "target_id", "target_slot"}
	for i, good := range ok {
		if !good {
			p.add(diag.BadLinkedInput, diag.Warning, ptr, "", "link has a malformed or missing %s; ignored", names[i])
			return
		}
	}
	if _, dup := g.LinkByID[l.ID]; dup {
		p.add(diag.BadLinkedInput, diag.Warning, ptr, "", "duplicate link id %s; the first is used", l.ID)
		return
	}
	g.LinkByID[l.ID] = l
	g.Links = append(g.Links, l)
}

// checkLinks reports links whose ends do not exist. They stay in the graph:
// the conversion follows nodes' inputs[].link, as the frontend does.
func (p *uiParser) checkLinks(g *UIGraph) {
	for _, l := range g.Links {
		if l.Origin != SubgraphInputID {
			if o := g.byID[l.Origin]; o == nil {
				p.add(diag.BadLinkedInput, diag.Warning, l.Pointer, "", "link %s comes from node %s, which does not exist", l.ID, l.Origin)
			} else if len(o.Outputs) > 0 && (l.OriginSlot < 0 || l.OriginSlot >= len(o.Outputs)) {
				p.add(diag.BadLinkedInput, diag.Warning, l.Pointer, o.ID, "link %s comes from output slot %d of node %s, which has %d outputs", l.ID, l.OriginSlot, o.ID, len(o.Outputs))
			}
		}
		if l.Target != SubgraphOutputID {
			t := g.byID[l.Target]
			if t == nil {
				p.add(diag.BadLinkedInput, diag.Warning, l.Pointer, "", "link %s goes to node %s, which does not exist", l.ID, l.Target)
				continue
			}
			if l.TargetSlot < 0 || l.TargetSlot >= len(t.Inputs) {
				d := p.add(diag.BadLinkedInput, diag.Warning, l.Pointer, t.ID, "link %s goes to input slot %d of node %s, which has %d inputs", l.ID, l.TargetSlot, t.ID, len(t.Inputs))
				for i, in := range t.Inputs {
					if in.Link == l.ID {
						d.Details = fmt.Sprintf("the node's input %d (%s) references the link and is used", i, in.Name)
					}
				}
			} else if in := t.Inputs[l.TargetSlot]; in.Link != l.ID && !inputReferences(t, l.ID) {
				other := in.Link
				if other == "" {
					other = "no link"
				}
				p.add(diag.BadLinkedInput, diag.Warning, l.Pointer, t.ID, "link %s goes to input %d (%s) of node %s, which references %s; the link is ignored", l.ID, l.TargetSlot, in.Name, t.ID, other)
			}
		}
	}
}

// groupNodes turns legacy extra.groupNodes definitions into graphs.
func (p *uiParser) groupNodes() {
	gv, ok := p.w.Extra.Get("groupNodes")
	if !ok || gv == nil {
		return
	}
	gobj, ok := gv.(jsonx.Object)
	if !ok {
		p.add(diag.ConversionWarning, diag.Warning, "/extra/groupNodes", "", "extra.groupNodes is not an object; ignored")
		return
	}
	for _, m := range gobj {
		ptr := "/extra/groupNodes" + jsonx.Pointer(m.Key)
		def, ok := m.Value.(jsonx.Object)
		if !ok {
			p.add(diag.ConversionError, diag.Error, ptr, "", "group node definition %q is not an object", m.Key)
			continue
		}
		g := p.graph(jsonx.Object{{Key: "nodes", Value: getOr(def, "nodes")}}, ptr, GroupNodeDef)
		g.ID, g.Name, g.Raw = m.Key, m.Key, def
		p.groupLinks(g, def, ptr)
		p.w.GroupNodes[m.Key] = g
	}
}

// groupLinks reads a group node's internal links [origin_index,
// origin_slot, target_index, target_slot, original_link_id, type] and its
// external outputs [index, slot, type], then builds the IO a subgraph
// would have: every input not linked inside is exposed in node order, and
// every output not linked inside (or listed in external) likewise.
func (p *uiParser) groupLinks(g *UIGraph, def jsonx.Object, ptr string) {
	linked := map[[2]string]bool{}
	fromLinked := map[[2]string]bool{}
	next := 0
	newID := func() string { next++; return "g" + strconv.Itoa(next) }
	if arr, ok := getOr(def, "links").([]any); ok {
		for i, e := range arr {
			lp := ptr + "/links/" + strconv.Itoa(i)
			t, ok := e.([]any)
			if !ok || len(t) < 4 {
				p.add(diag.BadLinkedInput, diag.Warning, lp, "", "group node link is not [origin, slot, target, slot, id, type]; ignored")
				continue
			}
			o, ok1 := idOf(t[0])
			os, ok2 := intOf(t[1])
			tg, ok3 := idOf(t[2])
			ts, ok4 := intOf(t[3])
			if !ok1 || !ok2 || !ok3 || !ok4 {
				p.add(diag.BadLinkedInput, diag.Warning, lp, "", "group node link has a malformed end; ignored")
				continue
			}
			tn := g.byID[tg]
			if tn == nil || g.byID[o] == nil || ts < 0 || ts >= len(tn.Inputs) {
				p.add(diag.BadLinkedInput, diag.Warning, lp, "", "group node link %d points at a missing node or slot; ignored", i)
				continue
			}
			l := &UILink{ID: newID(), Origin: o, OriginSlot: os, Target: tg, TargetSlot: ts, Raw: e, Pointer: lp}
			if len(t) > 5 {
				l.Type = typeString(t[5])
			}
			tn.Inputs[ts].Link = l.ID
			g.Links = append(g.Links, l)
			g.LinkByID[l.ID] = l
			linked[[2]string{tg, strconv.Itoa(ts)}] = true
			fromLinked[[2]string{o, strconv.Itoa(os)}] = true
		}
	}
	external := map[[2]string]bool{}
	if arr, ok := getOr(def, "external").([]any); ok {
		for _, e := range arr {
			if t, ok := e.([]any); ok && len(t) >= 2 {
				n, _ := idOf(t[0])
				s, _ := intOf(t[1])
				external[[2]string{n, strconv.Itoa(s)}] = true
			}
		}
	}
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if linked[[2]string{n.ID, strconv.Itoa(i)}] {
				continue
			}
			l := &UILink{ID: newID(), Origin: SubgraphInputID, OriginSlot: len(g.Inputs), Target: n.ID, TargetSlot: i, Type: in.Type, Pointer: in.Pointer}
			in.Link = l.ID
			g.Links = append(g.Links, l)
			g.LinkByID[l.ID] = l
			g.Inputs = append(g.Inputs, &UISubgraphIO{Name: in.Name, Type: in.Type, LinkIDs: []string{l.ID}})
		}
		for i, out := range n.Outputs {
			k := [2]string{n.ID, strconv.Itoa(i)}
			if fromLinked[k] && !external[k] {
				continue
			}
			l := &UILink{ID: newID(), Origin: n.ID, OriginSlot: i, Target: SubgraphOutputID, TargetSlot: len(g.Outputs), Type: out.Type, Pointer: out.Pointer}
			g.Links = append(g.Links, l)
			g.LinkByID[l.ID] = l
			g.Outputs = append(g.Outputs, &UISubgraphIO{Name: out.Name, Type: out.Type, LinkIDs: []string{l.ID}})
		}
	}
}

// getOr returns o[key] or nil (o may be nil).
func getOr(o jsonx.Object, key string) any {
	v, _ := o.Get(key)
	return v
}

// idOf reads a node or link id: an integer (written in decimal) or a
// string. A number with a fraction keeps its text.
func idOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case json.Number:
		if i, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		if f, err := strconv.ParseFloat(v.String(), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10), true
		}
		return v.String(), true
	}
	return "", false
}

// intOf reads a slot or mode: an integer, an integral float or a numeric
// string.
func intOf(v any) (int, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return 0, false
	}
	if i, err := strconv.Atoi(s); err == nil {
		return i, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<31 {
		return int(f), true
	}
	return 0, false
}

func floatOf(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// typeString renders a slot type: a string as is, a list of types joined
// with ",", a number (litegraph events) as its text.
func typeString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			parts = append(parts, typeString(x))
		}
		return strings.Join(parts, ",")
	case json.Number:
		return v.String()
	}
	return ""
}
