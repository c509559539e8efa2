//go:build cgo

package av

// #include "resample.h"
import "C"

import (
	"fmt"

	"github.com/asticode/go-astiav"
)

// resampler converts decoded audio to the AAC encoder's format and cuts it
// into frames of the encoder's size.
type resampler struct{ r *C.crt_ar }

func newResampler(f astiav.SampleFormat, rate, channels int) (*resampler, error) {
	r := C.crt_ar_new(C.int(f), C.int(rate), C.int(channels))
	if r == nil {
		return nil, fmt.Errorf("cannot set up audio conversion to %s %d Hz %d channels", f, rate, channels)
	}
	return &resampler{r: r}, nil
}

// push converts f into the buffer; nil flushes the resampler's delay.
func (r *resampler) push(f *astiav.Frame) error {
	var p *C.AVFrame
	if f != nil {
		p = cFrame(f)
	}
	if ret := C.crt_ar_push(r.r, p); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

// buffered is how many converted samples wait.
func (r *resampler) buffered() int { return int(C.crt_ar_size(r.r)) }

// read puts the next n buffered samples into out (replacing its buffer).
func (r *resampler) read(out *astiav.Frame, n int) error {
	if ret := C.crt_ar_read(r.r, cFrame(out), C.int(n)); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

func (r *resampler) free() { C.crt_ar_free(&r.r) }
