package builtin_test

import (
	"testing"

	"comfyrt/nodes/builtin"
)

// TestSchemas_realTimeDrawing pins QuickShapeMask and TextRenderer, which
// no dump in the corpus has, to ryanontheinside/ComfyUI_RealTimeNodes
// misc_nodes.py (@e4ebb28): INPUT_TYPES, RETURN_TYPES, CATEGORY,
// DESCRIPTION, and the display names __init__.py derives (words of the
// class name plus " 🕒🅡🅣🅝"); MAX_RESOLUTION is core's 16384.
func TestSchemas_realTimeDrawing(t *testing.T) {
	want := map[string]string{
		"QuickShapeMask": `required shape COMBO ["circle","square"] {"default":"circle","tooltip":"The shape of the mask to generate"}; ` +
			`required width INT {"default":64,"min":1,"max":4096,"step":1,"tooltip":"Width of the shape in pixels"}; ` +
			`required height INT {"default":64,"min":1,"max":4096,"step":1,"tooltip":"Height of the shape in pixels"}; ` +
			`required x INT {"default":256,"min":0,"max":4096,"step":1,"tooltip":"X position of the shape center (0 = left edge)"}; ` +
			`required y INT {"default":256,"min":0,"max":4096,"step":1,"tooltip":"Y position of the shape center (0 = top edge)"}; ` +
			`required canvas_width INT {"default":512,"min":1,"max":4096,"step":1,"tooltip":"Width of the output mask"}; ` +
			`required canvas_height INT {"default":512,"min":1,"max":4096,"step":1,"tooltip":"Height of the output mask"}; ` +
			`required batch_size INT {"default":1,"min":1,"max":64,"step":1,"tooltip":"Number of identical masks to generate"}; ` +
			`-> MASK MASK | mask | Quick Shape Mask 🕒🅡🅣🅝`,
		"TextRenderer": `required any *; required width INT {"default":512,"min":64,"max":16384,"step":8}; ` +
			`required height INT {"default":512,"min":64,"max":16384,"step":8}; required font_size INT {"default":48,"min":1,"max":512,"step":1}; ` +
			`required font_color STRING {"default":"white"}; required background_color STRING {"default":"black"}; ` +
			`required x_offset INT {"default":0,"min":-4096,"max":4096,"step":1}; required y_offset INT {"default":0,"min":-4096,"max":4096,"step":1}; ` +
			`required align COMBO ["left","center","right"] {"default":"center"}; ` +
			`required wrap_width INT {"default":0,"min":0,"max":16384,"step":8,"tooltip":"Width to wrap text at (0 = no wrapping)"}; ` +
			`-> IMAGE,MASK IMAGE,MASK | real-time | Text Renderer 🕒🅡🅣🅝`,
	}
	s := builtin.Schemas()
	for name, w := range want {
		n := s.Lookup(name)
		if n == nil {
			t.Fatalf("%s missing", name)
		}
		if got := describe(n); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
		if n.PythonModule != "custom_nodes.ComfyUI_RealTimeNodes" {
			t.Errorf("%s: python_module %q", name, n.PythonModule)
		}
	}
	if d := s.Lookup("QuickShapeMask").Description; d != "Generates a mask containing a basic shape (circle or square) with high performance" {
		t.Errorf("QuickShapeMask description %q", d)
	}
}
