package wasmv1

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Tensors cross into guest memory as little-endian float32. On a
// little-endian host (amd64, arm64) that is a plain memmove of the tensor's
// bytes; unsafe is confined to these two functions.

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// putFloats writes src into dst (len(dst) == 4·len(src)).
func putFloats(dst []byte, src []float32) {
	if len(src) == 0 {
		return
	}
	if littleEndian {
		copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), len(src)*4))
		return
	}
	for i, f := range src {
		binary.LittleEndian.PutUint32(dst[i*4:], math.Float32bits(f))
	}
}

// getFloats reads dst from src (len(src) == 4·len(dst)).
func getFloats(dst []float32, src []byte) {
	if len(dst) == 0 {
		return
	}
	if littleEndian {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(dst)*4), src)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[i*4:]))
	}
}
