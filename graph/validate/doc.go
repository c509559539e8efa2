// Package validate checks an API-format prompt against node schemas exactly
// as ComfyUI's execution.py validate_prompt / validate_inputs does, with
// ComfyUI's error types, messages, details and extra_info, and renders the
// result as ComfyUI's POST /prompt answer.
//
// What it owns:
//   - Validate: missing classes (reported first, and validation stops, like
//     ComfyUI), output discovery (OUTPUT_NODE classes, optionally only the
//     partial-execution targets), the recursive per-node input check from
//     every output with a shared memo, partial success, dependent_outputs,
//     and comfyrt's additions: dependency_cycle, bad_linked_input for links
//     to missing nodes or slots, warnings for unknown input names and for
//     BOOLEAN strings, "did you mean" hints.
//   - Python's semantics where ComfyUI relies on them: json.loads number
//     reading, int()/float()/str()/bool() coercion with CPython's exception
//     messages, exact comparisons across int/float (integers of any size),
//     list membership, and str()/repr() formatting of floats, strings, lists
//     and dicts.
//   - Open lists: a combo whose choices come from a ComfyUI folder
//     (schema.Input.Folder) accepts any string, as ComfyUI would with that
//     file present; any other value is value_not_in_list naming the folder.
//     A combo with an empty list and no folder stays closed, as in ComfyUI.
//   - Result.Response and Result.Report: the ComfyUI-shaped JSON.
//
// Validate writes coerced values back into the prompt, as ComfyUI does
// (inputs[x] = int(val) …), unless Options.ReadOnly is set.
//
// Package validate may import graph, graph/diag, nodes/schema, internal/jsonx
// and internal/spell. It must not import nodes (kernels), compiler,
// executor, streampack, or any cgo or wazero package.
package validate
