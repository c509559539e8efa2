package schema_test

import (
	"testing"

	"comfyrt/nodes/schema"
)

func TestModules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		module string
		core   bool
		pack   string
	}{
		{"nodes", true, ""}, {"comfy_extras.nodes_mask", true, ""}, {"comfy_api_nodes.nodes_openai", true, ""},
		{"custom_nodes.ComfyUI-Stream-Pack", false, "ComfyUI-Stream-Pack"}, {"custom_nodes.comfystream.nodes.audio", false, "comfystream"},
		{"comfyrt.builtin", false, ""}, {"", false, ""}, {"nodes_extra", false, ""}, {"comfy_extras", false, ""}, {"custom_nodes.", false, ""},
	} {
		if got := schema.IsCoreModule(c.module); got != c.core {
			t.Errorf("IsCoreModule(%q) = %v", c.module, got)
		}
		if got := schema.PackOf(c.module); got != c.pack {
			t.Errorf("PackOf(%q) = %q, want %q", c.module, got, c.pack)
		}
	}
}
