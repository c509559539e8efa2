package streampack

import "testing"

// FuzzParseManifest: arbitrary manifest bytes give a manifest or an error,
// never a panic; an accepted manifest has a name and a version.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "version": "1.0.0", "comfyrt": ">=0.1.0"}`))
	f.Add([]byte(`{"manifest_version": 1, "name": "p", "version": "1.0.0", "nodes": {"X": {"input": {}}}, "implementations": {"X": {"wasm": {"module": "m"}}}, "modules": {"m": {"file": "../x.wasm", "sha256": "00", "size": 1, "abi": 1}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err == nil && (m.Name == "" || m.Version == "") {
			t.Fatalf("accepted a manifest without name or version: %s", data)
		}
	})
}
