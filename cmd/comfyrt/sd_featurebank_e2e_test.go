package main

import (
	"strings"
	"testing"
)

// TestBinary_AIRunnerDefaultWorkflow: ai-runner's default workflow
// (ComfyStream's SD1.5 ControlNet workflow with a
// FeatureBankAttentionProcessor on the TensorRTLoader MODEL) compiles
// unchanged against the tiny models, compile --explain says why the
// feature bank changes nothing, and it runs on the sample clip.
func TestBinary_AIRunnerDefaultWorkflow(t *testing.T) {
	dir, models, wf, r := explainControlNet(t, "ai-runner/default_workflow.json")
	static, _, _ := strings.Cut(r.Stdout, "per-frame:")
	if !strings.Contains(static, "FeatureBankAttentionProcessor") || !strings.Contains(r.Stdout, "note: FeatureBankAttentionProcessor changes nothing over a TensorRTLoader MODEL") {
		t.Errorf("want the feature bank static with its note:\n%s", r.Stdout)
	}
	runSampleClip(t, dir, wf, models, 2)
}
