package compiler

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkB1_Identity is B1's executor floor (BENCHMARKS.md): the
// identity workflow (LoadTensor → SaveTensor) at 512×512, per frame, against
// a plain copy of the frame measured in the same run, interleaved.
// Metrics: µs/frame, copy-µs, beyond-copy-µs and plan/copy ratio.
func BenchmarkB1_Identity(b *testing.B) {
	cfg, _ := testConfig(b)
	cfg.Width, cfg.Height = 512, 512
	pl := mustCompile(b, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}}
}`, cfg)
	frame := rampFrame(512, 512)
	dst := make([]float32, len(frame.Data))
	if err := pl.RunFrame(frame); err != nil {
		b.Fatal(err)
	}
	var planT, copyT time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	odd := false
	for b.Loop() {
		// Alternate which one goes first, so that neither always finds
		// the other's cache state.
		odd = !odd
		if odd {
			t0 := time.Now()
			_ = pl.RunFrame(frame)
			t1 := time.Now()
			copy(dst, frame.Data)
			t2 := time.Now()
			planT += t1.Sub(t0)
			copyT += t2.Sub(t1)
		} else {
			t0 := time.Now()
			copy(dst, frame.Data)
			t1 := time.Now()
			_ = pl.RunFrame(frame)
			t2 := time.Now()
			copyT += t1.Sub(t0)
			planT += t2.Sub(t1)
		}
	}
	n := float64(b.N)
	pu, cu := float64(planT.Microseconds())/n, float64(copyT.Microseconds())/n
	if planT < time.Millisecond {
		pu, cu = float64(planT.Nanoseconds())/n/1e3, float64(copyT.Nanoseconds())/n/1e3
	}
	b.ReportMetric(pu, "µs/frame")
	b.ReportMetric(cu, "copy-µs")
	b.ReportMetric(pu-cu, "beyond-copy-µs")
	if cu > 0 {
		b.ReportMetric(pu/cu, "plan/copy")
	}
}

// chainSrc is a per-frame chain of n ImageInvert nodes.
func chainSrc(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"1": {"class_type": "LoadTensor", "inputs": {}}`)
	prev := "1"
	for i := range n {
		id := fmt.Sprint(i + 2)
		fmt.Fprintf(&sb, `, "%s": {"class_type": "ImageInvert", "inputs": {"image": ["%s", 0]}}`, id, prev)
		prev = id
	}
	fmt.Fprintf(&sb, `, "9999": {"class_type": "SaveTensor", "inputs": {"images": ["%s", 0]}}}`, prev)
	return sb.String()
}

// BenchmarkB1_Chain50 is B1's per-node dispatch cost: a 50-node chain of
// ImageInvert on an 8×8 frame (cheap work), against the same kernels' Run
// called directly on the same buffers in the same run. dispatch-ns/node is
// the plan's cost per node beyond the kernels' own work.
func BenchmarkB1_Chain50(b *testing.B) {
	const nodes = 50
	cfg, _ := testConfig(b)
	cfg.Width, cfg.Height = 8, 8
	pl := mustCompile(b, chainSrc(nodes), cfg)
	frame := rampFrame(8, 8)
	if err := pl.RunFrame(frame); err != nil {
		b.Fatal(err)
	}
	steps := pl.frameRun
	var planT, rawT time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		_ = pl.RunFrame(frame)
		t1 := time.Now()
		steps[0].in[0].Tensor = frame
		for _, s := range steps {
			_ = s.kernel.k.Run(s.in, s.out)
		}
		t2 := time.Now()
		planT += t1.Sub(t0)
		rawT += t2.Sub(t1)
	}
	n := float64(b.N)
	pn, rn := float64(planT.Nanoseconds())/n, float64(rawT.Nanoseconds())/n
	b.ReportMetric(pn/1e3, "µs/frame")
	b.ReportMetric(rn/1e3, "raw-µs")
	b.ReportMetric(pn/float64(len(steps)), "ns/node")
	b.ReportMetric((pn-rn)/float64(len(steps)), "dispatch-ns/node")
}
