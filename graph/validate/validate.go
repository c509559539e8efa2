package validate

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
	"comfyrt/internal/spell"
	"comfyrt/nodes/schema"
)

// Options configure Validate.
type Options struct {
	// PartialExecutionTargets, when not nil, restricts the outputs to these
	// node ids (ComfyUI's partial_execution_targets). An empty, non-nil
	// list selects no output, so the prompt has no outputs.
	PartialExecutionTargets []string
	// ReadOnly keeps the prompt as it is. By default Validate writes the
	// values it coerced (INT, FLOAT, STRING, BOOLEAN literals) back into
	// Input.Value, as ComfyUI writes them back into the prompt it runs.
	ReadOnly bool
	// Unlisted names combo inputs whose choices come from a folder the
	// caller could not list (class → input names), e.g. the built-in
	// LoadImage's image files when no input folder is given. Their values
	// are not checked against the (empty) choice list.
	Unlisted map[string][]string
}

// Result is the outcome of Validate.
type Result struct {
	// Valid is true when at least one output validated (partial success is
	// success, as in ComfyUI).
	Valid bool
	// Outputs are the outputs that validated, in prompt order.
	Outputs []string
	// FailedOutputs are the outputs that did not, in prompt order.
	FailedOutputs []string
	// Error is ComfyUI's top-level "error": missing_node_type (the first
	// such node in prompt order), prompt_no_outputs or
	// prompt_outputs_failed_validation; nil when Valid.
	Error *diag.Diagnostic
	// Diags holds every error and warning, sorted: Error, every missing
	// class (ComfyUI names only the first), the errors of every node that
	// has errors of its own (with DependentOutputs), and warnings
	// (unknown_input, value_coerced). Each node-level diagnostic carries
	// NodeID, ClassType, NodeTitle, Input and Pointer =
	// node.PointerTo(input); Line and Col are left for graph.Locate, which
	// needs the file's bytes.
	Diags diag.List
}

// comboListLimit is the longest choice list ComfyUI prints in
// value_not_in_list details; longer ones read "(list of length N)".
const comboListLimit = 20

// Validate checks p against s like ComfyUI's validate_prompt.
//
// Steps, as in ComfyUI: (1) a node with no class_type or an unknown class
// ends validation with missing_node_type (ComfyUI names the first in prompt
// order; Diags lists all, with a "did you mean" hint under diag.HintKey);
// (2) the outputs are the nodes of OUTPUT_NODE classes (restricted to
// Options.PartialExecutionTargets), none gives prompt_no_outputs; (3) each
// output is validated recursively through its linked inputs with a shared
// memo, so only nodes reachable from an output are checked; (4) when no
// output validates, prompt_outputs_failed_validation, whose details join
// "<message>: <details>" of the failed outputs' own errors with "\n".
//
// Outputs are validated in prompt order (ComfyUI iterates a set), which
// fixes the order of prompt_outputs_failed_validation's details. Validate
// never panics on a malformed prompt and its Diags do not depend on map
// order. Unless opts.ReadOnly, it writes coerced literal values back
// into p (see Options.ReadOnly); p must not be read concurrently then.
func Validate(p *graph.Prompt, s *schema.Set, opts Options) *Result {
	if p == nil {
		p = graph.NewPrompt()
	}
	n := len(p.Nodes)
	v := &validator{p: p, s: s, opts: opts,
		state: make(map[string]int, n), valid: make(map[string]bool, n), own: map[string]diag.List{},
		deps: make(map[string][]string, n)}
	return v.run()
}

type validator struct {
	p    *graph.Prompt
	s    *schema.Set
	opts Options

	state map[string]int // 0 unvisited, visiting, done
	valid map[string]bool
	own   map[string]diag.List // a node's own errors
	deps  map[string][]string  // node → upstream nodes it recursed into
	warns diag.List            // warnings of validated nodes
	stack []step               // the recursion, for cycles
	names *spell.Index         // class names, for hints (lazy)
	near  map[string]string    // class hints found so far in this prompt
}

