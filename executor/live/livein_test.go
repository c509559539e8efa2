package live_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"comfyrt/executor/live"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/internal/testkit"
)

// liveinClip makes an MPEG-TS clip of secs seconds at 30 fps (a keyframe
// every second): src is a lavfi source ("testsrc2", "color=c=red"), codec
// an encoder, extra more output options (PIDs).
func liveinClip(t *testing.T, src string, secs int, codec string, extra ...string) []byte {
	t.Helper()
	name := testkit.Clip(t, filepath.Join(t.TempDir(), "clip.ts"), testkit.ClipOptions{
		Source: src, Frames: secs * 30, Codec: codec, GOP: 30, Extra: extra, Format: "mpegts"})
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// liveinDamage damages the TS headers (PID and flags of every third
// packet) and the PES headers (flags, lengths and timestamps) of seg.
func liveinDamage(seg []byte) []byte {
	d := append([]byte(nil), seg...)
	x := uint32(12345)
	rnd := func() byte { x = x*1664525 + 1013904223; return byte(x >> 24) }
	for i := 0; i+188 <= len(d); i += 188 {
		pusi := d[i+1]&0x40 != 0
		if pusi && d[i+4] == 0 && d[i+5] == 0 && d[i+6] == 1 {
			for j := i + 8; j < i+20; j++ {
				d[j] = rnd()
			}
		}
		if (i/188)%3 == 0 {
			d[i+1] ^= 0x5a
			d[i+2] ^= 0xa5
			d[i+3] ^= 0x3c
		}
	}
	return d
}

// liveinRed reports whether an output frame is the red picture (the
// second part of every input here): mean red high, green low.
func liveinRed(f *media.Frame) bool {
	var r, g int
	for i := 0; i < len(f.RGB); i += 3 {
		r += int(f.RGB[i])
		g += int(f.RGB[i+1])
	}
	n := len(f.RGB) / 3
	return r/n > 180 && g/n < 80
}

// liveinRun streams segs through comfyrt's server with the identity
// workflow at a live pace, then checks: the stream ended at the input's
// end without an error, output PTS increase, and the red part came out.
func liveinRun(t *testing.T, segs [][]byte) {
	e := newEnv(t)
	base, saw, out := e.startWF("m1", identityWF)
	e.publishAll(t, base, segs, 600*time.Millisecond)
	got := out()
	e.waitHealth("IDLE", 10*time.Second)
	if saw("stream stopped") {
		t.Errorf("the stream stopped with an error")
	}
	if len(got) == 0 {
		t.Fatal("no output")
	}
	dir := t.TempDir()
	var last int64 = -1 << 62
	frames, red := 0, 0
	for i, seg := range got {
		name := filepath.Join(dir, fmt.Sprintf("out%03d.ts", i))
		if err := os.WriteFile(name, seg, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := av.OpenSource(name, av.SourceOptions{})
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		var f media.Frame
		for src.ReadFrame(context.Background(), &f) == nil {
			if f.PTS <= last {
				t.Errorf("segment %d: pts %d after %d", i, f.PTS, last)
			}
			last = f.PTS
			frames++
			if liveinRed(&f) {
				red++
			}
		}
		src.Close()
	}
	t.Logf("%d output segments, %d frames, %d red", len(got), frames, red)
	if red < 24 { // the red part is 2 s long; at least one second of it
		t.Errorf("%d red frames out: the stream did not go on after the change", red)
	}
}

// A live stream goes on through a publisher restart with other TS PIDs
// and PMT PID, or with another codec (HEVC, MPEG-2): the demuxer and
// decoder re-open on the new program and output PTS keep increasing.
func TestLiveinProgramChange(t *testing.T) {
	needAV(t)
	a := live.SplitTS(liveinClip(t, "testsrc2", 2, "libx264"))
	for _, tc := range []struct {
		name, codec string
		extra       []string
	}{
		{"pids", "libx264", []string{"-mpegts_start_pid", "0x200", "-mpegts_pmt_start_pid", "0x1100"}},
		{"hevc", "libx265", nil},
		{"mpeg2", "mpeg2video", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := live.SplitTS(liveinClip(t, "color=c=red", 2, tc.codec, tc.extra...))
			if len(b) < 2 {
				t.Fatalf("%d segments of the second part", len(b))
			}
			liveinRun(t, append(append([][]byte(nil), a...), b...))
		})
	}
}

// One segment with damaged TS and PES headers: the stream goes on with
// the good segments after it.
func TestLiveinDamagedSegment(t *testing.T) {
	needAV(t)
	a := live.SplitTS(liveinClip(t, "testsrc2", 3, "libx264"))
	b := live.SplitTS(liveinClip(t, "color=c=red", 2, "libx264", "-output_ts_offset", "3"))
	a[1] = liveinDamage(a[1])
	liveinRun(t, append(a, b...))
}
