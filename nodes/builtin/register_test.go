package builtin

import (
	"slices"
	"testing"

	"comfyrt/nodes/schema"
)

// TestKernels_matchSchemas checks every kernel's slots and outputs against
// the built-in object_info schemas (ComfyUI's names and order).
func TestKernels_matchSchemas(t *testing.T) {
	set := schemasOrNil()
	for _, k := range kernels() {
		t.Run(k.class, func(t *testing.T) {
			n := set.Lookup(k.class)
			if n == nil {
				t.Fatalf("no built-in schema for %s", k.class)
			}
			var slots []string
			for _, in := range n.Inputs {
				if in.Section != schema.Hidden {
					slots = append(slots, in.Name)
				}
			}
			if !slices.Equal(slots, k.inputs) {
				t.Errorf("inputs %q, schema declares %q", k.inputs, slots)
			}
			if !slices.Equal(n.Output, k.outputs) && !(len(n.Output) == 0 && len(k.outputs) == 0) {
				t.Errorf("outputs %q, schema declares %q", k.outputs, n.Output)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	r := registry(t)
	var want []string
	for _, k := range kernels() {
		want = append(want, k.class)
	}
	slices.Sort(want)
	if got := r.Classes(); !slices.Equal(got, want) {
		t.Errorf("Classes() = %q, want %q", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering the built-ins twice did not panic")
		}
	}()
	Register(r)
}
