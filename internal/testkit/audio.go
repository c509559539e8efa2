package testkit

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
)

// WriteWAV writes 16-bit PCM: chans channels at rate, the same sine of freq
// Hz and amplitude 0.5 in every channel, n samples per channel.
func WriteWAV(t testing.TB, path string, rate, chans, n int, freq float64) {
	t.Helper()
	data := make([]byte, n*chans*2)
	for i := range n {
		v := int16(math.Round(0.5 * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := range chans {
			binary.LittleEndian.PutUint16(data[(i*chans+c)*2:], uint16(v))
		}
	}
	h := make([]byte, 44)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(data)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(chans))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*chans*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(chans*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(data)))
	if err := os.WriteFile(path, append(h, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReadWAV reads a 16-bit PCM WAV (any chunk order): its rate, channels and
// the first channel's samples scaled to -1..1.
func ReadWAV(t testing.TB, path string) (rate, chans int, x []float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s is not a WAV file", path)
	}
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(len(b), p+8+size)]
		switch id {
		case "fmt ":
			if binary.LittleEndian.Uint16(body[0:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				t.Fatalf("%s: not 16-bit PCM", path)
			}
			chans, rate = int(binary.LittleEndian.Uint16(body[2:])), int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			for i := 0; i+2*chans <= len(body); i += 2 * chans {
				x = append(x, float64(int16(binary.LittleEndian.Uint16(body[i:])))/32768)
			}
		}
		p += 8 + size + size%2
	}
	if rate == 0 || chans == 0 {
		t.Fatalf("%s: no fmt chunk", path)
	}
	return rate, chans, x
}

// Peak is the frequency in [100, 2000] Hz (1 Hz steps) where the
// Hann-windowed x has the most energy (Goertzel), and the signal's rms: the
// pitch checks of the audio tests.
func Peak(x []float64, rate int) (hz, rms float64) {
	best := 0.0
	for f := 100; f <= 2000; f++ {
		w := 2 * math.Cos(2*math.Pi*float64(f)/float64(rate))
		var s1, s2 float64
		for i, v := range x {
			v *= 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(len(x)))
			s1, s2 = v+w*s1-s2, s1
		}
		if p := s1*s1 + s2*s2 - w*s1*s2; p > best {
			best, hz = p, float64(f)
		}
	}
	for _, v := range x {
		rms += v * v
	}
	return hz, math.Sqrt(rms / float64(len(x)))
}
