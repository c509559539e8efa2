//go:build cgo

package av

import (
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"
)

// freer is an astiav object released with Free (a frame, a packet, a
// codec context, a format context).
type freer interface {
	comparable
	Free()
}

// release frees each of the objects the fields hold and clears the
// fields, so that freeing twice is harmless; an empty field is skipped.
func release[T freer](fields ...*T) {
	var none T
	for _, f := range fields {
		if *f != none {
			(*f).Free()
			*f = none
		}
	}
}

// setVideoCodec sets what every video encoder here shares: the w×h
// size, YUV 4:2:0, square pixels and the time base tb.
func setVideoCodec(cc *astiav.CodecContext, w, h int, tb astiav.Rational) {
	cc.SetWidth(w)
	cc.SetHeight(h)
	cc.SetPixelFormat(astiav.PixelFormatYuv420P)
	cc.SetTimeBase(tb)
	cc.SetSampleAspectRatio(astiav.NewRational(1, 1))
}

// errEncoderOption marks an encoder option FFmpeg refused (as opposed to
// the encoder itself failing to open).
var errEncoderOption = errors.New("encoder option")

// openEncoder opens cc as enc with the encoder options eo.
func openEncoder(cc *astiav.CodecContext, enc *astiav.Codec, eo map[string]string) error {
	ed := astiav.NewDictionary()
	defer ed.Free()
	for k, v := range eo {
		if err := ed.Set(k, v, 0); err != nil {
			return fmt.Errorf("%w %s: %w", errEncoderOption, k, err)
		}
	}
	return cc.Open(enc, ed)
}

// newYUVFrame allocates a w×h YUV 4:2:0 frame with its buffer.
func newYUVFrame(w, h int) (*astiav.Frame, error) {
	f := astiav.AllocFrame()
	f.SetWidth(w)
	f.SetHeight(h)
	f.SetPixelFormat(astiav.PixelFormatYuv420P)
	if err := f.AllocBuffer(0); err != nil {
		f.Free()
		return nil, err
	}
	return f, nil
}

// paramDecoder allocates a decoder for par's codec, set from par (not yet
// opened), and returns it with the codec to open it as.
func paramDecoder(par *astiav.CodecParameters) (*astiav.CodecContext, *astiav.Codec, error) {
	dc := astiav.FindDecoder(par.CodecID())
	if dc == nil {
		return nil, nil, fmt.Errorf("no decoder for %s", par.CodecID())
	}
	cc := astiav.AllocCodecContext(dc)
	if cc == nil {
		return nil, nil, errors.New("cannot allocate a decoder")
	}
	if err := par.ToCodecContext(cc); err != nil {
		cc.Free()
		return nil, nil, fmt.Errorf("decoder parameters: %w", err)
	}
	return cc, dc, nil
}
