package streampack

import (
	"context"

	"comfyrt/nodes"
)

// ABIVersion is the WASM host ABI version this comfyrt implements; the
// ABI itself is documented and implemented in streampack/wasmv1.
const ABIVersion = 1

// GrantClock is the grant that gives a module the real clocks.
const GrantClock = "clock"

// WASMEngine compiles the WASM modules of packs. streampack/wasmv1 is the
// implementation (the only wazero code); it is injected through
// Options.WASM so that this package stays free of the runtime.
type WASMEngine interface {
	// Compile checks a module (imports, ABI exports and version) and
	// compiles it under the sandbox policy of m. Errors wrap
	// ErrABIVersion when the module does not speak ABIVersion.
	Compile(ctx context.Context, name string, m Module, data []byte) (WASMModule, error)
}

// WASMModule is a compiled module, shared by every kernel made from it.
type WASMModule interface {
	// Factory makes the kernels of a class the module implements: class
	// is the manifest's class name (what the guest is asked for), inputs
	// and types the names and types of the class's input slots, outputs
	// its output types.
	Factory(class string, inputs, types, outputs []string) nodes.Factory
	// Close releases the compiled code; kernels must be closed first.
	Close() error
}
