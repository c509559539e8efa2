package sdbench

import (
	"strings"
	"testing"
	"time"

	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
)

func TestConfigParse(t *testing.T) {
	ok := Config{Checkpoint: "tiny", Size: 512, Denoise: 0.75}
	if msg := ok.Parse("1, 4", "lcm,euler_ancestral", "1,7.5"); msg != "" {
		t.Fatal(msg)
	}
	if len(ok.Steps) != 2 || ok.Steps[1] != 4 || ok.Samplers[1] != "euler_ancestral" || ok.CFGs[1] != 7.5 {
		t.Errorf("parsed %v %v %v", ok.Steps, ok.Samplers, ok.CFGs)
	}
	for _, c := range []struct {
		cfg                   Config
		steps, samplers, cfgs string
		want                  string
	}{
		{ok, "0", "lcm", "1", "--sd-steps"},
		{ok, "51", "lcm", "1", "--sd-steps"},
		{ok, "1", "heun", "1", "--sd-samplers"},
		{ok, "1", "lcm", "-1", "--sd-cfg"},
		{Config{Checkpoint: "tiny", Size: 100, Denoise: 1}, "1", "lcm", "1", "--sd-size"},
		{Config{Checkpoint: "tiny", Size: 512, Denoise: 0}, "1", "lcm", "1", "--sd-denoise"},
		{Config{Size: 512, Denoise: 1}, "1", "lcm", "1", "--sd-checkpoint"},
	} {
		if msg := c.cfg.Parse(c.steps, c.samplers, c.cfgs); !strings.Contains(msg, c.want) {
			t.Errorf("Parse(%q, %q, %q) = %q, want a message naming %s", c.steps, c.samplers, c.cfgs, msg, c.want)
		}
	}
}

// runTimer adds each Run's time to its model folder's total and the
// overall one, and passes the session's bound buffers on.
func TestRunTimer(t *testing.T) {
	p := fake.New()
	m := fake.Model{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{1, 2}}},
		Outputs: []engine.TensorInfo{{Name: "y", DType: engine.Float32, Shape: []int{1, 2}}},
		Fn:      func(in, out []engine.Tensor) { time.Sleep(2 * time.Millisecond) }}
	p.Add("m/unet/model.onnx", m)
	p.Add("m/vae_decoder/model.onnx", m)
	timer := newRunTimer(p)
	run := func(path string, n int) {
		s, err := timer.Open(path, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		b := s.(engine.Buffers)
		for range n {
			if err := s.Run(b.InputBuffers(), b.OutputBuffers()); err != nil {
				t.Fatal(err)
			}
		}
	}
	run("m/unet/model.onnx", 3)
	run("m/vae_decoder/model.onnx", 1)
	ud, un := timer.Part("unet")
	vd, vn := timer.Part("vae_decoder")
	if un != 3 || vn != 1 || ud < 6*time.Millisecond || vd < 2*time.Millisecond || timer.Total() != ud+vd {
		t.Errorf("unet %v in %d runs, vae_decoder %v in %d, total %v", ud, un, vd, vn, timer.Total())
	}
}
