package schema

import "strings"

// IsCoreModule reports whether a python_module is ComfyUI's own: "nodes"
// (nodes.py), "comfy_extras.*" or "comfy_api_nodes.*".
func IsCoreModule(module string) bool {
	return module == "nodes" || strings.HasPrefix(module, "comfy_extras.") || strings.HasPrefix(module, "comfy_api_nodes.")
}

// PackOf returns the custom node pack a python_module belongs to, the
// folder ComfyUI loaded it from ("custom_nodes.ComfyUI-Stream-Pack" →
// "ComfyUI-Stream-Pack"), or "" for a module outside custom_nodes.
func PackOf(module string) string {
	rest, ok := strings.CutPrefix(module, "custom_nodes.")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ".")
	return name
}
