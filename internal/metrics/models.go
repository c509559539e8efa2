package metrics

import "github.com/prometheus/client_golang/prometheus"

// ModelStats is a snapshot of the inference engine's model use (serve:
// every stream's model sessions together).
type ModelStats struct {
	// Loaded is the ONNX Runtime sessions loaded and shared (one per model
	// content, options and bound shapes); Refs the model sessions holding
	// them (streams opening the same model share one loaded session).
	Loaded, Refs int64
	// Models are the per-model counts, one series each (label model).
	Models []ModelCount
}

// ModelCount is one model file's counts.
type ModelCount struct {
	// Model is the model's name: its path inside the models folder.
	Model string
	// Opened counts sessions opened, Open those open now, Runs their Runs.
	Opened, Open, Runs int64
}

type models struct {
	snapshot                         func() ModelStats
	loaded, refs, opened, open, runs *prometheus.Desc
}

// NewModels returns a collector of the model families for snapshot, read
// at every scrape: comfyrt_onnxruntime_sessions_loaded and
// comfyrt_onnxruntime_session_refs, and per model (label model)
// comfyrt_model_sessions_opened_total, comfyrt_model_sessions_open and
// comfyrt_model_runs_total.
func NewModels(snapshot func() ModelStats) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("comfyrt_"+name, help, labels, nil)
	}
	return &models{snapshot: snapshot,
		loaded: d("onnxruntime_sessions_loaded", "ONNX Runtime sessions loaded and shareable (by the model sessions opening the same model with the same options); exclusive sessions are not counted, one being loaded is."),
		refs:   d("onnxruntime_session_refs", "Model sessions holding a loaded ONNX Runtime session."),
		opened: d("model_sessions_opened_total", "Model sessions opened.", "model"),
		open:   d("model_sessions_open", "Model sessions open now.", "model"),
		runs:   d("model_runs_total", "Runs of the model's sessions.", "model"),
	}
}

func (m *models) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.loaded, m.refs, m.opened, m.open, m.runs} {
		ch <- d
	}
}

func (m *models) Collect(ch chan<- prometheus.Metric) {
	st := m.snapshot()
	metric := func(d *prometheus.Desc, t prometheus.ValueType, v int64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, float64(v), lv...)
	}
	metric(m.loaded, prometheus.GaugeValue, st.Loaded)
	metric(m.refs, prometheus.GaugeValue, st.Refs)
	for _, c := range st.Models {
		metric(m.opened, prometheus.CounterValue, c.Opened, c.Model)
		metric(m.open, prometheus.GaugeValue, c.Open, c.Model)
		metric(m.runs, prometheus.CounterValue, c.Runs, c.Model)
	}
}
