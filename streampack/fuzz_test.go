package streampack

import (
	"testing"

	"comfyrt/internal/jsonx"
)

// FuzzParseManifest: arbitrary manifest bytes give a manifest or an error,
// never a panic; an accepted manifest has a name and a version, and no
// object of it gives a key twice (jsonx.Decode, which keeps duplicates, is
// the reference).
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "version": "1.0.0", "comfyrt": ">=0.1.0"}`))
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "version": "1.0.0", "nodes": {"X": {"input": {}}}, "implementations": {"X": {"wasm": {"module": "m"}}}, "modules": {"m": {"file": "../x.wasm", "sha256": "00", "size": 1, "abi": 1}}}`))
	f.Add([]byte(`[]`))
	f.Add(tinyManifest(tinyModel))
	// Duplicate keys, at the top and nested.
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "name": "q", "version": "1.0.0"}`))
	f.Add([]byte(`{"manifest_version": 1, "na\u006de": "p", "name": "q", "version": "1.0.0"}`))
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "version": "1.0.0", "tests": [{"name": "a", "name": "b"}]}`))
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "version": "1.0.0", "nodes": {"X": {"input": {"required": {"i": ["IMAGE"], "i": ["MASK"]}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if m.Name == "" || m.Version == "" {
			t.Fatalf("accepted a manifest without name or version: %s", data)
		}
		v, err := jsonx.Decode(data)
		if err != nil {
			t.Fatalf("accepted a manifest jsonx cannot decode (%v): %s", err, data)
		}
		if k := repeatedKey(v); k != "" {
			t.Fatalf("accepted a manifest that gives %q twice: %s", k, data)
		}
	})
}

// repeatedKey returns a key that an object of the tree gives twice.
func repeatedKey(v any) string {
	switch v := v.(type) {
	case jsonx.Object:
		seen := map[string]bool{}
		for _, m := range v {
			if seen[m.Key] {
				return m.Key
			}
			seen[m.Key] = true
			if k := repeatedKey(m.Value); k != "" {
				return k
			}
		}
	case []any:
		for _, e := range v {
			if k := repeatedKey(e); k != "" {
				return k
			}
		}
	}
	return ""
}
