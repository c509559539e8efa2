package server_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"comfyrt/compiler"
	"comfyrt/internal/server"
	"comfyrt/nodes"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
)

// ComfyUI's POST /prompt (validation only) and GET /object_info answers,
// as serve wires them (Config.Validate, Config.ObjectInfo).
func TestHousePromptValidatorAndObjectInfo(t *testing.T) {
	schemas := schema.NewSet()
	schemas.Merge(builtin.Schemas())
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		t.Fatal(err)
	}
	reg := nodes.NewRegistry()
	builtin.Register(reg)
	validate := server.PromptValidator(schemas, unlisted, compiler.Config{Schemas: schemas, Registry: reg, Unlisted: unlisted, MaxBytes: 1 << 30})
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
	info := server.ObjectInfo(schemas)
	if b, ok := info("LoadImage"); !ok || !strings.HasPrefix(string(b), `{"LoadImage":`) {
		t.Errorf("object_info/LoadImage: %s", b)
	}
	if b, ok := info("Nope"); ok {
		t.Errorf("object_info/Nope: %s", b)
	}
}
