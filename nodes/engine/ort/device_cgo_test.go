//go:build cgo

package ort_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/onnxgen"
	"comfyrt/nodes/engine"
)

// deviceEnv names the environment variable that turns on TestDevice: the
// device list to check ("cuda" or "tensorrt,cuda"), on a machine that has
// one (scripts/gpu-kit.sh prepares the run).
const deviceEnv = "COMFYRT_TEST_DEVICE"

// TestDevice runs the generated Conv model and, when present, PP-OCRv4 at
// 512×512 on the devices of $COMFYRT_TEST_DEVICE and on the CPU, checks
// that the outputs agree and logs load and Run times (one warm-up Run,
// then the mean of ten; the engine's Run returns after the outputs are
// copied back, so the device is synchronised). Skipped without the
// variable: the project builds and tests without a GPU.
func TestDevice(t *testing.T) {
	devs := os.Getenv(deviceEnv)
	if devs == "" {
		t.Skipf("set %s=cuda (or tensorrt,cuda) on a GPU machine", deviceEnv)
	}
	needORT(t)
	devices := strings.Split(devs, ",")
	net := onnxgen.NewConvNet()
	conv := writeModel(t, net.Model(-1, -1, -1))
	type model struct {
		name, path string
		shapes     map[string][]int
		tol        float64
	}
	models := []model{{"conv 1×3×256×256", conv, map[string][]int{"x": {1, 3, 256, 256}}, 1e-3}}
	if p := ppocrPath(); p != "" {
		models = append(models, model{"PP-OCRv4 det 512×512", p, map[string][]int{"x": {1, 3, 512, 512}}, 1e-2})
	}
	for _, m := range models {
		var outs [2][]float32
		for i, d := range [2][]string{{engine.CPU}, devices} {
			start := time.Now()
			s := open(t, m.path, engine.Options{Devices: d, Shapes: m.shapes, Exclusive: true})
			load := time.Since(start)
			b := s.(engine.Buffers)
			in, out := b.InputBuffers(), b.OutputBuffers()
			copy(in[0].Data, randData(len(in[0].Data), 11))
			if err := s.Run(in, out); err != nil {
				t.Fatalf("%s on %v: %v", m.name, d, err)
			}
			const runs = 10
			start = time.Now()
			for range runs {
				if err := s.Run(in, out); err != nil {
					t.Fatalf("%s on %v: %v", m.name, d, err)
				}
			}
			t.Logf("%s on %v: load %v, Run %v", m.name, d, load.Round(time.Millisecond), time.Since(start)/runs)
			outs[i] = append([]float32(nil), out[0].Data...)
		}
		if diff := maxAbs(outs[0], outs[1]); diff > m.tol {
			t.Errorf("%s: %v and cpu differ by %g (tolerance %g)", m.name, devices, diff, m.tol)
		}
	}
}
