package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

// corpusSchemas merges the real object_info dump and the derived
// ComfyStream/Stream-Pack schema of the shared corpus.
func corpusSchemas(t *testing.T) *schema.Set {
	t.Helper()
	s := schema.NewSet()
	for _, p := range testkit.CorpusObjectInfo(t) {
		o, err := schema.LoadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s.Merge(o)
	}
	return s
}

type corpusOutcome struct {
	res  *Result
	text string
}

func validateCorpusFile(t *testing.T, s *schema.Set, data []byte) (*corpusOutcome, bool) {
	t.Helper()
	w, _ := graph.Load("f", data, graph.Options{Schemas: s})
	if w.Format != graph.FormatAPI || w.Prompt == nil {
		return nil, false
	}
	r := Validate(w.Prompt, s, Options{})
	graph.Locate(data, r.Diags)
	b, err := jsonx.Marshal(r.Report("f", string(w.Format)), "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return &corpusOutcome{r, renderDiags(r.Diags) + string(b)}, true
}

// TestCorpus validates every API-format workflow of the shared corpus
// against the real object_info dump plus the derived schema: no panic, a
// response that marshals, and the same answer twice.
func TestCorpus(t *testing.T) {
	dir := testkit.CorpusDir(t)
	s := corpusSchemas(t)
	n := 0
	outcomes := map[string]*corpusOutcome{}
	for _, rel := range testkit.CorpusWorkflows(t) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		o1, ok := validateCorpusFile(t, s, data)
		if !ok {
			continue
		}
		n++
		o2, _ := validateCorpusFile(t, s, data)
		if o1.text != o2.text {
			t.Errorf("%s: not deterministic:\n%s\nvs\n%s", rel, o1.text, o2.text)
		}
		if (o1.res.Error == nil) != o1.res.Valid {
			t.Errorf("%s: Error %v with Valid %v", rel, o1.res.Error, o1.res.Valid)
		}
		outcomes[rel] = o1
	}
	if n < 20 {
		t.Errorf("only %d API-format workflows validated", n)
	}
	t.Logf("%d API-format workflows validated", n)

	get := func(rel string) *Result {
		t.Helper()
		o := outcomes[rel]
		if o == nil {
			t.Fatalf("%s: not validated", rel)
		}
		return o.res
	}
	has := func(r *Result, node, input string, code diag.Code) *diag.Diagnostic {
		for _, d := range r.Diags {
			if d.NodeID == node && d.Input == input && d.Code == code {
				return d
			}
		}
		return nil
	}

	// Missing class: node 2 is reported before KSampler's missing links.
	r := get("ComfyUI_frontend/api_workflow_with_missing_nodes.json")
	if r.Valid || r.Error == nil || r.Error.Code != diag.MissingNodeType || r.Error.NodeID != "2" ||
		r.Error.Extra["class_type"] != "NonExistentCustomNode_XYZ_12345" ||
		r.Error.Message != "Node 'Missing Node' not found. The custom node may not be installed." {
		t.Errorf("missing nodes: %v", r.Error)
	}
	if len(r.Diags) != 1 {
		t.Errorf("missing nodes: %s", renderDiags(r.Diags))
	}
	resp, _ := jsonx.Marshal(r.Response(), "")
	if !bytes.HasSuffix(resp, []byte(`"node_errors":{}}`)) {
		t.Errorf("missing nodes response %s", resp)
	}

	// All classes known (LoadTensor, ImageInvert, SaveTensor) and correct.
	for _, rel := range []string{"comfystream/inverted-color-api.json", "comfystream/tensor-utils-example-api.json", "comfystream/audio-transcription-api.json"} {
		if r := get(rel); !r.Valid || len(r.Diags) != 0 {
			t.Errorf("%s: want valid, got\n%s", rel, renderDiags(r.Diags))
		}
	}

	// Partial success: SaveTensor (1) is fine; SaveTextTensor (3) gives
	// "text" where the schema wants "data".
	r = get("comfystream/text-tensor-example-api.json")
	if !r.Valid || strings.Join(r.Outputs, ",") != "1" || strings.Join(r.FailedOutputs, ",") != "3" {
		t.Errorf("text-tensor: valid %v outputs %v failed %v", r.Valid, r.Outputs, r.FailedOutputs)
	}
	if d := has(r, "3", "data", diag.RequiredInputMissing); d == nil || strings.Join(d.DependentOutputs, ",") != "3" {
		t.Errorf("text-tensor: %s", renderDiags(r.Diags))
	}
	if d := has(r, "3", "text", diag.UnknownInput); d == nil || d.Severity != diag.Warning {
		t.Errorf("text-tensor: no unknown_input warning for text")
	}

	// The dump's machine has no SDXL refiner checkpoint.
	r = get("ComfyUI/default_graph_sdxl1_0.json")
	if d := has(r, "16", "ckpt_name", diag.ValueNotInList); r.Valid || d == nil ||
		!strings.HasPrefix(d.Details, "ckpt_name: 'sd_xl_refiner_1.0.safetensors' not in ['sd3.5_medium.safetensors'") {
		t.Errorf("sdxl: %s", renderDiags(r.Diags))
	}

	// ComfyStream's LoadImage carries the legacy "upload" input (a warning)
	// and a file the dump's machine does not have.
	r = get("comfystream/load-preview-image-example.json")
	if has(r, "12", "upload", diag.UnknownInput) == nil || has(r, "12", "image", diag.ValueNotInList) == nil {
		t.Errorf("load-preview: %s", renderDiags(r.Diags))
	}
}
