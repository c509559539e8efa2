package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

// TestBinary_AIRunnerDefaultWorkflow: ai-runner's default workflow
// (ComfyStream's SD1.5 ControlNet workflow with a
// FeatureBankAttentionProcessor on the TensorRTLoader MODEL) compiles
// unchanged against the tiny models, compile --explain says why the
// feature bank changes nothing, and it runs on the sample clip.
func TestBinary_AIRunnerDefaultWorkflow(t *testing.T) {
	needORTBinary(t)
	wf := testkit.CorpusFile(t, "ai-runner/default_workflow.json")
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	controlNetModels(t, models)
	r := testkit.Run(t, dir, nil, time.Minute, "compile", "--explain", "--width", "64", "--height", "48", "--models-dir", models, wf)
	if r.Code != 0 {
		t.Fatalf("compile: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	static, _, _ := strings.Cut(r.Stdout, "per-frame:")
	if !strings.Contains(static, "FeatureBankAttentionProcessor") || !strings.Contains(r.Stdout, "note: FeatureBankAttentionProcessor changes nothing over a TensorRTLoader MODEL") {
		t.Errorf("want the feature bank static with its note:\n%s", r.Stdout)
	}
	runSampleClip(t, dir, wf, models, 2)
}
