// Package wasmv1 runs the WASM nodes of stream packs under wazero: it is
// the only package that imports wazero, and it implements host ABI 1
// (streampack.ABIVersion). A *Runtime is the streampack.WASMEngine that
// callers put in streampack.Options.WASM.
//
// # Sandbox
//
// Each module gets WASI with no file system (no preopened folders), no
// network, no arguments or environment, fake clocks unless the manifest
// grants "clock", a memory cap (memory_mb) and a per-call deadline
// (timeout_ms, enforced by wazero's close-on-context-done, which inserts
// termination checks in loops). Compiled code is cached (Runtime). Each
// kernel has its own instance; a trap, a deadline, memory exhaustion or
// an ABI violation makes Run return a *GuestError for that frame, and the
// next Run starts a fresh instance.
//
// # ABI 1 (unstable until comfyrt 1.0; names carry the version)
//
// A module is a WASI preview 1 reactor (Go: GOOS=wasip1 GOARCH=wasm go
// build -buildmode=c-shared, functions marked //go:wasmexport). It may
// import only wasi_snapshot_preview1 functions, and it exports its memory
// as "memory" and these functions:
//
//	comfyrt_abi_version() i32            returns 1
//	comfyrt_v1_malloc(size i32) i32      a buffer of size bytes the guest
//	                                     keeps until the next prepare call
//	comfyrt_v1_prepare(ptr, len i32) i64 reads a JSON request from
//	                                     [ptr, ptr+len), returns the JSON
//	                                     answer as (ptr<<32 | len)
//	comfyrt_v1_run() i64                 runs one frame: 0, or an error
//	                                     message as (ptr<<32 | len)
//
// The host runs _initialize (when exported) after instantiating a module,
// then for each node: malloc + prepare, once when the plan is built and
// again when an input spec changes; then run once per frame. Each node has
// its own instance; a guest serves one node per instance.
//
// Prepare request (one entry per input slot: required then optional
// inputs in input_order, hidden ones excluded):
//
//	{"abi":1, "class":"ColorGrade", "node_id":"7",
//	 "inputs":[{"name":"image","kind":"IMAGE","shape":[1,512,512,3]},
//	           {"name":"brightness","kind":"FLOAT","const":0.1},
//	           {"name":"gain","kind":"FLOAT"},
//	           {"name":"mask","kind":"NONE"}]}
//
// "const" is present when the value is known when the plan is built (a
// widget literal); otherwise the value comes per frame. STRING inputs are
// always const. Kinds: IMAGE, MASK, INT, FLOAT, BOOLEAN, STRING, NONE (an
// optional input left unconnected).
//
// Prepare answer:
//
//	{"error":"",                      // non-empty: the node refuses
//	 "inputs":[{"ptr":1024},{"ptr":0},{"ptr":2048},{"ptr":0}],
//	 "outputs":[{"kind":"IMAGE","shape":[1,512,512,3],"ptr":4096}]}
//
// inputs[i].ptr is where the host writes input i before each run: a
// tensor as float32 little-endian, row-major (shape·4 bytes); an INT as
// int64, a FLOAT as float64 bits, a BOOLEAN as 0/1, each in 8 little-endian
// bytes. A ptr of 0 means "not needed per frame" (allowed for scalars and
// NONE, never for tensors). outputs[i] gives each output's kind (the
// class's declared type), its shape and where the host reads it after each
// run, in the same encodings. The guest owns every buffer and keeps them
// for the life of the instance; the host checks that each lies inside the
// guest's memory and that kinds and shapes fit the class (IMAGE rank 4
// with 3 channels, MASK rank 3). Per frame, then, the host copies each
// tensor input in once and each tensor output out once: there is no other
// copy, no allocation on either side, and no JSON.
//
// Failures: a trap, a deadline (timeout_ms per run call, ten times that for
// prepare), memory exhaustion (memory_mb) or proc_exit make Run return an
// error for that frame and discard the instance; the next Run instantiates
// and prepares a fresh one.
//
// A later, incompatible ABI gets new export names (comfyrt_v2_*), and
// comfyrt_abi_version tells the host which one a module speaks.
//
// Imports: streampack, nodes, nodes/value; never compiler or executor.
package wasmv1
