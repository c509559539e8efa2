package sdbench

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"comfyrt/compiler"
	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

// setup writes the tiny export and returns a compiled img2img plan, its
// plain loop and the frame (512×512, lcm, cfg 1, steps).
func setup(b *testing.B, steps int) (*compiler.Plan, *sdPlain, *runTimer, func()) {
	if err := ort.CheckInit(); err != nil {
		b.Skipf("ONNX Runtime unavailable: %v", err)
	}
	dir := b.TempDir()
	if err := (onnxgen.TinySD{}).Write(filepath.Join(dir, "checkpoints", "tiny")); err != nil {
		b.Fatal(err)
	}
	cfg := Config{Checkpoint: "tiny", Size: 512, Denoise: 0.75, Threads: 2, ModelsDir: dir}
	name := filepath.Join(dir, "wf.json")
	writeFile(b, name, sdWorkflow("tiny", "lcm", steps, 1, cfg.Denoise))
	timer := newRunTimer(ort.New())
	pl, err := CompileFile(name, 512, 512, func(c *compiler.Config) {
		c.Engines, c.ModelDir, c.Engine.IntraOpThreads = timer, dir, 2
	}, io.Discard)
	if err != nil || pl == nil {
		b.Fatalf("compile: %v", err)
	}
	plain, err := newSDPlain(timer, dir, cfg, engine.Options{IntraOpThreads: 2}, "lcm", 1, steps)
	if err != nil {
		b.Fatal(err)
	}
	return pl, plain, timer, func() { pl.Close(); plain.close() }
}

// BenchmarkSDFrame: one 512×512 img2img frame on the tiny models (lcm,
// cfg 1, 2 steps) through the compiled plan and through the plain loop,
// with the ONNX Runtime Run time in each. The plan's figure includes
// RunFrame's copy of the frame into its buffer (bench sd leaves it out:
// there the frame is in place, as the executor's decoder puts it).
func BenchmarkSDFrame(b *testing.B) {
	pl, plain, timer, done := setup(b, 2)
	defer done()
	frame := sdFrame(512)
	for _, side := range []struct {
		name string
		run  func() error
	}{{"plan", func() error { return pl.RunFrame(frame) }}, {"plain", func() error { return plain.frame(frame.Data) }}} {
		b.Run(side.name, func(b *testing.B) {
			b.ReportAllocs()
			t0 := timer.Total()
			for b.Loop() {
				if err := side.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(timer.Total()-t0)/1e6/float64(b.N), "ort-ms/op")
		})
	}
}

func writeFile(b *testing.B, name, data string) {
	b.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
}
