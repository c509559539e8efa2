// Package census measures how much of a corpus of real ComfyUI workflows
// comfyrt runs: per workflow, whether it compiles (and then runs once on a
// picture), or which classes stop it (missing_node_type: no schema;
// missing_node_implementation: a schema but no kernel), or the first other
// error; per family of workflows (image FX, depth, diffusion,
// segmentation, audio, text, other: classified by their classes), the
// counts. Its test runs it over ../shared/corpus (see census_test.go and
// `make census`).
//
// It may import the compiler, graph and nodes; nothing imports it but its
// test.
package census
