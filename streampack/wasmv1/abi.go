package wasmv1

// Export names of ABI 1.
const (
	exportABIVersion = "comfyrt_abi_version"
	exportMalloc     = "comfyrt_v1_malloc"
	exportPrepare    = "comfyrt_v1_prepare"
	exportRun        = "comfyrt_v1_run"
	exportMemory     = "memory"
	wasiModule       = "wasi_snapshot_preview1"
)

// Request and answer of comfyrt_v1_prepare.
type abiRequest struct {
	ABI    int           `json:"abi"`
	Class  string        `json:"class"`
	NodeID string        `json:"node_id,omitempty"`
	Inputs []abiInputReq `json:"inputs"`
}

type abiInputReq struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Shape []int  `json:"shape,omitempty"`
	Const any    `json:"const,omitempty"`
}

type abiAnswer struct {
	Error   string         `json:"error"`
	Inputs  []abiBuffer    `json:"inputs"`
	Outputs []abiOutputAns `json:"outputs"`
}

type abiBuffer struct {
	Ptr uint32 `json:"ptr"`
}

type abiOutputAns struct {
	Kind  string `json:"kind"`
	Shape []int  `json:"shape,omitempty"`
	Ptr   uint32 `json:"ptr"`
}
