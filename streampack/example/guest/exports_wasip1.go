//go:build wasip1

package main

import "unsafe"

// The ABI 1 exports. Buffers handed to the host stay referenced from Go
// variables, so the guest's collector keeps them (it does not move
// objects).

var reqBuf, ansBuf, errBuf []byte

//go:wasmexport comfyrt_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport comfyrt_v1_malloc
func malloc(n int32) int32 {
	if n <= 0 {
		return 0
	}
	reqBuf = make([]byte, n)
	return int32(uintptr(unsafe.Pointer(&reqBuf[0])))
}

//go:wasmexport comfyrt_v1_prepare
func prepareExport(ptr, n int32) int64 {
	if ptr == 0 || n <= 0 || len(reqBuf) < int(n) {
		ansBuf = []byte(`{"error":"bad request buffer"}`)
	} else {
		ansBuf = handlePrepare(reqBuf[:n])
	}
	return packBuf(ansBuf)
}

//go:wasmexport comfyrt_v1_run
func runExport() int64 {
	msg := handleRun()
	if msg == "" {
		return 0
	}
	errBuf = []byte(msg)
	return packBuf(errBuf)
}

func packBuf(b []byte) int64 {
	return int64(uintptr(unsafe.Pointer(&b[0])))<<32 | int64(len(b))
}

func addrFloat(s []float32) uint32 { return uint32(uintptr(unsafe.Pointer(&s[0]))) }
func addrU64(s []uint64) uint32    { return uint32(uintptr(unsafe.Pointer(&s[0]))) }
