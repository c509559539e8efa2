//go:build cgo

package av

import (
	"testing"

	"comfyrt/executor/media"
)

// TestVideoCodecRoundTrip encodes moving gradients with each WebRTC codec,
// decodes the packets one by one and checks the pictures and timestamps
// that come back.
func TestVideoCodecRoundTrip(t *testing.T) {
	for _, codec := range []string{"vp8", "h264"} {
		t.Run(codec, func(t *testing.T) {
			const w, h = 160, 120
			tb := media.Rational{Num: 1, Den: 90000}
			enc, err := NewVideoEncoder(VideoEncoderOptions{Codec: codec, Width: w, Height: h, TimeBase: tb})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := NewVideoDecoder(codec)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			var in, out media.Frame
			decoded := 0
			for i := range 10 {
				in.Resize(w, h)
				for y := range h {
					for x := range w {
						o := (y*w + x) * 3
						in.RGB[o], in.RGB[o+1], in.RGB[o+2] = byte(x+i*4), byte(y*2), byte(200-x)
					}
				}
				in.PTS, in.TimeBase, in.Index = int64(i)*3000, tb, int64(i)
				err := enc.Encode(&in, i == 5, func(p Packet) error {
					if i == 0 && !p.Key || i == 5 && !p.Key {
						t.Errorf("frame %d: not a keyframe", i)
					}
					got, err := dec.Decode(p.Data, p.PTS, &out)
					if err != nil {
						return err
					}
					if !got {
						return nil
					}
					decoded++
					if out.PTS != p.PTS || out.Width != w || out.Height != h {
						t.Errorf("decoded pts %d %dx%d, want %d %dx%d", out.PTS, out.Width, out.Height, p.PTS, w, h)
					}
					if d := meanAbs(out.RGB, in.RGB); d > 6 {
						t.Errorf("frame %d: mean abs difference %.2f", i, d)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if decoded < 9 {
				t.Fatalf("%d of 10 frames decoded", decoded)
			}
			if _, err := dec.Decode([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 0, &out); err == nil && codec == "vp8" {
				t.Error("garbage VP8 packet decoded without an error")
			}
			in.PTS = 0
			if err := enc.Encode(&in, false, func(Packet) error { return nil }); err == nil {
				t.Error("a repeated pts was encoded")
			}
		})
	}
}

func meanAbs(a, b []byte) float64 {
	s := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		s += max(d, -d)
	}
	return float64(s) / float64(len(a))
}

func TestVideoCodecErrors(t *testing.T) {
	if _, err := NewVideoDecoder("av1"); err == nil {
		t.Error("av1 decoder opened")
	}
	if _, err := NewVideoEncoder(VideoEncoderOptions{Codec: "vp8", Width: 15, Height: 10}); err == nil {
		t.Error("odd size accepted")
	}
	if _, err := NewVideoEncoder(VideoEncoderOptions{Codec: "mpeg2", Width: 16, Height: 16}); err == nil {
		t.Error("unknown codec accepted")
	}
}
