//go:build cgo

package av

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"comfyrt/executor/media"
	"comfyrt/executor/media/mpegts"
	"comfyrt/internal/testkit"
)

// liveinTS makes an MPEG-TS clip of n frames at 30 fps with the ffmpeg
// CLI: codec is an encoder name, extra are output options (PIDs, offset).
func liveinTS(t *testing.T, n int, codec string, extra ...string) []byte {
	t.Helper()
	name := testkit.Clip(t, filepath.Join(t.TempDir(), "clip.ts"), testkit.ClipOptions{
		Frames: n, Codec: codec, GOP: 30, Extra: extra, Format: "mpegts", SkipFail: true})
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chainAll reads every frame of data through a Chain fed by a pipe and
// returns the frames' PTS (through media.NewMonotonic), the decode errors
// and the programs opened.
func chainAll(t *testing.T, data []byte) (pts []int64, errs, programs int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = w.Write(data)
		w.Close()
	}()
	c, err := OpenChain(r, SourceOptions{Format: "mpegts"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer c.Close()
	if c.Info().Width != 320 || c.Info().Height != 240 {
		t.Fatalf("size %dx%d", c.Info().Width, c.Info().Height)
	}
	src := media.NewMonotonic(c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var f media.Frame
	for {
		err := src.ReadFrame(ctx, &f)
		if errors.Is(err, io.EOF) {
			break
		}
		var de *DecodeError
		if errors.As(err, &de) {
			errs++
			continue
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(pts), err)
		}
		if f.Width != 320 || f.Height != 240 {
			t.Fatalf("frame %d: %dx%d", len(pts), f.Width, f.Height)
		}
		pts = append(pts, f.PTS)
	}
	return pts, errs, c.programCount()
}

func increasing(t *testing.T, pts []int64) {
	t.Helper()
	for i := 1; i < len(pts); i++ {
		if pts[i] <= pts[i-1] {
			t.Fatalf("pts %d after %d at frame %d", pts[i], pts[i-1], i)
		}
	}
}

// A publisher restart mid-stream: other PIDs and PMT PID, or another
// codec on the same PIDs. Every frame of both programs comes out, PTS
// increasing, at the first program's size.
func TestLiveinChainProgramChange(t *testing.T) {
	a := liveinTS(t, 60, "libx264")
	cases := []struct {
		name  string
		codec string
		extra []string
	}{
		{"pids", "libx264", []string{"-mpegts_start_pid", "0x200", "-mpegts_pmt_start_pid", "0x1100", "-s", "640x360"}},
		{"hevc", "libx265", nil},
		{"mpeg2", "mpeg2video", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := liveinTS(t, 60, tc.codec, tc.extra...)
			pts, errs, programs := chainAll(t, append(append([]byte(nil), a...), b...))
			if programs != 2 {
				t.Errorf("%d programs opened, want 2", programs)
			}
			if len(pts) != 120 {
				t.Errorf("%d frames, want 120 (%d decode errors)", len(pts), errs)
			}
			increasing(t, pts)
		})
	}
}

// The same program twice (a PAT/PMT repeated, a timestamp reset) is not a
// change; a damaged PMT (bad CRC) is not one either.
func TestLiveinChainSameProgram(t *testing.T) {
	a := liveinTS(t, 30, "libx264")
	data := append(append([]byte(nil), a...), a...)
	// Damage the second copy's first PMT (PID 0x1000) body: its CRC fails.
	for i := len(a); i+mpegts.PacketSize <= len(data); i += mpegts.PacketSize {
		if int(data[i+1]&0x1f)<<8|int(data[i+2]) == 0x1000 {
			data[i+20] ^= 0xff
			break
		}
	}
	pts, _, programs := chainAll(t, data)
	if programs != 1 {
		t.Errorf("%d programs opened, want 1", programs)
	}
	if len(pts) < 59 {
		t.Errorf("%d frames, want 60", len(pts))
	}
	increasing(t, pts)
}

// Input that is not MPEG-TS passes through as one program.
func TestLiveinChainNotTS(t *testing.T) {
	name := testkit.Clip(t, filepath.Join(t.TempDir(), "clip.nut"), testkit.ClipOptions{Size: "160x120", Frames: 20, SkipFail: true})
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenChain(bytes.NewReader(data), SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var f media.Frame
	n := 0
	for c.ReadFrame(context.Background(), &f) == nil {
		n++
	}
	if n != 20 {
		t.Errorf("%d frames, want 20", n)
	}
}
