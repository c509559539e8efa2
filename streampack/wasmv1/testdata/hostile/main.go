//go:build wasip1

// Command hostile is a WASM guest that misbehaves on purpose, for the
// sandbox tests of streampack. Every class takes (image IMAGE, trigger
// FLOAT per frame) and copies the image while trigger < 0.5; with
// trigger ≥ 0.5 it does what its class says. Escape also outputs two INTs:
// how many escape attempts succeeded and the Unix time it sees.
package main

import (
	"encoding/json"
	"math"
	"net"
	"os"
	"time"
	"unsafe"
)

func main() {}

var (
	reqBuf, ansBuf, errBuf []byte
	class                  string
	img, out               []float32
	trigger                [1]uint64
	ints                   [2]uint64
	hog                    [][]byte
)

//go:wasmexport comfyrt_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport comfyrt_v1_malloc
func malloc(n int32) int32 {
	reqBuf = make([]byte, n)
	return int32(uintptr(unsafe.Pointer(&reqBuf[0])))
}

func addr[T any](s []T) uint32 { return uint32(uintptr(unsafe.Pointer(&s[0]))) }

func pack(b []byte) int64 { return int64(addr(b))<<32 | int64(len(b)) }

//go:wasmexport comfyrt_v1_prepare
func prepare(ptr, n int32) int64 {
	var req struct {
		Class  string
		Inputs []struct {
			Kind  string
			Shape []int
		}
	}
	if err := json.Unmarshal(reqBuf[:n], &req); err != nil {
		panic(err)
	}
	class = req.Class
	shape := req.Inputs[0].Shape
	size := 1
	for _, d := range shape {
		size *= d
	}
	img, out = make([]float32, size), make([]float32, size)
	type o struct {
		Kind  string `json:"kind"`
		Shape []int  `json:"shape,omitempty"`
		Ptr   uint32 `json:"ptr"`
	}
	outs := []o{{"IMAGE", shape, addr(out)}}
	if class == "Escape" {
		outs = append(outs, o{"INT", nil, addr(ints[:])}, o{"INT", nil, addr(ints[1:])})
	}
	ans := map[string]any{
		"error":   "",
		"inputs":  []map[string]uint32{{"ptr": addr(img)}, {"ptr": addr(trigger[:])}},
		"outputs": outs,
	}
	switch class {
	case "BadJSON":
		ansBuf = []byte(`{"error": "", "outputs": [`)
		return pack(ansBuf)
	case "BadPtr":
		outs[0].Ptr = 0xFFFFFF00
	case "BadCount":
		ans["outputs"] = []o{}
	case "BadKind":
		outs[0].Kind = "MASK"
	case "HugeAnswer":
		return int64(addr(reqBuf))<<32 | 0x7FFFFFFF
	}
	ansBuf, _ = json.Marshal(ans)
	return pack(ansBuf)
}

//go:wasmexport comfyrt_v1_run
func run() int64 {
	if math.Float64frombits(trigger[0]) < 0.5 {
		copy(out, img)
		return 0
	}
	switch class {
	case "Loop":
		for {
		}
	case "Bomb":
		for {
			hog = append(hog, make([]byte, 128<<20))
		}
	case "OOB":
		p := (*[8]byte)(unsafe.Pointer(uintptr(0xFFFFFFF0)))
		p[7] = 1
	case "Panic":
		panic("guest panics on purpose")
	case "BadRunMsg":
		return int64(0x7FFFFF00)<<32 | 64
	case "Escape":
		n := 0
		if _, err := os.ReadFile("/etc/passwd"); err == nil {
			n++
		}
		if f, err := os.Create("/tmp/comfyrt-escape"); err == nil {
			f.Close()
			n++
		}
		if c, err := net.Dial("tcp", "127.0.0.1:80"); err == nil {
			c.Close()
			n++
		}
		if os.Getenv("HOME") != "" || len(os.Args) > 1 {
			n++
		}
		ints[0] = uint64(n)
		ints[1] = uint64(time.Now().Unix())
		copy(out, img)
		return 0
	}
	errBuf = []byte("unknown class " + class)
	return pack(errBuf)
}
