package main

import (
	"path/filepath"
	"strings"

	"comfyrt/compiler"
	"comfyrt/internal/metrics"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/ort"
)

// countModels wraps cfg's engine provider in an engine.Counter and returns
// serve's model snapshot for /metrics: the ONNX Runtime sessions loaded
// (ort.LoadedSessions) and, per model named by its path inside the models
// folder (never the server's folders), the sessions opened and open and
// their Runs.
func countModels(cfg *compiler.Config) func() metrics.ModelStats {
	if cfg.Engines == nil {
		return nil
	}
	c := engine.NewCounter(cfg.Engines)
	c.Label = func(path string) string { return modelLabel(cfg.ModelDir, path) }
	cfg.Engines = c
	return func() metrics.ModelStats {
		loaded, refs := ort.LoadedSessions()
		st := metrics.ModelStats{Loaded: int64(loaded), Refs: int64(refs)}
		for _, m := range c.Models() {
			st.Models = append(st.Models, metrics.ModelCount{Model: m.Model, Opened: m.Opened, Open: m.Open, Runs: m.Runs})
		}
		return st
	}
}

// modelLabel is path relative to the models folder (slash-separated), or
// its file name when it lies elsewhere.
func modelLabel(dir, path string) string {
	if dir != "" {
		if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(path)
}
