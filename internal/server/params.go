package server

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// parseParams reads a params object (LIVEPEER.md §2.2): ai-runner's
// ComfyUI params {"prompt", "width", "height", "show_reloading_frame"} or
// ComfyStream's BYOC {"prompts", "width", "height", "warmup"}. The prompt is
// an API- or UI-format workflow as an object or a JSON string; without one
// the default workflow runs. Unknown keys are an error when strict (as
// ai-runner's extra="forbid").
func parseParams(data []byte, def []byte, strict bool) (Params, error) {
	p := Params{ShowReloadingFrame: true}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		data = []byte("{}")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return p, fmt.Errorf("params: %v", jsonErr(err))
	}
	if err := json.Unmarshal(data, &p.Raw); err != nil {
		return p, fmt.Errorf("params: %v", jsonErr(err))
	}
	var unknown []string
	for k, v := range fields {
		var err error
		switch k {
		case "prompt", "prompts":
			if p.Workflow != nil {
				return p, fmt.Errorf("params: give prompt or prompts, not both")
			}
			p.Workflow, err = workflowField(k, v)
		case "width":
			p.Width, err = sizeField(k, v)
		case "height":
			p.Height, err = sizeField(k, v)
		case "show_reloading_frame":
			err = json.Unmarshal(v, &p.ShowReloadingFrame)
		case "warmup":
			var n int
			err = json.Unmarshal(v, &n)
		default:
			unknown = append(unknown, k)
		}
		if err != nil {
			return p, fmt.Errorf("params: %s: %v", k, jsonErr(err))
		}
	}
	if strict && len(unknown) > 0 {
		sort.Strings(unknown)
		return p, fmt.Errorf("params: unknown field(s) %s (extra inputs are not permitted)", strings.Join(unknown, ", "))
	}
	if p.Workflow == nil {
		if def == nil {
			return p, fmt.Errorf("params: no prompt given and the server has no default workflow (--workflow)")
		}
		p.Workflow = def
	}
	return p, nil
}

func jsonErr(err error) string { return strings.TrimPrefix(err.Error(), "json: ") }

// workflowField reads a prompt: an object, a JSON string holding one, or
// (prompts) a list of exactly one of those.
func workflowField(key string, v json.RawMessage) ([]byte, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return nil, fmt.Errorf("empty")
	}
	switch v[0] {
	case '{':
		return v, nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
			return nil, fmt.Errorf("the string does not hold a JSON workflow")
		}
		return workflowField(key, json.RawMessage(s))
	case '[':
		if key != "prompts" {
			return nil, fmt.Errorf("want a workflow object, not a list")
		}
		var l []json.RawMessage
		if err := json.Unmarshal(v, &l); err != nil {
			return nil, err
		}
		if len(l) != 1 {
			return nil, fmt.Errorf("%d workflows given; comfyrt runs exactly one per stream", len(l))
		}
		return workflowField("prompt", l[0])
	}
	return nil, fmt.Errorf("want a workflow object or a JSON string")
}

// sizeField reads width/height: 384..1024, a multiple of 64 (ai-runner's
// rule).
func sizeField(key string, v json.RawMessage) (int, error) {
	var n int
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, err
	}
	if n < 384 || n > 1024 || n%64 != 0 {
		return 0, fmt.Errorf("%d is not in 384..1024 and a multiple of 64", n)
	}
	return n, nil
}

// paramsHash is ai-runner's last_params_hash: md5 of the params as JSON
// with sorted keys.
func paramsHash(raw map[string]any) string {
	b, _ := json.Marshal(raw) // encoding/json sorts map keys
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
