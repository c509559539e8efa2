//go:build !wasip1

package main

// Outside WASM the kernels run as plain Go (tests, benchmarks): there are
// no host-visible addresses.

func addrFloat([]float32) uint32 { return 0 }
func addrU64([]uint64) uint32    { return 0 }

// The ABI entry points are exported only in WASM builds; keep them
// referenced so that host builds (vet, staticcheck) check the same code.
var _ = []any{handlePrepare, handleRun}
