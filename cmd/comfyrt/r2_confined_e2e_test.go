package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/executor/media/av"
	"comfyrt/nodes/engine/ort"
)

// r2ServeModelWF is an ONNXImageModel workflow whose model_name is NAME.
const r2ServeModelWF = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ONNXModelLoader", "inputs": {"model_name": NAME, "device": "cpu"}},
 "3": {"class_type": "ONNXImageModel", "inputs": {"image": ["1", 0], "model": ["2", 0], "width": 64, "height": 64,
   "layout": "NCHW", "channels": "RGB", "mean": "0", "std": "1", "output_scale": "clamp"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`

// TestBinary_R2ServeHidesLibraryPath: serve with no ONNX Runtime library
// (COMFYRT_ORT_LIB names a missing file in a folder of the server) answers
// a model workflow on /prompt with "the ONNX Runtime library was not found
// on the server": neither the library's path nor "Kernel rejected its
// inputs". A model name the client sent that lies in the server's input
// folder comes back as sent, not rewritten.
func TestBinary_R2ServeHidesLibraryPath(t *testing.T) {
	if !av.Available {
		t.Skip("built without cgo: ONNX Runtime cannot be loaded at all")
	}
	root := t.TempDir()
	secret := filepath.Join(root, "secret-install")
	models, in := filepath.Join(root, "models"), filepath.Join(root, "files", "in")
	for _, d := range []string{models, in} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(models, "m.onnx"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ort.LibEnv, filepath.Join(secret, ort.LibName))
	base, stop := startServe(t, "--models-dir", models, "--input-dir", in)
	defer stop()

	ch := budgetOrch(t, "r2")
	start := func(name string) (int, string) {
		wf := strings.ReplaceAll(r2ServeModelWF, "NAME", `"`+name+`"`)
		return budgetPost(t, base+"/stream/start", fmt.Sprintf(`{"gateway_request_id":"r2","subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"params":{"prompt":%s}}`,
			ch, ch+"-out", ch+"-control", ch+"-events", wf))
	}
	code, body := start("m.onnx")
	t.Logf("%d %s", code, body)
	if code != http.StatusBadRequest || !strings.Contains(body, "the ONNX Runtime library was not found on the server") {
		t.Errorf("/stream/start: %d %s; want 400 saying the library was not found on the server", code, body)
	}
	for _, bad := range []string{secret, ort.LibName, "Kernel rejected its inputs", ort.LibEnv} {
		if strings.Contains(body, bad) {
			t.Errorf("/stream/start answer contains %q: %s", bad, body)
		}
	}

	name := filepath.Join(in, "ok.png")
	code, body = start(name)
	t.Logf("%d %s", code, body)
	if code != http.StatusBadRequest || !strings.Contains(body, name) {
		t.Errorf("/stream/start with model %s: %d %s; want 400 naming the model as sent", name, code, body)
	}
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
}
