package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/bench"
	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
)

// TestBinary_BenchSD runs `comfyrt bench sd` through the built binary on a
// generated tiny SD export with tiny counts and checks the report's shape
// (every case, its rounds, the UNet's Runs per frame = steps, figures
// present, the table), not the timing.
func TestBinary_BenchSD(t *testing.T) {
	needORTBinary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := (onnxgen.TinySD{}).Write(filepath.Join(models, "checkpoints", "tiny")); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, 2*time.Minute, "bench", "sd", "--models-dir", models, "--frames", "2", "--warmup", "1", "--rounds", "2",
		"--sd-size", "64", "--sd-steps", "1,3", "--sd-samplers", "lcm,euler_ancestral", "--sd-cfg", "1,4", "--json", "sd.json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"SD img2img: checkpoint tiny, 64x64, device cpu", "step over µs", "plain ms", "euler_ancestral", "plain Go loop"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.Stdout)
		}
	}
	if !strings.Contains(r.Stderr, "round 2/2") {
		t.Errorf("no progress on stderr:\n%s", r.Stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil || rep.SD == nil {
		t.Fatalf("--json: %v\n%s", err, b)
	}
	if len(rep.SD.Cases) != 8 || rep.SD.Frames != 2 || rep.SD.Warmup != 1 {
		t.Fatalf("%d cases, %d frames, %d warm-up; want 8, 2, 1", len(rep.SD.Cases), rep.SD.Frames, rep.SD.Warmup)
	}
	i := 0
	for _, smp := range []string{"lcm", "euler_ancestral"} {
		for _, cfg := range []float64{1, 4} {
			for _, steps := range []int{1, 3} {
				c := rep.SD.Cases[i]
				i++
				if c.Sampler != smp || c.CFG != cfg || c.Steps != steps || len(c.Rounds) != 2 {
					t.Errorf("case %d: %s cfg %g %d steps, %d rounds; want %s cfg %g %d steps, 2 rounds", i, c.Sampler, c.CFG, c.Steps, len(c.Rounds), smp, cfg, steps)
				}
				// The tiny UNet's batch axis is dynamic: cond and uncond in one Run.
				if c.UNetRuns != steps {
					t.Errorf("case %d: %d UNet Runs per frame, want %d", i, c.UNetRuns, steps)
				}
				if !(c.PlanMs > 0 && c.OrtMs > 0 && c.OrtMs <= c.PlanMs && c.PlainMs > 0 && c.StepUs > 0 && c.Ratio > 0) {
					t.Errorf("case %d: figures missing or inconsistent: %+v", i, c)
				}
			}
		}
	}
}

func TestBinary_BenchSDUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "sd", "--sd-steps", "0"}, "--sd-steps"},
		{[]string{"bench", "sd", "--sd-samplers", "heun"}, "--sd-samplers"},
		{[]string{"bench", "sd", "--sd-size", "100"}, "--sd-size"},
		{[]string{"bench", "sd", "--sd-denoise", "0"}, "--sd-denoise"},
	} {
		r := testkit.Run(t, dir, nil, time.Minute, c.args...)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d naming %s", c.args, r.Code, r.Stderr, exitUsage, c.want)
		}
	}
	r := testkit.Run(t, dir, nil, time.Minute, "bench", "--help")
	for _, want := range []string{"[b2|b8|b7|sd|all]", "--sd-checkpoint", "sd (not part of all"} {
		if !strings.Contains(r.Stdout+r.Stderr, want) {
			t.Errorf("bench --help lacks %q", want)
		}
	}
}
