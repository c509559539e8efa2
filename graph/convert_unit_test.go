package graph

import (
	"encoding/json"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
)

func TestBypassSlot(t *testing.T) {
	t.Parallel()
	mk := func(ins, outs []string) *UINode {
		n := &UINode{}
		for _, s := range ins {
			n.Inputs = append(n.Inputs, &UIInput{Type: s})
		}
		for _, s := range outs {
			n.Outputs = append(n.Outputs, &UIOutput{Type: s})
		}
		return n
	}
	tests := []struct {
		name      string
		ins, outs []string
		slot      int
		typ       string
		want      int
	}{
		{"same slot compatible", []string{"IMAGE", "MASK"}, []string{"IMAGE", "MASK"}, 1, "MASK", 1},
		{"any type same index", []string{"IMAGE", "MASK"}, []string{"X", "Y"}, 1, "*", 1},
		{"any type beyond inputs", []string{"IMAGE"}, []string{"X", "Y"}, 1, "", 0},
		{"first exact match", []string{"LATENT", "IMAGE"}, []string{"IMAGE"}, 0, "IMAGE", 1},
		{"no match is -1", []string{"LATENT"}, []string{"IMAGE"}, 0, "IMAGE", -1},
		{"comma types compatible", []string{"IMAGE,MASK"}, []string{"MASK"}, 0, "MASK", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bypassSlot(mk(tc.ins, tc.outs), tc.slot, tc.typ); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestIDAndSlotReading(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		v      any
		id     string
		idOK   bool
		slot   int
		slotOK bool
	}{
		{"int", json.Number("7"), "7", true, 7, true},
		{"float integral", json.Number("7.0"), "7", true, 7, true},
		{"negative", json.Number("-10"), "-10", true, -10, true},
		{"string id", "KSampler.0", "KSampler.0", true, 0, false},
		{"numeric string slot", "2", "2", true, 2, true},
		{"fraction", json.Number("1.5"), "1.5", true, 0, false},
		{"null", nil, "", false, 0, false},
		{"bool", true, "", false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := idOf(tc.v)
			if id != tc.id || ok != tc.idOK {
				t.Errorf("idOf = %q %v, want %q %v", id, ok, tc.id, tc.idOK)
			}
			slot, ok := intOf(tc.v)
			if slot != tc.slot || ok != tc.slotOK {
				t.Errorf("intOf = %d %v, want %d %v", slot, ok, tc.slot, tc.slotOK)
			}
		})
	}
}

func TestArrayIndexOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id string
		ok bool
	}{{"0", true}, {"10", true}, {"010", false}, {"4294967295", false}, {"4294967294", true}, {"1:2", false}, {"-1", false}, {"", false}}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			if _, ok := arrayIndex(tc.id); ok != tc.ok {
				t.Errorf("arrayIndex(%q) ok = %v, want %v", tc.id, ok, tc.ok)
			}
		})
	}
}

func TestParseUIRoots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       any
		nilUI   bool
		wantErr bool
	}{
		{"array", []any{}, true, true},
		{"string", "x", true, true},
		{"empty object", jsonx.Object{}, false, false},
		{"nodes not array", jsonx.Object{{Key: "nodes", Value: "x"}}, false, true},
		{"links number", jsonx.Object{{Key: "nodes", Value: []any{}}, {Key: "links", Value: json.Number("3")}}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ui, ds := ParseUI(tc.v)
			if (ui == nil) != tc.nilUI {
				t.Errorf("ui nil = %v, want %v", ui == nil, tc.nilUI)
			}
			hasErr := false
			for _, d := range ds {
				if d.Severity == diag.Error {
					hasErr = true
				}
			}
			if hasErr != tc.wantErr {
				t.Errorf("errors = %v, want %v: %v", hasErr, tc.wantErr, ds)
			}
			p, _ := Convert(ui, ConvertOptions{})
			if p == nil {
				t.Fatal("Convert returned nil")
			}
		})
	}
}
