// Package schema is the object_info model: node classes exactly as ComfyUI
// serves them from GET /object_info (server.py node_info, or
// GET_NODE_INFO_V1 for V3 nodes). It covers input sections
// (required/optional/hidden) and input_order, type names (including comma
// unions such as "FLOAT,INT" and the "*" wildcard), combo inputs written as
// a list of choices or as V3 "COMBO" with options.options, every option key
// (default, min, max, step, round, tooltip, lazy, forceInput, …) through
// Input.Option and typed accessors, the outputs (output, output_is_list,
// output_name, output_tooltips), output_node, category, display name,
// description, python_module and the deprecated/experimental/api_node flags.
//
// Open lists: a combo whose choices ComfyUI lists from one of its folders
// (checkpoints, loras, input, …) carries the option FolderOption, a comfyrt
// addition that emitting and parsing keep; Input.Folder names the folder,
// Node.WithFolder makes one and Node.WithChoices closes it with a listing.
// Differences leaves such choices out. IsCoreModule and PackOf read a
// python_module (ComfyUI's own, or custom_nodes.<pack>).
//
// Loading: Parse, LoadFile and LoadFiles read any number of object_info
// files; later files win, and each Node keeps its Source (the file path, or
// "builtin"). Fields this package does not know are never an error: they stay
// in Node.Raw, so emitting (Set.JSON, Set.MarshalJSON, Node.JSON) gives back
// what was loaded. Classes built in code (without Raw) are emitted in
// ComfyUI's own field layout.
//
// A Set is built once and then only read; it is safe for concurrent reads.
// Nodes are shared between sets (Clone, Merge) and must not be modified once
// added; derive changed copies with Node.Clone or Node.WithChoices.
//
// Imports: from the project only comfyrt/internal/jsonx. It must never import
// graph (schemas are independent of workflow syntax), nodes, nodes/builtin,
// compiler, executor, streampack or any cgo package.
package schema
