//go:build cgo

package av

// #include "scale.h"
import "C"

import (
	"errors"
	"unsafe"

	"github.com/asticode/go-astiav"

	"comfyrt/nodes/value"
)

// errNoPixelFormat and friends are the conversion errors the helper turns
// swscale's assertions into.
var (
	errPixelFormat = errors.New("frame has no usable pixel format (for example an mp4 with its index at the end read from a pipe)")
	errFrameSize   = errors.New("frame has an invalid size")
	errScale       = errors.New("swscale failed")
	errCrop        = errors.New("invalid crop rectangle")
)

func helperErr(r C.int) error {
	switch r {
	case 0:
		return nil
	case C.CRT_EFMT:
		return errPixelFormat
	case C.CRT_ESIZE:
		return errFrameSize
	case C.CRT_ESWS:
		return errScale
	case C.CRT_ECROP:
		return errCrop
	}
	return astiav.Error(r)
}

func cFrame(f *astiav.Frame) *C.AVFrame { return (*C.AVFrame)(f.UnsafePointer()) }

// scaler owns a cached swscale context. threads is its slice-thread count
// (0: one per CPU, as the ffmpeg CLI's filters); set it before first use.
type scaler struct {
	s       *C.crt_sws
	threads int
	bgr     []byte // fromRGB's BGR24 copy
}

func (s *scaler) free() { C.crt_sws_free(&s.s) }

func (s *scaler) ctx() (*C.crt_sws, error) {
	if s.s == nil {
		if s.s = C.crt_sws_new(C.int(s.threads)); s.s == nil {
			return nil, errors.New("av: out of memory")
		}
	}
	return s.s, nil
}

// toRGB converts src (cropped to the rectangle) into dst, a dw×dh RGB24
// buffer. src is modified; the caller unrefs it.
func (s *scaler) toRGB(src *astiav.Frame, cx, cy, cw, ch int, dst []byte, dw, dh int) error {
	if len(dst) < dw*dh*3 || dw <= 0 || dh <= 0 {
		return errFrameSize
	}
	c, err := s.ctx()
	if err != nil {
		return err
	}
	return helperErr(C.crt_to_rgb(c, cFrame(src), C.int(cx), C.int(cy), C.int(cw), C.int(ch),
		(*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(dw), C.int(dh)))
}

// fromRGB converts the sw×sh RGB24 picture src into dst (allocated, with
// format and size set).
//
// swscale (FFmpeg 5.1) converts BGR24, not RGB24, to 4:2:0 YUV of the same
// even size with a special-cased converter (box-filtered chroma, the same
// BT.601 matrix) that costs about half the general path at 720p; for those
// conversions the picture is first swapped to BGR in s.bgr.
func (s *scaler) fromRGB(src []byte, sw, sh int, dst *astiav.Frame) error {
	return s.fromPacked(src, sw, sh, dst, true)
}

// fromPacked is fromRGB, taking the BGR24 path only when fast is set.
func (s *scaler) fromPacked(src []byte, sw, sh int, dst *astiav.Frame, fast bool) error {
	if sw <= 0 || sh <= 0 || len(src) < sw*sh*3 {
		return errFrameSize
	}
	c, err := s.ctx()
	if err != nil {
		return err
	}
	bgr := 0
	if pf := dst.PixelFormat(); fast && (pf == astiav.PixelFormatYuv420P || pf == astiav.PixelFormatYuvj420P) &&
		dst.Width() == sw && dst.Height() == sh && sw%2 == 0 && sh%2 == 0 {
		n := sw * sh * 3
		if cap(s.bgr) < n {
			s.bgr = make([]byte, n)
		}
		s.bgr = s.bgr[:n]
		value.SwapRB(s.bgr, src[:n])
		src, bgr = s.bgr, 1
	}
	return helperErr(C.crt_from_rgb(c, (*C.uint8_t)(unsafe.Pointer(&src[0])), C.int(bgr), C.int(sw), C.int(sh), cFrame(dst)))
}
