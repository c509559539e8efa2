package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"comfyrt/compiler"
	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/graph/validate"
	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

// PromptValidator answers ComfyUI's POST /prompt with validation only
// (Config.Validate):
// {prompt_id, number, node_errors} or 400 {error, node_errors}. A valid
// prompt is also sized as a plan (compiler.Measure, which allocates no
// buffer and loads no model), so that one over the memory budget of cfg
// is refused as the stream endpoints would (plan_too_large), and so are
// the files it names that the stream endpoints would refuse (missing,
// links out of the input folder, not regular files, too large:
// missing_file, invalid_file).
func PromptValidator(schemas *schema.Set, unlisted map[string][]string, cfg compiler.Config) func([]byte) ([]byte, int) {
	cfg.Engines, cfg.Static = nil, nil
	var number atomic.Int64 // handlers run concurrently
	return func(body []byte) ([]byte, int) {
		fail := func(code diag.Code, msg, details string) ([]byte, int) {
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": string(code), "message": msg, "details": details, "extra_info": map[string]any{}}, "node_errors": map[string]any{}})
			return b, http.StatusBadRequest
		}
		var req struct {
			Prompt                  json.RawMessage `json:"prompt"`
			PromptID                string          `json:"prompt_id"`
			PartialExecutionTargets []string        `json:"partial_execution_targets"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return fail(diag.InvalidPrompt, "Invalid prompt", "invalid JSON: "+err.Error())
		}
		if len(req.Prompt) == 0 || string(req.Prompt) == "null" {
			return fail(diag.NoPrompt, "No prompt provided", "No prompt provided")
		}
		wf, diags := graph.Load("prompt", req.Prompt, graph.Options{Schemas: schemas})
		if wf.Prompt == nil || diags.HasErrors() {
			return fail(diag.InvalidPrompt, "Invalid prompt", diags.Error())
		}
		res := validate.Validate(wf.Prompt, schemas, validate.Options{PartialExecutionTargets: req.PartialExecutionTargets, Unlisted: unlisted})
		resp := res.Response()
		if !res.Valid {
			b, _ := jsonx.Marshal(resp, "")
			return b, http.StatusBadRequest
		}
		// Measure prepares the kernels as a stream start would, files
		// included (opened confined to cfg.InputDir, as the start opens
		// them): its size and file errors are the start's. Other prepare
		// errors are not reported here (models are not opened: Engines is
		// nil).
		{
			if _, err := compiler.Measure(wf.Prompt, cfg); err != nil {
				var l, over diag.List
				errors.As(err, &l)
				for _, d := range l {
					switch d.Code {
					case diag.PlanTooLarge, diag.MissingFile, diag.InvalidFile:
						over = append(over, d)
					}
				}
				if len(over) > 0 {
					graph.Locate(req.Prompt, over)
					top := &diag.Diagnostic{Code: diag.PromptOutputsFailedValidation, Message: "Prompt outputs failed validation", Details: over.Error()}
					b, _ := jsonx.Marshal(diag.ComfyResponse(top, over), "")
					return b, http.StatusBadRequest
				}
			}
		}
		ne, _ := resp.Get("node_errors")
		id := req.PromptID
		if id == "" {
			id = newPromptID()
		}
		b, _ := jsonx.Marshal(jsonx.Object{{Key: "prompt_id", Value: id}, {Key: "number", Value: number.Add(1)}, {Key: "node_errors", Value: ne}}, "")
		return b, http.StatusOK
	}
}

// ObjectInfo answers ComfyUI's GET /object_info ("") and
// /object_info/{class} from schemas (Config.ObjectInfo).
func ObjectInfo(schemas *schema.Set) func(string) ([]byte, bool) {
	all, _ := schemas.Marshal("")
	return func(class string) ([]byte, bool) {
		if class == "" {
			return all, true
		}
		n := schemas.Lookup(class)
		if n == nil {
			return nil, false
		}
		b, err := jsonx.Marshal(jsonx.Object{{Key: class, Value: n.JSON()}}, "")
		return b, err == nil
	}
}

func newPromptID() string {
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return fmt.Sprint(time.Now().UnixNano())
	}
	defer f.Close()
	var b [16]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return fmt.Sprint(time.Now().UnixNano())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