const (
	unvisited = iota
	visiting
	done
)

// step is one frame of the recursion: node id, and the input being
// followed upstream.
type step struct {
	id, input string
}

func (v *validator) run() *Result {
	r := &Result{}
	// 1. Missing classes.
	for _, n := range v.p.Nodes {
		if d := v.missingClass(n); d != nil {
			if r.Error == nil {
				r.Error = d
			}
			r.Diags.Add(d)
		}
	}
	if r.Error != nil {
		sortDiags(r.Diags)
		return r
	}
	// 2. Outputs.
	var targets map[string]bool
	if v.opts.PartialExecutionTargets != nil {
		targets = map[string]bool{}
		for _, t := range v.opts.PartialExecutionTargets {
			targets[t] = true
		}
	}
	var outputs []string
	for _, n := range v.p.Nodes {
		if cls := v.s.Lookup(n.ClassType); cls != nil && cls.OutputNode && (targets == nil || targets[n.ID]) {
			outputs = append(outputs, n.ID)
		}
	}
	if len(outputs) == 0 {
		r.Error = &diag.Diagnostic{Code: diag.PromptNoOutputs, Message: "Prompt has no outputs", Extra: map[string]any{}}
		r.Diags.Add(r.Error)
		return r
	}
	// 3. Validate each output.
	for _, o := range outputs {
		if v.visit(o) {
			r.Outputs = append(r.Outputs, o)
		} else {
			r.FailedOutputs = append(r.FailedOutputs, o)
		}
	}
	// dependent_outputs: the failed outputs whose validation reached the node.
	dependents := map[string][]string{}
	for _, o := range r.FailedOutputs {
		for _, id := range v.reach(o) {
			dependents[id] = append(dependents[id], o)
		}
	}
	for _, n := range v.p.Nodes {
		for _, d := range v.own[n.ID] {
			d.DependentOutputs = append([]string(nil), dependents[n.ID]...)
			r.Diags.Add(d)
		}
	}
	r.Diags = append(r.Diags, v.warns...)
	// 4. No good output.
	if len(r.Outputs) == 0 {
		var lines []string
		for _, o := range r.FailedOutputs {
			for _, d := range v.own[o] {
				lines = append(lines, d.Message+": "+d.Details)
			}
		}
		r.Error = &diag.Diagnostic{Code: diag.PromptOutputsFailedValidation, Message: "Prompt outputs failed validation",
			Details: strings.Join(lines, "\n"), Extra: map[string]any{}}
		r.Diags.Add(r.Error)
	}
	r.Valid = len(r.Outputs) > 0
	sortDiags(r.Diags)
	return r
}

// sortDiags sorts l (diag.List.Sort) with the prompt-level diagnostics
// (no NodeID) first.
func sortDiags(l diag.List) {
	l.Sort()
	var prompt, rest diag.List
	for _, d := range l {
		if d.NodeID == "" {
			prompt = append(prompt, d)
		} else {
			rest = append(rest, d)
		}
	}
	copy(l, append(prompt, rest...))
}

