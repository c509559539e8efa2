package live_test

import (
	"context"
	"os"
	"testing"

	"comfyrt/executor/live"
)

// Runner.Check compiles a stream's workflow and releases it (serve's
// --workflow check and the passthrough runner's).
func TestHouseRunnerCheck(t *testing.T) {
	r := &live.Runner{Compiler: compilerConfig(t)}
	wf, err := os.ReadFile("../../workflows/identity-api.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Check(ctx, live.Params{Workflow: wf, Width: 512, Height: 512}); err != nil {
		t.Errorf("identity does not compile: %v", err)
	}
	if err := r.Check(ctx, live.Params{Workflow: []byte(`{"1":{"class_type":"Nope","inputs":{}}}`)}); err == nil {
		t.Error("a bad workflow compiled")
	}
}
