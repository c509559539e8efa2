package compiler

import (
	"fmt"
	"math"
	"strconv"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/nodes/value"
)

// The memory budget of a plan (Config.MaxBytes). The compiler counts, step
// by step in build order, the scratch a kernel declares (nodes.Scratcher,
// asked before its Prepare) and the buffers of its tensor outputs (from the
// specs Prepare returns), without crediting the per-frame buffer reuse. The
// first step that takes the count over the budget ends the build with
// plan_too_large, before any later kernel prepares (a kernel's Prepare
// sizes its scratch from its input specs) and before any buffer is
// allocated or static step run.
//
// What is counted: tensor outputs at their full shape, and whatever each
// kernel declares: the temporaries its Prepare allocates (resamplers,
// convolution and morphology pictures, decoded files) and, for model
// nodes, their pre- and post-processing buffers, the engine's input and
// output tensors at the bound shapes and an estimate of the inference
// runtime's own working memory (nodes/builtin model scratch). What is not
// counted: a kernel that declares nothing (it must hold nothing that grows
// with its inputs), the runtime's real activation memory where it exceeds
// that estimate, loaded model weights, per-Run garbage, small bookkeeping
// (specs, plan steps, tap tables under a few KiB), Go runtime overhead
// (the heap may grow to about twice the live bytes before a collection)
// and the frames held by decoders, encoders and stream queues outside the
// plan. So the count is an upper bound of the plan's own buffers and the
// declared scratch, not of the process's RSS.

// budget counts a plan's bytes against its limit (max ≤ 0: none).
type budget struct {
	max, total int64
}

// add counts n more bytes and reports whether the plan is still within
// the budget.
func (b *budget) add(n int64) bool {
	b.total = satAdd(b.total, n)
	return b.max <= 0 || b.total <= b.max
}

// satAdd adds non-negative byte counts, saturating at MaxInt64.
func satAdd(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// specBytes is the size of a tensor spec's buffer (float32 elements),
// saturating at MaxInt64 rather than overflowing; 0 for non-tensors.
func specBytes(sp value.Spec) int64 {
	if !sp.Kind.IsTensor() {
		return 0
	}
	n := int64(4)
	for _, d := range sp.Shape {
		if d <= 0 {
			return 0
		}
		if n > math.MaxInt64/int64(d) {
			return math.MaxInt64
		}
		n *= int64(d)
	}
	return n
}

// FormatBytes renders a byte count exactly and in binary units:
// "3221225472 B (3.0 GiB)".
func FormatBytes(n int64) string {
	s := strconv.FormatInt(n, 10) + " B"
	if n < 1<<10 {
		return s
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f, u := float64(n)/1024, 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	return fmt.Sprintf("%s (%.1f %s)", s, f, units[u])
}

// tooLargeDiag is the plan_too_large diagnostic of the step that took the
// plan over its budget: what pushed it over (an output or the kernel's
// scratch) and the totals.
func (pl *Plan) tooLargeDiag(n *Node, b *budget, what string, extra map[string]any) *diag.Diagnostic {
	extra["plan_bytes"] = b.total
	extra["max_plan_bytes"] = b.max
	return &diag.Diagnostic{Code: diag.PlanTooLarge, NodeID: n.ID, ClassType: n.Class, NodeTitle: n.Title, Pointer: n.Pointer,
		Message: "Plan exceeds its memory budget",
		Details: fmt.Sprintf("%s: the plan would hold at least %s, over its budget of %s", what, FormatBytes(b.total), FormatBytes(b.max)),
		Extra:   extra}
}

// chargeOutputs counts the tensor outputs of s and returns the diagnostic
// of the first one that takes the plan over budget, or nil.
func (pl *Plan) chargeOutputs(b *budget, s *step) *diag.Diagnostic {
	for j, sp := range s.outSpecs {
		n := specBytes(sp)
		if n == 0 || b.add(n) {
			continue
		}
		return pl.tooLargeDiag(s.node, b, fmt.Sprintf("output %d %s is %s", j, sp, FormatBytes(n)),
			map[string]any{"output_index": j, "shape": shapeList(sp.Shape), "bytes": n})
	}
	return nil
}

// chargeScratch counts a kernel's declared scratch; the diagnostic when it
// takes the plan over budget, else nil.
func (pl *Plan) chargeScratch(b *budget, s *step, n int64) *diag.Diagnostic {
	if n <= 0 || b.add(n) {
		return nil
	}
	ins := ""
	for _, sp := range s.inSpecs {
		if sp.Kind.IsTensor() {
			if ins != "" {
				ins += ", "
			}
			ins += sp.String()
		}
	}
	what := "its kernel's scratch is " + FormatBytes(n)
	if ins != "" {
		what = "its kernel's scratch for " + ins + " is " + FormatBytes(n)
	}
	return pl.tooLargeDiag(s.node, b, what, map[string]any{"scratch_bytes": n})
}

func shapeList(shape []int) []any {
	out := make([]any, len(shape))
	for i, d := range shape {
		out[i] = int64(d)
	}
	return out
}

// MemoryBytes is what the plan's memory budget counted: the buffers of
// every tensor output (without per-frame reuse) and the scratch its
// kernels declared (model nodes: with an estimate of the runtime's working
// memory). See the budget notes above for what it leaves out.
func (pl *Plan) MemoryBytes() int64 { return pl.bytes }

// Measure checks p and sizes its plan as Compile would, refusing it with
// plan_too_large the same way, but allocates no buffer and runs nothing:
// the kernels are prepared (that is how output shapes are known) and
// closed. It returns MemoryBytes of the plan Compile would build; the
// error, when not nil, is a diag.List as Compile's.
func Measure(p *graph.Prompt, cfg Config) (int64, error) {
	if cfg.Registry == nil {
		return 0, diag.List{{Code: diag.PrepareFailed, Message: "compiler: Config.Registry is nil"}}
	}
	t, diags := Check(p, cfg)
	if diags.HasErrors() {
		return 0, diags
	}
	pl := &Plan{prompt: p, cfg: cfg, typed: t, warnings: diags, measure: true}
	if err := pl.build(nil); err != nil {
		return 0, err
	}
	return pl.bytes, nil
}