// reach returns the nodes o's validation went through (o included), in
// visiting order.
func (v *validator) reach(o string) []string {
	seen := map[string]bool{o: true}
	out := []string{o}
	for i := 0; i < len(out); i++ {
		for _, u := range v.deps[out[i]] {
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

// metaTitle returns _meta.title as ComfyUI reads it
// (prompt[x].get('_meta', {}).get('title')).
func metaTitle(n *graph.Node) (string, bool) {
	if n.Raw == nil {
		return n.Title, n.Title != ""
	}
	mv, ok := n.Raw.Get("_meta")
	if !ok {
		return "", false
	}
	mo, ok := mv.(jsonx.Object)
	if !ok {
		return "", false
	}
	t, ok := mo.Get("title")
	if !ok {
		return "", false
	}
	s, ok := t.(string)
	if !ok {
		return pyStr(t), true
	}
	return s, true
}

func (v *validator) missingClass(n *graph.Node) *diag.Diagnostic {
	title, hasTitle := metaTitle(n)
	d := &diag.Diagnostic{Code: diag.MissingNodeType, NodeID: n.ID, ClassType: n.ClassType, NodeTitle: n.Title,
		Pointer: n.PointerTo(""), Details: fmt.Sprintf("Node ID '#%s'", n.ID)}
	var raw any
	present := n.HasClassType
	if !present && n.Raw != nil {
		raw, present = n.Raw.Get("class_type")
	} else {
		raw = n.ClassType
	}
	if !present {
		name := title
		if name == "" {
			name = "ID #" + n.ID
		}
		var titleV any
		if hasTitle {
			titleV = title
		}
		d.Message = fmt.Sprintf("Node '%s' has no class_type. The workflow may be corrupted or a custom node is missing.", name)
		d.Extra = map[string]any{"node_id": n.ID, "class_type": nil, "node_title": titleV}
		return d
	}
	if n.HasClassType && v.s.Lookup(n.ClassType) != nil {
		return nil
	}
	if !hasTitle {
		title = pyStr(raw)
	}
	d.Message = fmt.Sprintf("Node '%s' not found. The custom node may not be installed.", title)
	d.Extra = map[string]any{"node_id": n.ID, "class_type": toDiag(raw), "node_title": title}
	if n.HasClassType {
		if v.names == nil {
			v.names, v.near = v.s.NameIndex(), map[string]string{}
		}
		near, ok := v.near[n.ClassType]
		if !ok { // workflows repeat their missing classes
			near = v.names.Nearest(n.ClassType)
			v.near[n.ClassType] = near
		}
		if near != "" {
			d.Extra[diag.HintKey] = fmt.Sprintf("did you mean %q?", near)
		}
	}
	return d
}

// lastInput returns the input called name; when the file repeats a key,
// the last one wins, as in Python's json.
func lastInput(n *graph.Node, name string) *graph.Input {
	for i := len(n.Inputs) - 1; i >= 0; i-- {
		if n.Inputs[i].Name == name {
			return &n.Inputs[i]
		}
	}
	return nil
}

// visit validates node id (memoised) and reports whether it is valid.
func (v *validator) visit(id string) bool {
	switch v.state[id] {
	case done:
		return v.valid[id]
	case visiting:
		return false // the caller reports the cycle
	}
	v.state[id] = visiting
	ok := v.check(id)
	v.state[id] = done
	v.valid[id] = ok
	return ok
}

// check is validate_inputs for one node.
func (v *validator) check(id string) bool {
	n := v.p.Node(id)
	cls := v.s.Lookup(n.ClassType)
	valid := true
	nodeDiag := func(code diag.Code, sev diag.Severity, input, msg, details string, extra map[string]any) *diag.Diagnostic {
		d := &diag.Diagnostic{Code: code, Severity: sev, NodeID: n.ID, ClassType: n.ClassType, NodeTitle: n.Title,
			Input: input, Message: msg, Details: details, Extra: extra, Pointer: n.PointerTo(input)}
		if sev == diag.Error {
			v.own[id] = append(v.own[id], d)
		} else {
			v.warns.Add(d)
		}
		return d
	}
	for _, in := range cls.Inputs {
		if in.Section == schema.Hidden {
			continue // values given for hidden inputs are ignored
		}
		x := in.Name
		iv := lastInput(n, x)
		if iv == nil {
			if in.Section == schema.Required {
				nodeDiag(diag.RequiredInputMissing, diag.Error, x, "Required input is missing", x,
					map[string]any{"input_name": x})
			}
			continue
		}
		if arr, isList := iv.Value.([]any); isList {
			if !v.link(n, in, iv, arr, nodeDiag) {
				valid = false
			}
			continue
		}
		v.literal(n, in, iv, nodeDiag)
	}
	// Unknown input names: ignored, with a warning.
	var candidates []string
	var warned map[string]bool
	for _, iv := range n.Inputs {
		x := iv.Name
		if declared(cls, x) || warned[x] {
			continue
		}
		if prefix, _, dotted := strings.Cut(x, "."); dotted && declared(cls, prefix) {
			continue // V3 dynamic input ("routes.route_a", "loras.1.strength")
		}
		if warned == nil {
			warned = map[string]bool{}
			for _, in := range cls.Inputs {
				if in.Section != schema.Hidden {
					candidates = append(candidates, in.Name)
				}
			}
		}
		warned[x] = true
		extra := map[string]any{"input_name": x, "received_value": toDiag(iv.Value)}
		if near := spell.Nearest(x, candidates); near != "" {
			extra[diag.HintKey] = fmt.Sprintf("did you mean %q?", near)
		}
		nodeDiag(diag.UnknownInput, diag.Warning, x, fmt.Sprintf("Unknown input '%s' is ignored", x), x, extra)
	}
	return valid && len(v.own[id]) == 0
}

type diagFunc func(code diag.Code, sev diag.Severity, input, msg, details string, extra map[string]any) *diag.Diagnostic

// declared reports whether cls declares an input called name (hidden ones
// included).
func declared(cls *schema.Node, name string) bool {
	for _, in := range cls.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

// link checks a linked input (a JSON array) and validates the linked node.
func (v *validator) link(n *graph.Node, in *schema.Input, iv *graph.Input, arr []any, add diagFunc) bool {
	x := in.Name
	// input_config and received_value are built only for a diagnostic.
	if len(arr) != 2 || iv.Link == nil {
		config, received := inputConfig(in), toDiag(iv.Value)
		add(diag.BadLinkedInput, diag.Error, x, "Bad linked input, must be a length-2 list of [node_id, slot_index]", x,
			map[string]any{"input_name": x, "input_config": config, "received_value": received})
		return false
	}
	l := iv.Link
	src := v.p.Node(l.From)
	if src == nil {
		config, received := inputConfig(in), toDiag(iv.Value)
		add(diag.BadLinkedInput, diag.Error, x, "Bad linked input, the linked node does not exist",
			fmt.Sprintf("%s, node '%s' not found", x, l.From),
			map[string]any{"input_name": x, "input_config": config, "received_value": received, "linked_node": received})
		return false
	}
	srcCls := v.s.Lookup(src.ClassType)
	if l.Slot < 0 || l.Slot >= len(srcCls.Output) {
		config, received := inputConfig(in), toDiag(iv.Value)
		add(diag.BadLinkedInput, diag.Error, x, "Bad linked input, the linked output slot does not exist",
			fmt.Sprintf("%s, node '%s' (%s) has %d output(s), slot %d out of range", x, l.From, src.ClassType, len(srcCls.Output), l.Slot),
			map[string]any{"input_name": x, "input_config": config, "received_value": received, "linked_node": received})
		return false
	}
	if !schema.TypesMatch(srcCls.Output[l.Slot], in.Type) {
		receivedType := outputType(srcCls, l.Slot)
		config, received := inputConfig(in), toDiag(iv.Value)
		add(diag.ReturnTypeMismatch, diag.Error, x, "Return type mismatch between linked nodes",
			fmt.Sprintf("%s, received_type(%s) mismatch input_type(%s)", x, pyStr(receivedType), pyStr(inputType(in))),
			map[string]any{"input_name": x, "input_config": config, "received_type": toDiag(receivedType), "linked_node": received})
		return false
	}
	v.deps[n.ID] = append(v.deps[n.ID], l.From)
	if v.state[l.From] == visiting {
		v.cycle(l.From, n.ID, x)
		return false
	}
	v.stack = append(v.stack, step{n.ID, x})
	ok := v.visit(l.From)
	v.stack = v.stack[:len(v.stack)-1]
	return ok
}

// cycle reports the cycle closed when input x of node `from` links to
// node `to`, which is being validated further down the recursion. The error
// goes on the cycle's smallest node id (diag.CompareNodeIDs), on the input
// through which that node is fed from the cycle; cycle_nodes lists the
// cycle in data-flow order (producer before consumer) starting there, and
// details read "<input>, a -> b -> c -> a".
func (v *validator) cycle(to, from, x string) {
	// chain[i].id's input chain[i].input links to chain[i+1].id (the last
	// one links to chain[0].id == to).
	var chain []step
	if to != from {
		for k := len(v.stack) - 1; k >= 0; k-- {
			if v.stack[k].id == to {
				chain = append(chain, v.stack[k:]...)
				break
			}
		}
	}
	chain = append(chain, step{from, x})
	m := 0
	for i := range chain {
		if diag.CompareNodeIDs(chain[i].id, chain[m].id) < 0 {
			m = i
		}
	}
	// Data flows from chain[i+1] to chain[i]: walk the chain backwards.
	var nodes []any
	var path []string
	for k := 0; k < len(chain); k++ {
		id := chain[(m-k+len(chain))%len(chain)].id
		nodes = append(nodes, id)
		path = append(path, id)
	}
	path = append(path, chain[m].id)
	input := chain[m].input
	n := v.p.Node(chain[m].id)
	var config any
	if in := v.s.Lookup(n.ClassType).Input(input); in != nil {
		config = inputConfig(in)
	}
	var linked any
	if iv := lastInput(n, input); iv != nil {
		linked = toDiag(iv.Value)
	}
	d := &diag.Diagnostic{Code: diag.DependencyCycle, NodeID: n.ID, ClassType: n.ClassType, NodeTitle: n.Title,
		Input: input, Message: "Dependency cycle detected",
		Details: fmt.Sprintf("%s, %s", input, strings.Join(path, " -> ")),
		Extra:   map[string]any{"input_name": input, "input_config": config, "linked_node": linked, "cycle_nodes": nodes},
		Pointer: n.PointerTo(input)}
	v.own[n.ID] = append(v.own[n.ID], d)
}

// literal checks a literal input: Python coercion for INT, FLOAT, STRING
// and BOOLEAN (written back), then min, max and the combo choices.
func (v *validator) literal(n *graph.Node, in *schema.Input, iv *graph.Input, add diagFunc) {
	x := in.Name
	// input_config is built only for a diagnostic (from the schema, which
	// literal does not change).
	config := func() any { return inputConfig(in) }
	val := iv.Value
	if o, ok := val.(jsonx.Object); ok {
		// {"__value__": [...]}: a literal list (validate_inputs unwraps it).
		if w, ok := o.Get("__value__"); ok {
			val = w
		}
	}
	coerced, errMsg := coerce(in, val, add, config)
	if errMsg != "" {
		add(diag.InvalidInputType, diag.Error, x, fmt.Sprintf("Failed to convert an input value to a %s value", in.Type),
			fmt.Sprintf("%s, %s, %s", x, pyStr(val), errMsg),
			map[string]any{"input_name": x, "input_config": config(), "received_value": toDiag(val), "exception_message": errMsg})
		return
	}
	if coerced != nil {
		val = coerced
		if f, isFloat := coerced.(float64); !v.opts.ReadOnly && (!isFloat || !math.IsInf(f, 0) && !math.IsNaN(f)) {
			// ±inf and nan have no JSON spelling: the original value stays.
			iv.Value = toJSON(coerced)
			iv.Link = nil
		}
	}
	if !inRange(in, val, add, config) {
		return
	}
	if folder := in.Folder(); folder != "" {
		v.folderValue(in, folder, val, add)
		return
	}
	if choices, ok := comboChoices(in); ok && !v.unlisted(n.ClassType, in.Name) {
		comboValue(in, choices, val, add, config)
	}
}

// coerce converts val as ComfyUI's validate_inputs does for in's type
// (int(), float(), str(), bool()); nil for other types. A string given for
// a BOOLEAN is read as ComfyUI would, with a warning saying how.
func coerce(in *schema.Input, val any, add diagFunc, config func() any) (coerced any, errMsg string) {
	switch in.Type {
	case "INT":
		i, msg := pyInt(val)
		if msg != "" {
			return nil, msg
		}
		return i, ""
	case "FLOAT":
		f, msg := pyFloat(val)
		if msg != "" {
			return nil, msg
		}
		return f, ""
	case "STRING":
		return pyStr(val), ""
	case "BOOLEAN":
		b := pyBool(val)
		if s, ok := val.(string); ok {
			reading := "read as " + pyRepr(b) + " (Python's bool() of a string)"
			switch strings.ToLower(pyStrip(s)) {
			case "true":
				b, reading = true, "read as True"
			case "false":
				b, reading = false, "read as False (ComfyUI's bool() would read it as True)"
			}
			add(diag.ValueCoerced, diag.Warning, in.Name, fmt.Sprintf("String %s given for a BOOLEAN, %s", strRepr(s), reading),
				fmt.Sprintf("%s, %s", in.Name, s), map[string]any{"input_name": in.Name, "input_config": config(), "received_value": s, "coerced_value": b})
		}
		return b, ""
	}
	return nil, ""
}

// inRange reports whether val is within in's min and max, adding the
// error when not. ComfyUI compares any value with "min"/"max" when the
// options have them; comfyrt compares numbers only (Python would raise
// TypeError for other values).
func inRange(in *schema.Input, val any, add diagFunc, config func() any) bool {
	x := in.Name
	if lo, ok := in.Options.Get("min"); ok {
		if c, ok := pyCompare(val, lo); ok && c < 0 {
			add(diag.ValueSmallerThanMin, diag.Error, x, fmt.Sprintf("Value %s smaller than min of %s", pyStr(val), pyStr(lo)), x,
				map[string]any{"input_name": x, "input_config": config(), "received_value": toDiag(val)})
			return false
		}
	}
	if hi, ok := in.Options.Get("max"); ok {
		if c, ok := pyCompare(val, hi); ok && c > 0 {
			add(diag.ValueBiggerThanMax, diag.Error, x, fmt.Sprintf("Value %s bigger than max of %s", pyStr(val), pyStr(hi)), x,
				map[string]any{"input_name": x, "input_config": config(), "received_value": toDiag(val)})
			return false
		}
	}
	return true
}

// comboValue checks val (or each element of a multi-select list) against
// the combo's choices.
func comboValue(in *schema.Input, choices []any, val any, add diagFunc, config func() any) {
	x := in.Name
	bad := []any{val}
	if list, ok := val.([]any); ok && (in.Flag("multiselect") || in.Flag("multi_select")) {
		bad = nil
		for _, e := range list {
			if !pyIn(e, choices) {
				bad = append(bad, e)
			}
		}
	} else if pyIn(val, choices) {
		bad = nil
	}
	if len(bad) == 0 {
		return
	}
	listInfo := pyRepr(choices)
	var cfg any
	if len(choices) <= comboListLimit {
		cfg = config()
	} else {
		listInfo = fmt.Sprintf("(list of length %d)", len(choices))
	}
	add(diag.ValueNotInList, diag.Error, x, "Value not in list", fmt.Sprintf("%s: '%s' not in %s", x, pyStr(bad[0]), listInfo),
		map[string]any{"input_name": x, "input_config": cfg, "received_value": toDiag(val)})
}

// folderValue checks the value of an open list (schema.Input.Folder): any
// file name is accepted, as ComfyUI would accept it with that file in its
// folder; a value that is not a string (or, for a multi-select, a list of
// strings) can name no file.
func (v *validator) folderValue(in *schema.Input, folder string, val any, add diagFunc) {
	bad := []any{val}
	if list, ok := val.([]any); ok && in.MultiSelect() {
		bad = nil
		for _, e := range list {
			if _, isStr := e.(string); !isStr {
				bad = append(bad, e)
			}
		}
	} else if _, isStr := val.(string); isStr {
		bad = nil
	}
	if len(bad) == 0 {
		return
	}
	x := in.Name
	add(diag.ValueNotInList, diag.Error, x, "Value not in list",
		fmt.Sprintf("%s: %s is not a file name: the choices are the files of ComfyUI's %s folder", x, pyRepr(bad[0]), folder),
		map[string]any{"input_name": x, "input_config": inputConfig(in), "received_value": toDiag(val)})
}

// unlisted reports whether Options.Unlisted names the input.
func (v *validator) unlisted(class, input string) bool {
	for _, name := range v.opts.Unlisted[class] {
		if name == input {
			return true
		}
	}
	return false
}

// comboChoices returns the choices a combo input is checked against: the
// list of a classic [[choices…], {…}] spec (even empty, as in ComfyUI), or
// options.options of a V3 "COMBO" spec. A V3 combo without options (remote
// or dynamic lists) is not checked: ok is false.
func comboChoices(in *schema.Input) (choices []any, ok bool) {
	if !in.IsCombo() {
		return nil, false
	}
	if len(in.Spec) > 0 {
		if l, isList := in.Spec[0].([]any); isList {
			return l, true
		}
	}
	if ch, has := in.Options.Get("options"); has {
		l, isList := ch.([]any)
		return l, isList
	}
	return nil, false
}

// inputType is the input's type as ComfyUI holds it: the choice list for
// list combos, else the type string.
func inputType(in *schema.Input) any {
	if len(in.Spec) > 0 {
		switch t := in.Spec[0].(type) {
		case []any, string:
			return t
		}
	}
	return in.Type
}

// inputConfig is ComfyUI's input_config: [type, options], options {} when
// the schema gave none.
func inputConfig(in *schema.Input) any {
	var opts any = diag.Object{}
	if len(in.Spec) > 1 {
		opts = toDiag(in.Spec[1])
	} else if in.Options != nil {
		opts = toDiag(in.Options)
	}
	return []any{toDiag(inputType(in)), opts}
}

// outputType is the linked output's type as the schema file wrote it.
func outputType(cls *schema.Node, slot int) any {
	if cls.Raw != nil {
		if ov, ok := cls.Raw.Get("output"); ok {
			if arr, ok := ov.([]any); ok && slot < len(arr) {
				return arr[slot]
			}
		}
	}
	return cls.Output[slot]
}

// toDiag converts a decoded-JSON or Python value to the form kept in
// diag.Diagnostic.Extra: jsonx.Object becomes diag.Object (so that
// encoding/json writes it in order), Python numbers become json.Number.
func toDiag(v any) any {
	switch v := v.(type) {
	case jsonx.Object:
		out := make(diag.Object, len(v))
		for i, m := range v {
			out[i] = diag.Member{Key: m.Key, Value: toDiag(m.Value)}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toDiag(e)
		}
		return out
	case *big.Int, float64:
		return toJSON(v)
	}
	return v
}

// toJSONX converts a diag tree (diag.Object) to a jsonx tree.
func toJSONX(v any) any {
	switch v := v.(type) {
	case diag.Object:
		out := make(jsonx.Object, len(v))
		for i, m := range v {
			out[i] = jsonx.Member{Key: m.Key, Value: toJSONX(m.Value)}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toJSONX(e)
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out
	}
	return v
}

// Response renders ComfyUI's /prompt validation answer:
// {"error": {type, message, details, extra_info} or null, "node_errors":
// {id: {errors, dependent_outputs, class_type}}}. node_errors lists the
// nodes with errors of their own (also when the prompt is valid but some
// outputs failed), keyed in node-id order; warnings and comfyrt's hints are
// not part of it.
func (r *Result) Response() jsonx.Object {
	return toJSONX(diag.ComfyResponse(r.Error, r.Diags)).(jsonx.Object)
}

// Report is the per-file object of `comfyrt validate --format json`:
// {"file", "format", "valid", "error", "node_errors"}, error and
// node_errors as in Response (error is null when valid).
func (r *Result) Report(file, format string) jsonx.Object {
	resp := r.Response()
	errV, _ := resp.Get("error")
	ne, _ := resp.Get("node_errors")
	return jsonx.Object{
		{Key: "file", Value: file},
		{Key: "format", Value: format},
		{Key: "valid", Value: r.Valid},
		{Key: "error", Value: errV},
		{Key: "node_errors", Value: ne},
	}
}
