// Package graph reads ComfyUI workflows in both formats — the API "prompt"
// format and the UI (litegraph) format, schema 0.4 and 1 — losslessly,
// converts UI workflows to API prompts exactly as the ComfyUI frontend's
// graphToPrompt does, and holds the untyped DAG (node ids, literal or
// linked inputs, titles, JSON pointers into the source file).
//
// Package graph may import graph/diag, nodes/schema and internal/jsonx. It
// must not import nodes (kernels), compiler, executor, streampack, or any
// cgo or wazero package.
package graph
