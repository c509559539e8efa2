package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// A small guest-side SDK for comfyrt's WASM ABI 1 (see streampack/abi.go
// and docs/streampack.md). A node implements Node; classes maps class
// names to constructors. The host-independent part lives here so that the
// kernels also build (and benchmark) as plain Go; exports_wasip1.go holds
// the //go:wasmexport glue.

// Spec describes an input or output when the node is prepared.
type Spec struct {
	Name  string `json:"name,omitempty"`
	Kind  string `json:"kind"`
	Shape []int  `json:"shape,omitempty"`
	// Const is the value when it is known when the plan is built: a
	// float64 (INT and FLOAT), a string or a bool.
	Const any `json:"const,omitempty"`
}

// Float returns the constant as a float64 (def when not constant).
func (s Spec) Float(def float64) float64 {
	if f, ok := s.Const.(float64); ok {
		return f
	}
	return def
}

// Tensor is a float32 tensor, row-major.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Value is an input or output at run time.
type Value struct {
	Kind   string
	Tensor Tensor
	Int    int64
	Float  float64
	Bool   bool
	Str    string
}

// Node is one node instance.
type Node interface {
	// Prepare checks the inputs and returns the output specs (kind and
	// shape).
	Prepare(in []Spec) ([]Spec, error)
	// Run fills the outputs (their buffers are allocated by the SDK).
	Run(in, out []Value) error
}

type request struct {
	ABI    int    `json:"abi"`
	Class  string `json:"class"`
	NodeID string `json:"node_id"`
	Inputs []Spec `json:"inputs"`
}

type slot struct {
	Ptr uint32 `json:"ptr"`
}

type outAnswer struct {
	Kind  string `json:"kind"`
	Shape []int  `json:"shape,omitempty"`
	Ptr   uint32 `json:"ptr"`
}

type answer struct {
	Error   string      `json:"error"`
	Inputs  []slot      `json:"inputs"`
	Outputs []outAnswer `json:"outputs"`
}

// instance is the prepared node with its buffers (kept alive here so the
// guest's garbage collector never frees what the host writes into).
type instance struct {
	node     Node
	in, out  []Value
	inSlots  []uint64 // per-frame scalar inputs
	outSlots []uint64 // scalar outputs
	scalarIn []int    // indices of per-frame scalar inputs
}

var current *instance

func numElems(shape []int) int {
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return 0
		}
		n *= d
	}
	return n
}

// handlePrepare answers a prepare request.
func handlePrepare(data []byte) []byte {
	a, err := prepare(data)
	if err != nil {
		a = answer{Error: err.Error()}
	}
	b, _ := json.Marshal(a)
	return b
}

func prepare(data []byte) (answer, error) {
	current = nil
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		return answer{}, fmt.Errorf("bad request: %v", err)
	}
	if req.ABI != 1 {
		return answer{}, fmt.Errorf("this guest speaks ABI 1, not %d", req.ABI)
	}
	mk, ok := classes[req.Class]
	if !ok {
		return answer{}, fmt.Errorf("this module has no class %s", req.Class)
	}
	inst := &instance{node: mk(), in: make([]Value, len(req.Inputs)), inSlots: make([]uint64, len(req.Inputs))}
	outs, err := inst.node.Prepare(req.Inputs)
	if err != nil {
		return answer{}, err
	}
	var a answer
	for i, s := range req.Inputs {
		v := Value{Kind: s.Kind}
		var ptr uint32
		switch s.Kind {
		case "IMAGE", "MASK":
			v.Tensor = Tensor{Shape: s.Shape, Data: make([]float32, numElems(s.Shape))}
			ptr = addrFloat(v.Tensor.Data)
		case "INT", "FLOAT", "BOOLEAN":
			if s.Const == nil {
				ptr = addrU64(inst.inSlots[i:])
				inst.scalarIn = append(inst.scalarIn, i)
			} else {
				switch c := s.Const.(type) {
				case float64:
					v.Float, v.Int = c, int64(c)
				case bool:
					v.Bool = c
				}
			}
		case "STRING":
			v.Str, _ = s.Const.(string)
		}
		inst.in[i] = v
		a.Inputs = append(a.Inputs, slot{ptr})
	}
	inst.out = make([]Value, len(outs))
	inst.outSlots = make([]uint64, len(outs))
	for i, s := range outs {
		v := Value{Kind: s.Kind}
		var ptr uint32
		switch s.Kind {
		case "IMAGE", "MASK":
			v.Tensor = Tensor{Shape: s.Shape, Data: make([]float32, numElems(s.Shape))}
			ptr = addrFloat(v.Tensor.Data)
		default:
			ptr = addrU64(inst.outSlots[i:])
		}
		inst.out[i] = v
		a.Outputs = append(a.Outputs, outAnswer{Kind: s.Kind, Shape: s.Shape, Ptr: ptr})
	}
	current = inst
	return a, nil
}

// handleRun runs one frame; it returns an error message or "".
func handleRun() string {
	inst := current
	if inst == nil {
		return "not prepared"
	}
	for _, i := range inst.scalarIn {
		u := inst.inSlots[i]
		v := &inst.in[i]
		switch v.Kind {
		case "INT":
			v.Int = int64(u)
			v.Float = float64(v.Int)
		case "FLOAT":
			v.Float = math.Float64frombits(u)
		case "BOOLEAN":
			v.Bool = u != 0
		}
	}
	if err := inst.node.Run(inst.in, inst.out); err != nil {
		return err.Error()
	}
	for i, v := range inst.out {
		switch v.Kind {
		case "INT":
			inst.outSlots[i] = uint64(v.Int)
		case "FLOAT":
			inst.outSlots[i] = math.Float64bits(v.Float)
		case "BOOLEAN":
			inst.outSlots[i] = 0
			if v.Bool {
				inst.outSlots[i] = 1
			}
		}
	}
	return ""
}

var errShape = errors.New("want an IMAGE [B,H,W,3]")

// imageShape checks an IMAGE input spec.
func imageShape(s Spec) ([]int, error) {
	if s.Kind != "IMAGE" || len(s.Shape) != 4 || s.Shape[3] != 3 || numElems(s.Shape) == 0 {
		return nil, fmt.Errorf("input %s: %w", s.Name, errShape)
	}
	return s.Shape, nil
}
