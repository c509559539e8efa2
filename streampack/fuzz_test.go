package streampack

import (
	"bytes"
	"strings"
	"testing"

	"comfyrt/internal/jsonx"
)

// FuzzParseManifest: arbitrary manifest bytes give a manifest or an error,
// never a panic; an accepted manifest has a name and a version, and no
// object of it gives a key twice, not even with another case
// (encoding/json matches fields ignoring case; jsonx.Decode, which keeps
// duplicates, and strings.EqualFold are the reference).
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
	// The same key with another case (encoding/json would take the last
	// for the field), at the top, in a model and with non-ASCII folding.
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "Name": "q", "version": "1.0.0"}`))
	f.Add([]byte(`{"manifest_version": 1, "Name": "p", "version": "1.0.0"}`))
	f.Add(bytes.Replace(tinyManifest(tinyModel), []byte(`"file": "models/m.onnx",`), []byte(`"file": "models/m.onnx", "File": "models/x.onnx",`), 1))
	f.Add(bytes.Replace(tinyManifest(tinyModel), []byte(`"sha256":`), []byte(`"sha256": "00", "\u017fha256":`), 1))
	f.Add(bytes.Replace(tinyManifest(tinyModel), []byte(`"version": "1.0.0",`), []byte(`"version": "1.0.0", "VERSION": "2.0.0",`), 1))
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

// repeatedKey returns a key that an object of the tree gives twice, equal
// ignoring case.
func repeatedKey(v any) string {
	switch v := v.(type) {
	case jsonx.Object:
		for i, m := range v {
			for _, o := range v[:i] {
				if strings.EqualFold(o.Key, m.Key) {
					return m.Key
				}
			}
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
