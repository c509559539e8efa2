package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"comfyrt/compiler"
	"comfyrt/graph"
)

// maxWorkflowBytes bounds a workflow or params body.
const maxWorkflowBytes = 8 << 20

// swapTimeout bounds the wait for the pipeline to take a new plan.
const swapTimeout = 10 * time.Second

// frameSize is the running stream's size, or the configured one.
func (s *Server) frameSize() (int, int) {
	s.mu.Lock()
	in := s.in
	s.mu.Unlock()
	if in != nil {
		if w, h := in.size(); w > 0 {
			return w, h
		}
	}
	w, h := s.cfg.Compiler.Width, s.cfg.Compiler.Height
	if w <= 0 || h <= 0 {
		w, h = compiler.DefaultWidth, compiler.DefaultHeight
	}
	return w, h
}

// prepare loads and compiles a workflow file (the plan is checked, then
// released) and describes it for the page.
func (s *Server) prepare(name string, data []byte) (*workflow, error) {
	p, err := loadWorkflow(name, data, s.cfg.Compiler.Schemas)
	if err != nil {
		return nil, err
	}
	w, h := s.frameSize()
	pl, err := compile(p, s.cfg.Compiler, w, h, nil)
	if err != nil {
		return nil, err
	}
	defer pl.Close()
	return s.describe(name, p, pl), nil
}

func (s *Server) describe(name string, p *graph.Prompt, pl *compiler.Plan) *workflow {
	return &workflow{name: name, prompt: p, explain: pl.Explain(), widgets: widgets(p, s.cfg.Compiler.Schemas, frameInputClass)}
}

// install compiles p at the stream's size (adopting unchanged static steps
// from the running plan), runs its static steps and swaps it into the
// running stream (when one runs); then it is the workflow every later
// stream starts with. A plan that adopted steps must not be closed while
// the running one lives, so on a failed swap it is left to the garbage
// collector.
func (s *Server) install(ctx context.Context, name string, p *graph.Prompt) (*workflow, bool, error) {
	w, h := s.frameSize()
	pl, err := compile(p, s.cfg.Compiler, w, h, s.adoptable())
	if err != nil {
		return nil, false, err
	}
	if err := pl.RunStatic(); err != nil {
		pl.Close()
		return nil, false, workflowError(err)
	}
	wf := s.describe(name, p, pl)
	ctx, cancel := context.WithTimeout(ctx, swapTimeout)
	defer cancel()
	swapped, err := s.swapIn(ctx, pl)
	if err != nil {
		return nil, false, err
	}
	if !swapped {
		pl.Close() // no stream: the running plan it adopted from is gone too
	}
	s.setWorkflow(wf)
	return wf, swapped, nil
}

// setWorkflow makes wf the current workflow.
func (s *Server) setWorkflow(wf *workflow) {
	s.mu.Lock()
	s.wf = wf
	s.gen++
	s.mu.Unlock()
}

type workflowJSON struct {
	Name    string   `json:"name"`
	Widgets []Widget `json:"widgets"`
	Explain string   `json:"explain"`
	Swapped bool     `json:"swapped"`
}

func (wf *workflow) json(swapped bool) workflowJSON {
	ws := wf.widgets
	if ws == nil {
		ws = []Widget{}
	}
	return workflowJSON{Name: wf.name, Widgets: ws, Explain: wf.explain, Swapped: swapped}
}

func (s *Server) getWorkflow(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	wf := s.wf
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, wf.json(false))
}

// getExamples lists the example workflows' names.
func (s *Server) getExamples(w http.ResponseWriter, _ *http.Request) {
	names := slices.Sorted(maps.Keys(s.cfg.Examples))
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, names)
}

// postWorkflow loads the body as the new workflow (?name= names it), or
// the example ?example= names.
func (s *Server) postWorkflow(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWorkflowBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err)
		return
	}
	name := r.URL.Query().Get("name")
	if ex := r.URL.Query().Get("example"); ex != "" {
		var ok bool
		if data, ok = s.cfg.Examples[ex]; !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("no example workflow %q", ex))
			return
		}
		name = ex
	}
	if name == "" {
		name = "workflow.json"
	}
	s.ctl.Lock()
	defer s.ctl.Unlock()
	p, err := loadWorkflow(name, data, s.cfg.Compiler.Schemas)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	wf, swapped, err := s.install(r.Context(), name, p)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	s.log.Info("workflow loaded", "name", name, "swapped", swapped)
	writeJSON(w, http.StatusOK, wf.json(swapped))
}

// postParams applies {"updates": [{"node", "input", "value"}]} (or one
// update object) to the running workflow: compile, then swap.
func (s *Server) postParams(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWorkflowBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err)
		return
	}
	var body struct {
		Updates []Update `json:"updates"`
		Update
	}
	if err := json.Unmarshal(data, &body); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("params: %w", err))
		return
	}
	if body.Node != "" {
		body.Updates = append(body.Updates, body.Update)
	}
	if len(body.Updates) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("params: no updates"))
		return
	}
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.mu.Lock()
	cur := s.wf
	s.mu.Unlock()
	p, err := applyUpdates(cur.prompt, body.Updates)
	if err == nil {
		var wf *workflow
		var swapped bool
		if wf, swapped, err = s.install(r.Context(), cur.name, p); err == nil {
			writeJSON(w, http.StatusOK, wf.json(swapped))
			return
		}
	}
	writeError(w, http.StatusUnprocessableEntity, err)
}

func (s *Server) getStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError sends {"error", "node_errors"}: node_errors lists every
// problem of a workflow, per node and input.
func writeError(w http.ResponseWriter, code int, err error) {
	body := map[string]any{"error": err.Error(), "node_errors": []NodeError{}}
	var we *WorkflowError
	if errors.As(err, &we) {
		body["node_errors"] = we.Errors
	}
	writeJSON(w, code, body)
}
