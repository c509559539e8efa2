// Package streampack loads stream packs — bundles of node schemas, ONNX
// model bindings and sandboxed WebAssembly nodes — and registers their
// node classes into a nodes.Registry. It is the only package that imports
// wazero.
//
// # Packs
//
// A pack is a folder or a .tar.gz holding a pack.json manifest (Manifest;
// the format is documented in docs/streampack.md with a JSON Schema). Load
// reads a pack read-only and refuses it, with an error that names the file
// (*FileError), when a module or model fails its size or sha256 check, a
// path escapes the pack (.., absolute, a symlink leading out, a link entry
// in an archive), an archive expands beyond Options.MaxBytes, the manifest
// or WASM ABI version is not supported, the manifest gives a key twice in
// one object (equal ignoring case: encoding/json matches fields so) or
// spells a field with another case, or the pack needs another comfyrt version; a refused archive
// leaves nothing of its expansion behind. Seal writes the sizes and sha256
// of a pack folder's files into its manifest (a manifest without them is
// ErrUnsealed). A Set holds several packs and refuses two that define the same
// class unless the operator gave one of them a namespace. A Loader caches
// loaded packs so that every stream shares one copy (and one compiled copy
// of each module).
//
// # WASM nodes
//
// WASM modules run under wazero with WASI but no file system, no network,
// no environment, no real clock unless the manifest grants "clock", a
// memory cap (memory_mb) and a per-call deadline (timeout_ms, through
// wazero's close-on-context-done). Each kernel has its own module instance.
// A trap, a timeout or memory exhaustion makes Run return an error for that
// frame (ErrGuestTrap, ErrGuestTimeout, ErrGuestExit); the next Run starts a
// fresh instance, so the stream goes on. The host ABI is versioned: ABI 1
// is described in abi.go (export names comfyrt_v1_*), and a guest's
// comfyrt_abi_version export must return a version this host supports.
//
// # ONNX bindings
//
// A class bound to a model runs through the compiler's generic image-model
// kernels (ONNXModelLoader + ONNXImageModel), looked up by class name in
// the registry the pack registers into, so common image models need no
// code.
//
// Imports: nodes, nodes/schema, nodes/value, nodes/engine and internal
// leaves; never compiler or executor (internal/archtest checks it).
package streampack
