package preview

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"comfyrt/compiler"
	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/nodes/schema"
)

// Widget is one literal input of the running workflow that the page shows
// as a control: a slider for INT and FLOAT (Min, Max, Step), a select for
// COMBO (Options), a checkbox for BOOLEAN, a text field for STRING.
type Widget struct {
	Node    string   `json:"node"`
	Class   string   `json:"class"`
	Title   string   `json:"title,omitempty"`
	Input   string   `json:"input"`
	Type    string   `json:"type"`
	Value   any      `json:"value"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Step    *float64 `json:"step,omitempty"`
	Options []any    `json:"options,omitempty"`
}

// NodeError is one problem of a workflow the page was given, named by node
// and input as ComfyUI's node_errors.
type NodeError struct {
	Node    string `json:"node,omitempty"`
	Class   string `json:"class_type,omitempty"`
	Title   string `json:"title,omitempty"`
	Input   string `json:"input,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
}

// WorkflowError is a workflow that did not load or compile: every problem,
// per node.
type WorkflowError struct {
	Errors []NodeError
}

func (e *WorkflowError) Error() string {
	if len(e.Errors) == 0 {
		return "invalid workflow"
	}
	n := e.Errors[0]
	s := n.Message
	if n.Details != "" {
		s += ": " + n.Details
	}
	if n.Node != "" {
		s = fmt.Sprintf("node %s (%s) input %s: %s", n.Node, n.Class, n.Input, s)
	}
	if len(e.Errors) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(e.Errors)-1)
	}
	return s
}

// workflowError turns compile or load diagnostics into a WorkflowError
// (other errors are wrapped as one prompt-level problem).
func workflowError(err error) *WorkflowError {
	var l diag.List
	if !errors.As(err, &l) {
		return &WorkflowError{Errors: []NodeError{{Code: "prepare_failed", Message: err.Error()}}}
	}
	we := &WorkflowError{}
	for _, d := range l.Errors() {
		we.Errors = append(we.Errors, NodeError{Node: d.NodeID, Class: d.ClassType, Title: d.NodeTitle, Input: d.Input,
			Code: string(d.Code), Message: d.Message, Details: d.Details})
	}
	if len(we.Errors) == 0 {
		we.Errors = []NodeError{{Code: "prepare_failed", Message: err.Error()}}
	}
	return we
}

// workflow is a loaded workflow: its API prompt (never modified: updates
// make a new one) and what the page shows of it.
type workflow struct {
	name    string
	prompt  *graph.Prompt
	explain string
	widgets []Widget
}

// loadWorkflow parses a workflow file (UI or API format) into its prompt.
func loadWorkflow(name string, data []byte, schemas *schema.Set) (*graph.Prompt, error) {
	wf, diags := graph.Load(name, data, graph.Options{Schemas: schemas})
	if wf == nil || wf.Prompt == nil || diags.HasErrors() {
		if !diags.HasErrors() {
			return nil, &WorkflowError{Errors: []NodeError{{Code: "invalid_prompt", Message: "no prompt in the workflow"}}}
		}
		graph.Locate(data, diags)
		return nil, workflowError(diags)
	}
	return wf.Prompt, nil
}

// clonePrompt copies p deeply enough to change literal inputs.
func clonePrompt(p *graph.Prompt) *graph.Prompt {
	nodes := make([]*graph.Node, len(p.Nodes))
	for i, n := range p.Nodes {
		c := *n
		c.Inputs = slices.Clone(n.Inputs)
		nodes[i] = &c
	}
	return graph.NewPrompt(nodes...)
}

// Update is one parameter change: a literal input of a node.
type Update struct {
	Node  string `json:"node"`
	Input string `json:"input"`
	Value any    `json:"value"`
}

// applyUpdates returns a copy of p with the updates applied; an update
// naming a node or input that is not a literal of the workflow is an error.
func applyUpdates(p *graph.Prompt, ups []Update) (*graph.Prompt, error) {
	q := clonePrompt(p)
	for _, u := range ups {
		n := q.Node(u.Node)
		if n == nil {
			return nil, &WorkflowError{Errors: []NodeError{{Node: u.Node, Input: u.Input, Code: "unknown_node", Message: "no such node in the running workflow"}}}
		}
		in := n.Input(u.Input)
		if in == nil || in.Link != nil {
			return nil, &WorkflowError{Errors: []NodeError{{Node: u.Node, Class: n.ClassType, Input: u.Input, Code: "not_a_widget",
				Message: "the input is not a literal value of the node"}}}
		}
		v := u.Value
		if f, ok := v.(float64); ok {
			v = json.Number(strconv.FormatFloat(f, 'f', -1, 64))
		}
		n.SetInput(u.Input, v)
	}
	return q, nil
}

// widgets lists the literal inputs of p that the page can edit, in node
// order.
func widgets(p *graph.Prompt, schemas *schema.Set, frameInput func(class string) bool) []Widget {
	var out []Widget
	for _, n := range sortedNodes(p) {
		sn := schemas.Lookup(n.ClassType)
		if sn == nil {
			continue
		}
		for _, in := range n.Inputs {
			if in.Link != nil || (in.Name == "image" && frameInput(n.ClassType)) {
				continue
			}
			si := sn.Input(in.Name)
			if si == nil {
				continue
			}
			if w, ok := widget(n, in, si); ok {
				out = append(out, w)
			}
		}
	}
	return out
}

func widget(n *graph.Node, in graph.Input, si *schema.Input) (Widget, bool) {
	w := Widget{Node: n.ID, Class: n.ClassType, Title: n.Title, Input: in.Name, Type: si.Type, Value: in.Literal()}
	switch {
	case si.IsCombo():
		w.Type, w.Options = schema.TypeCombo, si.Choices
	case si.Type == "INT" || si.Type == "FLOAT":
		w.Min, w.Max, w.Step = option(si, "min"), option(si, "max"), option(si, "step")
	case si.Type == "STRING" || si.Type == "BOOLEAN":
	default:
		return Widget{}, false
	}
	if num, ok := w.Value.(json.Number); ok {
		f, err := num.Float64()
		if err != nil {
			return Widget{}, false
		}
		w.Value = f
	}
	return w, true
}

func option(si *schema.Input, key string) *float64 {
	v, ok := si.Options.Get(key)
	if !ok {
		return nil
	}
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return nil
		}
	case float64:
		f = x
	default:
		return nil
	}
	return &f
}

// sortedNodes orders nodes by numeric id (then by id).
func sortedNodes(p *graph.Prompt) []*graph.Node {
	ns := slices.Clone(p.Nodes)
	slices.SortStableFunc(ns, func(a, b *graph.Node) int {
		x, ex := strconv.Atoi(a.ID)
		y, ey := strconv.Atoi(b.ID)
		if ex == nil && ey == nil {
			return x - y
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return ns
}

// frameInputClass reports the classes whose "image" input names the
// frame rather than a file (ComfyStream's I/O contract).
func frameInputClass(class string) bool {
	return class == "LoadImage" || class == "PrimaryInputLoadImage" || class == "LoadTensor"
}

// compile compiles p at w×h, adopting from prev (nil: none) every static
// step whose inputs did not change, so that it does not run again.
func compile(p *graph.Prompt, cfg compiler.Config, w, h int, prev *compiler.Plan) (*compiler.Plan, error) {
	cfg.Width, cfg.Height = w, h
	pl, err := compiler.Rebuild(p, cfg, prev)
	if err != nil {
		return nil, workflowError(err)
	}
	return pl, nil
}
