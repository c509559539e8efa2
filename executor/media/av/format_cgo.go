//go:build cgo

package av

// #include <stdlib.h>
// #include "format.h"
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// cDict is a C AVDictionary built from Go strings.
type cDict struct{ d *C.AVDictionary }

func newCDict(m map[string]string) (*cDict, error) {
	d := &cDict{}
	for k, v := range m {
		ck, cv := C.CString(k), C.CString(v)
		r := C.crt_dict_set(&d.d, ck, cv)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if r < 0 {
			d.free()
			return nil, fmt.Errorf("option %s=%s: %w", k, v, astiav.Error(r))
		}
	}
	return d, nil
}

func (d *cDict) free() { C.av_dict_free(&d.d) }

// leftovers lists the options nobody consumed.
func (d *cDict) leftovers() []string {
	var out []string
	var e *C.AVDictionaryEntry
	empty := C.CString("")
	defer C.free(unsafe.Pointer(empty))
	for {
		e = C.av_dict_get(d.d, empty, e, C.AV_DICT_IGNORE_SUFFIX)
		if e == nil {
			return out
		}
		out = append(out, C.GoString(e.key))
	}
}

// fcPtr returns the AVFormatContext behind a go-astiav FormatContext.
// go-astiav v0.16.0 (pinned in go.mod) declares FormatContext as
// struct{ c *C.struct_AVFormatContext } and exports no accessor; fcPtr reads
// that field and checks it against the public NbStreams.
func fcPtr(fc *astiav.FormatContext) (*C.AVFormatContext, error) {
	p := *(**C.AVFormatContext)(unsafe.Pointer(fc))
	if p == nil || int(C.crt_nb_streams(p)) != fc.NbStreams() {
		return nil, errors.New("av: go-astiav FormatContext layout changed (expected v0.16.0)")
	}
	return p, nil
}

func avioOpen(fc *astiav.FormatContext, url string, opts *cDict) error {
	p, err := fcPtr(fc)
	if err != nil {
		return err
	}
	cu := C.CString(url)
	defer C.free(unsafe.Pointer(cu))
	if r := C.crt_avio_open(p, cu, &opts.d); r < 0 {
		return astiav.Error(r)
	}
	return nil
}

func avioClose(fc *astiav.FormatContext) {
	if p, err := fcPtr(fc); err == nil {
		C.crt_avio_close(p)
	}
}

// canHold reports whether the output format can store the codec (true when
// FFmpeg does not know).
func canHold(fc *astiav.FormatContext, id astiav.CodecID) bool {
	p, err := fcPtr(fc)
	if err != nil {
		return true
	}
	return C.crt_query_codec(p, C.int(id)) != 0
}

// interrupter is FFmpeg's interrupt flag for one format context; safe to
// set from any goroutine.
type interrupter struct{ p *C.int }

func newInterrupter(fc *astiav.FormatContext) (*interrupter, error) {
	p, err := fcPtr(fc)
	if err != nil {
		return nil, err
	}
	i := C.crt_intr_new(p)
	if i == nil {
		return nil, errors.New("av: out of memory")
	}
	return &interrupter{p: i}, nil
}

func (i *interrupter) Interrupt() { C.crt_intr_set(i.p, 1) }
func (i *interrupter) Resume()    { C.crt_intr_set(i.p, 0) }

// free releases the flag; only after the format context is gone.
func (i *interrupter) free() {
	C.free(unsafe.Pointer(i.p))
	i.p = nil
}
