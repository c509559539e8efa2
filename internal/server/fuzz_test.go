package server

import "testing"

// FuzzParseParams: arbitrary params (start requests and control messages)
// give params or an error, never a panic.
func FuzzParseParams(f *testing.F) {
	f.Add([]byte(`{"prompt": {"1": {"class_type": "LoadTensor", "inputs": {}}}, "width": 512, "height": 512}`), false)
	f.Add([]byte(`{"prompt": "{\"1\": {}}", "width": "512"}`), true)
	f.Add([]byte(`{"prompts": [1, 2]}`), false)
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		_, _ = parseParams(data, nil, strict)
	})
}
