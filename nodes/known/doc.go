// Package known is every node class comfyrt knows a schema for, whether or
// not it has a kernel: the ComfyUI core classes (a table generated from a
// real GET /object_info dump by ./gen, see core_gen.go for the dump and its
// ComfyUI version), the classes of the custom node packs real-time
// workflows use (packs.json, written by hand from the packs' sources), and
// the built-in classes comfyrt runs (nodes/builtin, whose hand-written
// schemas win). Schemas is the one set every command starts from.
//
// Combos that ComfyUI lists from one of its folders (checkpoints, loras,
// input pictures, TensorRT engines, …) are open lists: they carry
// schema.FolderOption and accept any file name (graph/validate).
//
// Imports: nodes/schema and nodes/builtin (for its schemas). It must never
// import graph, compiler, executor, streampack or a cgo package.
package known
