package builtin_test

import (
	"testing"

	"comfyrt/nodes/builtin"
)

// TestSchemas_comfyrtClasses pins comfyrt's own model classes, which no
// ComfyUI dump has.
func TestSchemas_comfyrtClasses(t *testing.T) {
	want := map[string]string{
		"TextDetection": `required image IMAGE; required threshold FLOAT {"default":0.3,"min":0.0,"max":1.0,"step":0.01,"tooltip":"Text probability above which the mask is on; 0 gives the probability map."}; ` +
			`required max_side INT {"default":960,"min":32,"max":4096,"step":32,"tooltip":"Longest side the frame is shrunk to for detection (PaddleOCR's det_limit_side_len)."}; ` +
			`-> MASK MASK | comfyrt/model | Text Detection (PP-OCRv4)`,
	}
	s := builtin.Schemas()
	for name, w := range want {
		if got := describe(s.Lookup(name)); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
	for _, name := range []string{"ONNXModelLoader", "ONNXImageModel", "TextDetection"} {
		n := s.Lookup(name)
		if n == nil || n.PythonModule != "comfyrt.builtin" || n.Category != "comfyrt/model" {
			t.Errorf("%s: %+v", name, n)
		}
	}
	if got := s.Lookup("ONNXImageModel").Output; len(got) != 2 || got[0] != "IMAGE" || got[1] != "MASK" {
		t.Errorf("ONNXImageModel outputs %v", got)
	}
}
