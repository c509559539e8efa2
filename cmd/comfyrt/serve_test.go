package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"comfyrt/compiler"
	"comfyrt/internal/server"
	"comfyrt/nodes/builtin"
)

func TestServePromptAndCompile(t *testing.T) {
	schemas, err := loadSchemas(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlisted, _ := builtin.FolderLists(schemas, "")
	validate := promptValidator(schemas, unlisted, compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, MaxBytes: 1 << 30})
	wf, err := os.ReadFile("../../workflows/identity-api.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"valid", `{"prompt":` + string(wf) + `}`, 200, `"prompt_id"`},
		{"no prompt", `{}`, 400, `"no_prompt"`},
		{"missing class", `{"prompt":{"1":{"class_type":"Nope","inputs":{}}}}`, 400, `"missing_node_type"`},
		{"not json", `{`, 400, `"invalid_prompt"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, code := validate([]byte(tc.body))
			var m map[string]any
			if code != tc.code || !strings.Contains(string(b), tc.want) || json.Unmarshal(b, &m) != nil {
				t.Fatalf("got %d %s", code, b)
			}
			if _, ok := m["node_errors"]; !ok {
				t.Errorf("no node_errors: %s", b)
			}
		})
	}
	info := objectInfoFunc(schemas)
	if b, ok := info("LoadImage"); !ok || !strings.HasPrefix(string(b), `{"LoadImage":`) {
		t.Errorf("object_info/LoadImage: %s", b)
	}
	cfg := compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted}
	if err := compileCheck(context.Background(), cfg, server.Params{Workflow: wf, Width: 512, Height: 512}); err != nil {
		t.Errorf("identity does not compile: %v", err)
	}
	if err := compileCheck(context.Background(), cfg, server.Params{Workflow: []byte(`{"1":{"class_type":"Nope","inputs":{}}}`)}); err == nil {
		t.Error("a bad workflow compiled")
	}
}

// TestServeFlags: bad flag values are usage errors (exit 2) naming the flag.
func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--max-restarts", "-1"},
		{"--restart-delay", "0s"},
		{"--capacity", "0"},
		{"extra"},
	} {
		code, _, stderr := cli(t, "", append([]string{"serve"}, args...)...)
		if code != 2 || !strings.Contains(stderr, strings.TrimPrefix(args[0], "--")) {
			t.Errorf("serve %v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
