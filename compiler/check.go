package compiler

import (
	"comfyrt/nodes/engine"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/graph/validate"
	"comfyrt/nodes"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

// Default frame size when the workflow has a frame input and Config gives
// none (ComfyStream's UI default).
const (
	DefaultWidth  = 512
	DefaultHeight = 512
)

// Config configures Check and Compile.
type Config struct {
	// Schemas are the known node classes (builtin.Schemas merged with
	// object_info files). Required.
	Schemas *schema.Set
	// Registry holds the kernels. Check reports every reachable class
	// without one as missing_node_implementation; with a nil Registry it
	// skips that check (Compile requires one).
	Registry *nodes.Registry
	// Unlisted is validate.Options.Unlisted: combo inputs whose choices
	// come from a folder that was not listed (builtin.FolderLists).
	Unlisted map[string][]string
	// InputDir is where file-reading kernels (LoadImage) resolve names.
	InputDir string
	// Width and Height are the frame size; 0 means DefaultWidth ×
	// DefaultHeight. Ignored for workflows without a frame input.
	Width, Height int
	// Engines opens the models of model-backed nodes (nil: those nodes fail
	// to prepare with a message saying so); ModelDir is the models folder
	// their file names resolve against; Engine holds their session options
	// (devices in preference order, threads).
	Engines  engine.Provider
	ModelDir string
	Engine   engine.Options
	// Confined marks an untrusted workflow (nodes.Config.Confined): files
	// it names must lie inside InputDir and ModelDir.
	Confined bool
	// Static, when not nil, shares static results with the other plans
	// compiled with it (see StaticCache).
	Static *StaticCache
	// MaxImagePixels is nodes.Config.MaxImagePixels: the largest picture
	// file-reading kernels (LoadImage) decode; 0 is their default.
	MaxImagePixels int64
	// FrameMask is nodes.Config.FrameMask: for a run on a picture with an
	// alpha channel, its mask (1 − alpha, MASK [1,H,W]), which a LoadImage
	// bound as the frame input outputs. Empty for video.
	FrameMask value.Tensor
	// MaxBytes is the plan's memory budget in bytes: the buffers of its
	// tensor outputs, counted without per-frame reuse, plus the scratch its
	// kernels declare (nodes.Scratcher). A plan over it is refused with
	// plan_too_large, naming the node that took it over, before anything
	// is allocated. 0 means no limit.
	MaxBytes int64
}

func (c Config) frameSize() (w, h int) {
	w, h = c.Width, c.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	return w, h
}

// Role is what a node is to the stream.
type Role int

const (
	// Compute is an ordinary node.
	Compute Role = iota
	// FrameInput nodes receive the stream's frame.
	FrameInput
	// FrameOutput nodes are the stream's outputs.
	FrameOutput
	// StaticImage is a LoadImage that is not the frame input.
	StaticImage
)

func (r Role) String() string {
	switch r {
	case FrameInput:
		return "frame input"
	case FrameOutput:
		return "frame output"
	case StaticImage:
		return "static image"
	case AudioInput:
		return "audio input"
	case AudioOutput:
		return "audio output"
	}
	return "compute"
}

// Input is one declared (non-hidden) input of a typed node, in the class's
// input_order.
type Input struct {
	Name string
	// Type is the schema type ("IMAGE", "INT", "COMBO", "*", …).
	Type string
	// Kind is the runtime kind the input carries.
	Kind value.Kind
	// Optional is true for inputs of the optional section.
	Optional bool
	// Linked is true when the input comes from another node's output
	// From, slot Slot.
	Linked bool
	From   string
	Slot   int
	// Literal is the widget value (int64, float64, string or bool) when
	// the input is not linked; nil when it is absent.
	Literal any
	// Pointer is the JSON pointer of the input in the file.
	Pointer string
}

// Present reports whether the workflow gives the input (link or literal).
func (in Input) Present() bool { return in.Linked || in.Literal != nil }

// spec is the constant spec of a literal input, or the zero Spec.
func (in Input) spec() value.Spec {
	if in.Literal == nil {
		return value.Spec{}
	}
	v, _ := value.Of(in.Literal)
	return value.ConstSpec(v)
}

// Node is one typed node of the DAG.
type Node struct {
	ID, Class, Title string
	Role             Role
	// Pointer is the JSON pointer of the node in the file.
	Pointer string
	inputs  []Input
	outputs []string
}

// Inputs returns the node's declared inputs in input_order (a copy).
func (n *Node) Inputs() []Input { return slices.Clone(n.inputs) }

// Outputs returns the node's output types (a copy).
func (n *Node) Outputs() []string { return slices.Clone(n.outputs) }

// String names the node: "ImageBlur #7".
func (n *Node) String() string { return n.Class + " #" + n.ID }

// Typed is the typed DAG of a workflow: the nodes reachable from its
// outputs, in node id order. It is immutable.
type Typed struct {
	nodes      []*Node
	byID       map[string]*Node
	roots      []string // output nodes, node id order
	frameIns   []string
	frameOuts  []string
	widgetVals map[string]map[string]any // node → literal widgets, for factories
}

// Nodes returns the typed nodes in node id order.
func (t *Typed) Nodes() []*Node { return slices.Clone(t.nodes) }

// Node returns the node with the id, or nil.
func (t *Typed) Node(id string) *Node { return t.byID[id] }

// FrameInputs returns the ids of the frame-input nodes.
func (t *Typed) FrameInputs() []string { return slices.Clone(t.frameIns) }

// FrameOutputs returns the ids of the frame-output nodes.
func (t *Typed) FrameOutputs() []string { return slices.Clone(t.frameOuts) }

// Roots returns the ids of every output node (OUTPUT_NODE classes): the
// nodes the plan runs for.
func (t *Typed) Roots() []string { return slices.Clone(t.roots) }

// Check validates p, types every node reachable from an output, applies the
// ComfyStream I/O contract and checks that every class has a kernel. It
// reports every problem at once; the prompt is not modified (validation
// runs on a copy). The Typed graph is never nil; with errors it holds the
// nodes that could be typed.
func Check(p *graph.Prompt, cfg Config) (*Typed, diag.List) {
	t := &Typed{byID: map[string]*Node{}, widgetVals: map[string]map[string]any{}}
	if p == nil {
		p = graph.NewPrompt()
	}
	schemas := cfg.Schemas
	if schemas == nil {
		schemas = schema.NewSet()
	}
	cp := copyPrompt(p)
	res := validate.Validate(cp, schemas, validate.Options{Unlisted: cfg.Unlisted})
	diags := slices.Clone(res.Diags)
	if res.Error != nil && res.Error.Code == diag.MissingNodeType {
		// Validation stops at the unknown classes, as in ComfyUI; the
		// known classes without a kernel are listed too, so that one
		// compile says everything the workflow lacks.
		return t, append(diags, noKernels(cp, schemas, cfg.Registry)...)
	}
	if res.Error != nil && res.Error.Code == diag.PromptNoOutputs {
		return t, diags
	}
	// Roots: every output node of a known class (validated or not: a
	// failed one has its errors in diags already).
	for _, n := range cp.Nodes {
		if cls := schemas.Lookup(n.ClassType); cls != nil && cls.OutputNode {
			t.roots = append(t.roots, n.ID)
		}
	}
	slices.SortFunc(t.roots, compareIDs)
	ids := reachable(cp, t.roots)
	for _, id := range ids {
		gn := cp.Node(id)
		cls := schemas.Lookup(gn.ClassType)
		if cls == nil {
			continue
		}
		n := &Node{ID: id, Class: gn.ClassType, Title: gn.Title, Pointer: gn.PointerTo(""), outputs: slices.Clone(cls.Output)}
		widgets := map[string]any{}
		for _, si := range cls.Inputs {
			if si.Section == schema.Hidden {
				continue
			}
			in := Input{Name: si.Name, Type: si.Type, Kind: value.KindOf(si.Type), Optional: si.Section == schema.Optional, Pointer: gn.PointerTo(si.Name)}
			if gi := gn.Input(si.Name); gi != nil {
				if gi.Link != nil {
					in.Linked, in.From, in.Slot = true, gi.Link.From, gi.Link.Slot
					if src := cp.Node(gi.Link.From); src != nil {
						if sc := schemas.Lookup(src.ClassType); sc != nil && gi.Link.Slot >= 0 && gi.Link.Slot < len(sc.Output) {
							in.Kind = value.KindOf(sc.Output[gi.Link.Slot])
						}
					}
				} else if lit, err := typeLiteral(si, gi.Literal()); err != nil {
					diags.Add(&diag.Diagnostic{Code: diag.InvalidInputType, NodeID: id, ClassType: n.Class, NodeTitle: n.Title,
						Input: si.Name, Pointer: in.Pointer, Message: "Unsupported literal value", Details: fmt.Sprintf("%s: %v", si.Name, err)})
				} else {
					in.Literal = lit
					if lit != nil {
						in.Kind = kindOfLiteral(lit)
						widgets[si.Name] = lit
					}
				}
			}
			n.inputs = append(n.inputs, in)
		}
		t.widgetVals[id] = widgets
		t.nodes = append(t.nodes, n)
		t.byID[id] = n
		if cfg.Registry != nil {
			if _, ok := cfg.Registry.Lookup(n.Class); !ok {
				diags.Add(missingKernel(gn, cls))
			}
		}
	}
	diags = append(diags, t.ioContract()...)
	sortDiags(diags)
	return t, diags
}

// reachable lists the nodes of p that the roots reach through links
// (roots included), in id order.
func reachable(p *graph.Prompt, roots []string) []string {
	seen := map[string]bool{}
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		n := p.Node(id)
		if n == nil {
			continue
		}
		for _, in := range n.Inputs {
			if in.Link != nil && p.Node(in.Link.From) != nil {
				stack = append(stack, in.Link.From)
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		if p.Node(id) != nil {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

// noKernels reports every node of p whose class has a schema but no kernel
// in r (nil: none is checked), in node id order.
func noKernels(p *graph.Prompt, schemas *schema.Set, r *nodes.Registry) diag.List {
	if r == nil {
		return nil
	}
	var out diag.List
	ids := make([]string, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		ids = append(ids, n.ID)
	}
	slices.SortFunc(ids, compareIDs)
	for _, id := range ids {
		gn := p.Node(id)
		cls := schemas.Lookup(gn.ClassType)
		if cls == nil {
			continue
		}
		if _, ok := r.Lookup(cls.Name); !ok {
			out.Add(missingKernel(gn, cls))
		}
	}
	return out
}

// missingKernel is the missing_node_implementation of node n of class cls.
// Its details say what the class is: a ComfyUI core class, a class of a
// custom node pack (named), or a class an object_info file declares. It
// never suggests installing anything: the class is known.
func missingKernel(n *graph.Node, cls *schema.Node) *diag.Diagnostic {
	d := &diag.Diagnostic{Code: diag.MissingNodeImplementation, NodeID: n.ID, ClassType: cls.Name, NodeTitle: n.Title, Pointer: n.PointerTo(""),
		Message: fmt.Sprintf("Node %s #%s has no implementation in comfyrt", cls.Name, n.ID)}
	switch pack := schema.PackOf(cls.PythonModule); {
	case schema.IsCoreModule(cls.PythonModule):
		d.Details = fmt.Sprintf("%s is a ComfyUI core class (%s) that comfyrt has no kernel for yet", cls.Name, cls.PythonModule)
	case pack != "":
		d.Details = fmt.Sprintf("%s is a class of the custom node pack %s that comfyrt has no kernel for yet", cls.Name, pack)
	default:
		d.Details = fmt.Sprintf("class %s is known (schema) but comfyrt has no kernel for it", cls.Name)
	}
	return d
}

// ioContract assigns roles and checks ComfyStream's counts.
func (t *Typed) ioContract() diag.List {
	var diags diag.List
	var primary, tensors, images, outs, audioIns, audioOuts []*Node
	for _, n := range t.nodes {
		switch n.Class {
		case "PrimaryInputLoadImage":
			primary = append(primary, n)
		case "LoadTensor":
			tensors = append(tensors, n)
		case "LoadImage":
			images = append(images, n)
		case "SaveTensor", "PreviewImage", "SaveImage":
			outs = append(outs, n)
		case "LoadAudioTensor":
			audioIns = append(audioIns, n)
		case "SaveAudioTensor":
			audioOuts = append(audioOuts, n)
		}
	}
	contract := func(msg string, ns []*Node) {
		d := &diag.Diagnostic{Code: diag.IOContract, Message: msg, Details: "nodes " + nodeList(ns)}
		if len(ns) > 0 {
			d.NodeID, d.ClassType, d.NodeTitle, d.Pointer = ns[len(ns)-1].ID, ns[len(ns)-1].Class, ns[len(ns)-1].Title, ns[len(ns)-1].Pointer
		}
		diags.Add(d)
	}
	if len(primary) > 1 {
		contract("too many primary inputs in prompt (at most one PrimaryInputLoadImage)", primary)
	}
	if len(primary) == 0 && len(tensors)+len(images) > 2 {
		contract("too many inputs in prompt (at most two LoadTensor/LoadImage without a PrimaryInputLoadImage)", append(slices.Clone(tensors), images...))
	}
	if len(outs) > 3 {
		contract("too many outputs in prompt (at most three SaveTensor/PreviewImage/SaveImage)", outs)
	}
	diags = append(diags, audioContract(contract, audioIns, audioOuts)...)
	if len(outs) == 0 && len(audioOuts) == 0 && len(t.roots) > 0 {
		d := &diag.Diagnostic{Code: diag.IOContract, Message: "missing output: the workflow has no frame output (SaveTensor, PreviewImage or SaveImage)"}
		diags.Add(d)
	}
	for _, n := range primary {
		n.Role = FrameInput
	}
	for _, n := range tensors {
		n.Role = FrameInput
	}
	for _, n := range images {
		if len(primary) == 0 && len(images) == 1 {
			n.Role = FrameInput
		} else {
			n.Role = StaticImage
		}
	}
	for _, n := range outs {
		n.Role = FrameOutput
		t.frameOuts = append(t.frameOuts, n.ID)
	}
	for _, n := range t.nodes {
		if n.Role == FrameInput {
			t.frameIns = append(t.frameIns, n.ID)
		}
	}
	return diags
}

func nodeList(ns []*Node) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.ID + " (" + n.Class + ")"
	}
	return strings.Join(parts, ", ")
}

// sortDiags sorts by node id (prompt-level first), keeping ComfyUI's
// top-level error first.
func sortDiags(l diag.List) {
	slices.SortStableFunc(l, func(a, b *diag.Diagnostic) int {
		if (a.NodeID == "") != (b.NodeID == "") {
			if a.NodeID == "" {
				return -1
			}
			return 1
		}
		if c := compareIDs(a.NodeID, b.NodeID); c != 0 {
			return c
		}
		return strings.Compare(a.Input, b.Input)
	})
}

// copyPrompt copies the nodes and their input lists, so that validation's
// write-back of coerced values leaves p alone.
func copyPrompt(p *graph.Prompt) *graph.Prompt {
	ns := make([]*graph.Node, len(p.Nodes))
	for i, n := range p.Nodes {
		c := *n
		c.Inputs = slices.Clone(n.Inputs)
		ns[i] = &c
	}
	return graph.NewPrompt(ns...)
}

// compareIDs orders node ids numerically by ':'-separated parts ("2" <
// "10" < "10:3"), falling back to string order.
func compareIDs(a, b string) int {
	pa, pb := strings.Split(a, ":"), strings.Split(b, ":")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, ex := strconv.ParseInt(pa[i], 10, 64)
		y, ey := strconv.ParseInt(pb[i], 10, 64)
		switch {
		case ex == nil && ey == nil:
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		case ex == nil:
			return -1
		case ey == nil:
			return 1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return len(pa) - len(pb)
}

// typeLiteral types a widget value by its schema type: INT → int64, FLOAT
// → float64, STRING → string, BOOLEAN → bool; combos and other types keep
// the JSON value's own type (numbers int64 when whole).
func typeLiteral(si *schema.Input, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch si.Type {
	case schema.TypeInt:
		switch x := v.(type) {
		case json.Number:
			if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return i, nil
			}
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
				return nil, fmt.Errorf("%s is not a 64-bit integer", x)
			}
			return int64(f), nil
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
				return nil, fmt.Errorf("%v is not a 64-bit integer", x)
			}
			return int64(x), nil
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case schema.TypeFloat:
		switch x := v.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%s is not a number", x)
			}
			return f, nil
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		case string: // ±inf/nan kept as text by validation
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
	case schema.TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case schema.TypeBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	}
	switch x := v.(type) {
	case string, bool, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("a %T literal is not supported for a %s input", v, si.Type)
}

func kindOfLiteral(v any) value.Kind {
	x, _ := value.Of(v)
	return x.Kind
}
