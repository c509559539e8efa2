package census

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"comfyrt/compiler"
	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/nodes/value"
)

// The outcomes of a workflow, in the order the table counts them.
const (
	Compiles          = "compiles"
	MissingType       = "missing_node_type"
	MissingKernel     = "missing_node_implementation"
	Other             = "other"
	ranOK             = "ran"
	maxClassesPerCell = 12
)

// Entry is one workflow's outcome.
type Entry struct {
	File   string
	Family string
	// Status is Compiles, MissingType, MissingKernel or Other.
	Status string
	// Unknown lists the classes without a schema; NoKernel those with a
	// schema but no kernel (sorted, once each), whatever the Status.
	Unknown, NoKernel []string
	// Detail is the first error for Other; for Compiles, "ran" or why the
	// one run failed.
	Detail string
}

// Ran reports whether a compiled workflow ran once without an error.
func (e Entry) Ran() bool { return e.Status == Compiles && e.Detail == ranOK }

// Config is what a census checks workflows against.
type Config struct {
	// Compiler is the compile configuration: Schemas and Registry are
	// required; the census sets nothing else.
	Compiler compiler.Config
	// Frame is the picture ([1,H,W,3]) a workflow with a frame input runs
	// on; Compiler's Width and Height should match it.
	Frame value.Tensor
}

// Check loads (converting the UI format), compiles and runs one workflow.
// It never panics: a panic anywhere is its Detail.
func Check(name string, data []byte, cfg Config) (e Entry) {
	e = Entry{File: name, Family: "other"}
	defer func() {
		if x := recover(); x != nil {
			e.Status, e.Detail = Other, fmt.Sprintf("panic: %v", x)
		}
	}()
	s := cfg.Compiler.Schemas
	wf, diags := graph.Load(name, data, graph.Options{Schemas: s})
	if wf == nil || wf.Prompt == nil || diags.HasErrors() {
		e.Status, e.Detail = Other, firstError(diags, "not a workflow")
		return e
	}
	classes := classesOf(wf.Prompt)
	e.Family = Family(classes, s)
	for _, c := range classes {
		switch cls := s.Lookup(c); {
		case cls == nil:
			e.Unknown = append(e.Unknown, c)
		case cfg.Compiler.Registry != nil && !hasKernel(cfg, c):
			e.NoKernel = append(e.NoKernel, c)
		}
	}
	if len(e.Unknown) > 0 {
		e.Status = MissingType
		return e
	}
	pl, err := compiler.Compile(wf.Prompt, cfg.Compiler)
	if err != nil {
		var l diag.List
		if errors.As(err, &l) && slices.ContainsFunc(l, func(d *diag.Diagnostic) bool { return d.Code == diag.MissingNodeImplementation }) {
			e.Status = MissingKernel
			return e
		}
		e.Status, e.Detail = Other, firstError(l, err.Error())
		return e
	}
	defer pl.Close()
	e.Status, e.Detail = Compiles, run(pl, cfg.Frame)
	return e
}

// run runs a compiled plan once: on frame when it has a frame input.
func run(pl *compiler.Plan, frame value.Tensor) string {
	if !pl.HasFrameInput() {
		frame = value.Tensor{}
	}
	if err := pl.RunFrame(frame); err != nil {
		return "run: " + err.Error()
	}
	return ranOK
}

func hasKernel(cfg Config, class string) bool {
	_, ok := cfg.Compiler.Registry.Lookup(class)
	return ok
}

// classesOf lists the prompt's classes, sorted, once each.
func classesOf(p *graph.Prompt) []string {
	var out []string
	for _, n := range p.Nodes {
		if n.ClassType != "" && !slices.Contains(out, n.ClassType) {
			out = append(out, n.ClassType)
		}
	}
	sort.Strings(out)
	return out
}

// firstError is the first error's text, or def.
func firstError(l diag.List, def string) string {
	for _, d := range l {
		if d.Severity == diag.Error {
			msg := string(d.Code) + ": " + d.Message
			if d.Details != "" {
				msg += ": " + d.Details
			}
			return strings.ReplaceAll(msg, "\n", " ")
		}
	}
	return def
}
