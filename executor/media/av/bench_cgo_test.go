//go:build cgo

package av

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"comfyrt/executor/media"
	"comfyrt/internal/testkit"
)

var benchSizes = []struct{ w, h int }{{512, 512}, {1280, 720}}

// BenchmarkDecodeRGB: H.264 (testsrc2, x264 ultrafast, 300 frames) →
// decode → RGB24, one whole file per iteration.
func BenchmarkDecodeRGB(b *testing.B) {
	testkit.NeedTools(b, "ffmpeg")
	for _, sz := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(b *testing.B) {
			p := testkit.Clip(b, filepath.Join(b.TempDir(), "in.mp4"), testkit.ClipOptions{Size: fmt.Sprintf("%dx%d", sz.w, sz.h), Seconds: 10})
			var f media.Frame
			var frames int64
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				src, err := OpenSource(p, SourceOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					err := src.ReadFrame(context.Background(), &f)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					frames++
				}
				src.Close()
			}
			el := time.Since(start)
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(frames)/el.Seconds(), "fps")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(frames), "allocs/frame")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(frames), "B/frame")
		})
	}
}

// BenchmarkEncodeX264: RGB24 → yuv420p → libx264 ultrafast/zerolatency →
// null muxer, per frame.
func BenchmarkEncodeX264(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(b *testing.B) {
			syn := &media.Synthetic{W: sz.w, H: sz.h}
			var frames [30]media.Frame
			for i := range frames {
				_ = syn.ReadFrame(context.Background(), &frames[i])
			}
			snk, err := CreateSink("out", syn.Info(), SinkOptions{Format: "null", Preset: "ultrafast"})
			if err != nil {
				b.Fatal(err)
			}
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				f := &frames[i%len(frames)]
				f.PTS = int64(i) * 3000
				if err := snk.WriteFrame(f); err != nil {
					b.Fatal(err)
				}
			}
			if err := snk.Close(); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(b.N)/el.Seconds(), "fps")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/frame")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "B/frame")
		})
	}
}
