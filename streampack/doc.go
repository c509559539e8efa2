// Package streampack loads stream packs — bundles of node schemas, ONNX
// models and sandboxed WASM nodes that orchestrators load — checks their
// hashes and paths, and runs WASM nodes through wazero (the only wazero
// importer) under a sandbox policy.
//
// Package streampack may import nodes, nodes/schema, nodes/value and
// graph/diag; never compiler or executor.
//
// Status: arrives with issue 5.
package streampack
