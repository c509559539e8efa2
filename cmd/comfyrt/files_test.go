package main

// Files a workflow reads, through the built binary: pictures are refused by
// their header's dimensions before they are decoded, a network workflow's
// LoadImage cannot leave --input-dir nor read a FIFO or a device, errors
// sent to network clients never name the server's folders, LoadImage's
// MASK is 1 − alpha for a picture with alpha, and a missing model says
// what is missing and how to get it.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"comfyrt/executor/media/av"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
)

// filesRGBA returns a 4×3 picture whose alpha varies by pixel.
func filesRGBA() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	for y := range 3 {
		for x := range 4 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(200 - 10*x), uint8(40 * y), 90, uint8(21*x + 70*y)})
		}
	}
	return img
}

func filesWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// filesStaticWF has a frame input (PrimaryInputLoadImage) and a static
// LoadImage of file name, both saved.
func filesStaticWF(name string) string {
	return fmt.Sprintf(`{"1":{"class_type":"PrimaryInputLoadImage","inputs":{"image":"frame.png"}},
"2":{"class_type":"LoadImage","inputs":{"image":%q}},
"3":{"class_type":"SaveImage","inputs":{"images":["1",0],"filename_prefix":"a"}},
"4":{"class_type":"PreviewImage","inputs":{"images":["2",0]}}}`, name)
}

// TestFiles_RunRefusesHugePicture: a PNG whose header claims 20000×20000
// is refused by its dimensions, with a clear error naming them and the
// limit, both as run's -i picture and as a LoadImage file; the limit is
// --max-image-pixels.
func TestFiles_RunRefusesHugePicture(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.png"), testkit.HeaderPNG(20000, 20000, bytes.Repeat([]byte{0xAB}, 64)), 0o644); err != nil { // only the header reads
		t.Fatal(err)
	}
	testkit.WritePNG(t, filepath.Join(dir, "small.png"), filesRGBA())
	filesWrite(t, filepath.Join(dir, "frame.json"), `{"1":{"class_type":"LoadImage","inputs":{"image":"x.png"}},
"2":{"class_type":"ImageInvert","inputs":{"image":["1",0]}},"3":{"class_type":"SaveImage","inputs":{"images":["2",0],"filename_prefix":"a"}}}`)
	filesWrite(t, filepath.Join(dir, "static.json"), filesStaticWF("big.png"))

	refused := func(r testkit.Result, code int, what string) {
		t.Helper()
		if r.Code != code {
			t.Errorf("%s: exit %d, want %d\n%s%s", what, r.Code, code, r.Stdout, r.Stderr)
		}
		for _, want := range []string{"20000×20000", "over the limit of", "--max-image-pixels"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, want, r.Stderr)
			}
		}
	}
	refused(testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "frame.json", "-i", "big.png", "-o", "out.png"), 2, "run -i big.png")
	r := testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "static.json", "-i", "small.png", "-o", "out.png")
	refused(r, 1, "LoadImage big.png")
	if !strings.Contains(r.Stderr, `"big.png"`) || !strings.Contains(r.Stderr, "LoadImage") {
		t.Errorf("the error does not name the node and the file:\n%s", r.Stderr)
	}

	// The limit is configurable: small.png has 12 pixels.
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "frame.json", "-i", "small.png", "-o", "out.png", "--max-image-pixels", "11")
	if r.Code != 2 || !strings.Contains(r.Stderr, "4×3") {
		t.Errorf("--max-image-pixels 11 on a 4×3 picture: exit %d\n%s", r.Code, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "frame.json", "-i", "small.png", "-o", "out.png", "--max-image-pixels", "12")
	if r.Code != 0 {
		t.Errorf("--max-image-pixels 12 on a 4×3 picture: exit %d\n%s", r.Code, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "static.json", "-i", "small.png", "-o", "out.png", "--max-image-pixels", "100")
	if r.Code != 1 || !strings.Contains(r.Stderr, "over the limit of 100 pixels") {
		t.Errorf("LoadImage with --max-image-pixels 100: exit %d\n%s", r.Code, r.Stderr)
	}
}

// TestFiles_RunAlphaMask: LoadImage's MASK is 1 − alpha at the picture's
// size for a picture with alpha, whether the LoadImage is the frame input
// of a picture run or a static image; a picture without alpha keeps the
// 64×64 zero mask.
func TestFiles_RunAlphaMask(t *testing.T) {
	dir := t.TempDir()
	src := filesRGBA()
	testkit.WritePNG(t, filepath.Join(dir, "rgba.png"), src)
	opaque := image.NewRGBA(image.Rect(0, 0, 5, 2))
	for i := range opaque.Pix {
		opaque.Pix[i] = 255
	}
	testkit.WritePNG(t, filepath.Join(dir, "rgb.png"), opaque)
	filesWrite(t, filepath.Join(dir, "frame.json"), `{"1":{"class_type":"LoadImage","inputs":{"image":"ignored.png"}},
"2":{"class_type":"MaskToImage","inputs":{"mask":["1",1]}},"3":{"class_type":"SaveImage","inputs":{"images":["2",0],"filename_prefix":"a"}}}`)
	filesWrite(t, filepath.Join(dir, "static.json"), `{"1":{"class_type":"PrimaryInputLoadImage","inputs":{"image":"frame.png"}},
"2":{"class_type":"LoadImage","inputs":{"image":"rgba.png"}},
"3":{"class_type":"SaveImage","inputs":{"images":["1",0],"filename_prefix":"a"}},
"4":{"class_type":"MaskToImage","inputs":{"mask":["2",1]}},
"5":{"class_type":"PreviewImage","inputs":{"images":["4",0]}}}`)

	check := func(out string) {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, out))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if got.Bounds().Dx() != 4 || got.Bounds().Dy() != 3 {
			t.Fatalf("%s: mask is %v, want the picture's 4×3", out, got.Bounds())
		}
		for y := range 3 {
			for x := range 4 {
				want := 255 - int(src.NRGBAAt(x, y).A) // 255·(1 − a/255)
				g := int(color.GrayModel.Convert(got.At(x, y)).(color.Gray).Y)
				if g < want-1 || g > want+1 {
					t.Errorf("%s (%d,%d): mask %d/255, want 1 − alpha = %d/255", out, x, y, g, want)
				}
			}
		}
	}
	r := testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "frame.json", "-i", "rgba.png", "-o", "frame.png")
	if r.Code != 0 {
		t.Fatalf("run -i rgba.png: exit %d\n%s", r.Code, r.Stderr)
	}
	check("frame.png")
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "static.json", "-i", "rgb.png", "-o", "static.png")
	if r.Code != 0 {
		t.Fatalf("run static.json: exit %d\n%s", r.Code, r.Stderr)
	}
	check("static-5.png")

	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "frame.json", "-i", "rgb.png", "-o", "opaque.png")
	if r.Code != 0 || !strings.Contains(r.Stdout, "[1,64,64,3]") {
		t.Errorf("run -i rgb.png (no alpha): exit %d, want the 64×64 mask\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestFiles_ServeInputFolder: through serve over HTTP, a network
// workflow's LoadImage cannot follow links out of --input-dir (to a
// picture, /etc/passwd, /dev/zero), nor open a FIFO (which once hung the
// request), nor decode a picture over the limit; the errors name the file
// as the workflow named it and never the server's folders (inputs and
// models). The server keeps serving, and a picture inside the folder
// still loads.
func TestFiles_ServeInputFolder(t *testing.T) {
	top := t.TempDir()
	in := filepath.Join(top, "inputs")
	models := filepath.Join(top, "models")
	for _, d := range []string{in, models} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testkit.WritePNG(t, filepath.Join(top, "outside.png"), filesRGBA())
	testkit.WritePNG(t, filepath.Join(in, "ok.png"), filesRGBA())
	if err := os.WriteFile(filepath.Join(in, "big.png"), testkit.HeaderPNG(20000, 20000, bytes.Repeat([]byte{0xAB}, 64)), 0o644); err != nil { // only the header reads
		t.Fatal(err)
	}
	for name, target := range map[string]string{"link.png": filepath.Join(top, "outside.png"), "passwd.png": "/etc/passwd", "zero.png": "/dev/zero"} {
		if err := os.Symlink(target, filepath.Join(in, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(in, "fifo.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, "--input-dir", in, "--models-dir", models)
	client := &http.Client{Timeout: 30 * time.Second}
	start := func(workflow string) (int, string) {
		t.Helper()
		body := fmt.Sprintf(`{"params":{"prompts":[%s],"width":512,"height":512},"gateway_request_id":"f1",
"subscribe_url":"http://127.0.0.1:9/in","publish_url":"http://127.0.0.1:9/out","control_url":"http://127.0.0.1:9/control","events_url":"http://127.0.0.1:9/events"}`, workflow)
		resp, b := testkit.Do(t, client, http.MethodPost, base+"/stream/start", body, "X-Stream-Id", "f1")
		return resp.StatusCode, b
	}
	for _, name := range []string{"link.png", "passwd.png", "zero.png", "fifo.png", "big.png", "missing.png"} {
		code, body := start(filesStaticWF(name))
		if code == http.StatusOK {
			t.Errorf("LoadImage %s: started (%s)", name, body)
			stopStream(t, client, base)
			continue
		}
		if !strings.Contains(body, name) || !strings.Contains(body, "LoadImage") {
			t.Errorf("LoadImage %s: %d %s: the error does not name the node and the file", name, code, body)
		}
		if strings.Contains(body, top) {
			t.Errorf("LoadImage %s: the error names the server's folder %s: %s", name, top, body)
		}
	}
	code, body := start(`{"1":{"class_type":"LoadImage","inputs":{"image":"x.png"}},
"2":{"class_type":"TextDetection","inputs":{"image":["1",0],"threshold":0.3,"max_side":960}},
"3":{"class_type":"SaveTensor","inputs":{"images":["1",0]}},"4":{"class_type":"MaskToImage","inputs":{"mask":["2",0]}},
"5":{"class_type":"PreviewImage","inputs":{"images":["4",0]}}}`)
	if code == http.StatusOK || !strings.Contains(body, builtin.TextDetModel) || strings.Contains(body, top) {
		t.Errorf("TextDetection without its model: %d %s: want an error naming the model file and not the server's folder", code, body)
	}
	if code == http.StatusOK {
		stopStream(t, client, base)
	}
	if code, body := start(filesStaticWF("ok.png")); code != http.StatusOK {
		t.Errorf("LoadImage ok.png: %d %s", code, body)
	}
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\nstderr:\n%s", err, stderr)
	}
}

func stopStream(t *testing.T, client *http.Client, base string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/stream/stop", nil)
	req.Header.Set("X-Stream-Id", "f1")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
}

// TestFiles_MissingModel: a missing model file is reported as such, with
// how to get it, not as a kernel rejecting its inputs; $COMFYRT_CACHE/models
// is where models are looked for when $COMFYRT_MODELS is unset, as
// scripts/setup.sh puts them there.
func TestFiles_MissingModel(t *testing.T) {
	dir := t.TempDir()
	testkit.WritePNG(t, filepath.Join(dir, "pic.png"), filesRGBA())
	wf, err := os.ReadFile(filepath.Join(testkit.Root(), "workflows", "text-highlight-api.json"))
	if err != nil {
		t.Fatal(err)
	}
	filesWrite(t, filepath.Join(dir, "wf.json"), string(wf))
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "wf.json", "-i", "pic.png", "-o", "out.png", "--models-dir", empty)
	if r.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"missing_file", builtin.TextDetModel, empty, "scripts/setup.sh", "--models-dir", "$COMFYRT_MODELS"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "Kernel rejected its inputs") {
		t.Errorf("a missing model is reported as a kernel rejecting its inputs:\n%s", r.Stderr)
	}

	// $COMFYRT_CACHE/models: the model is found there (it is not a real
	// model, so the run still fails, but not for a missing file).
	cache := filepath.Join(dir, "cache")
	if err := os.MkdirAll(filepath.Join(cache, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	filesWrite(t, filepath.Join(cache, "models", builtin.TextDetModel), "not a model")
	t.Setenv("COMFYRT_MODELS", "")
	t.Setenv("COMFYRT_CACHE", cache)
	r = testkit.Run(t, dir, nil, time.Minute, "run", "--workflow", "wf.json", "-i", "pic.png", "-o", "out.png")
	if r.Code == 0 {
		t.Fatalf("a fake model ran:\n%s", r.Stdout)
	}
	for _, bad := range []string{"missing_file", "no models folder", "no such file"} {
		if strings.Contains(r.Stderr, bad) {
			t.Errorf("with $COMFYRT_CACHE/models holding the model: stderr has %q:\n%s", bad, r.Stderr)
		}
	}
}

// TestFiles_ValidateInputList: `validate --input-dir` offers LoadImage the
// folder's regular files (links followed), as ComfyUI lists it
// (os.path.isfile): a FIFO, a folder and a broken link are not choices.
func TestFiles_ValidateInputList(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	testkit.WritePNG(t, filepath.Join(in, "ok.png"), filesRGBA())
	if err := os.Symlink("ok.png", filepath.Join(in, "link.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("gone.png", filepath.Join(in, "broken.png")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(in, "fifo.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(in, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, valid := range map[string]bool{"ok.png": true, "link.png": true, "broken.png": false, "fifo.png": false, "sub.png": false} {
		filesWrite(t, filepath.Join(dir, "wf.json"), filesStaticWF(name))
		r := testkit.Run(t, dir, nil, time.Minute, "validate", "--input-dir", in, "wf.json")
		if r.Code == 2 {
			t.Fatalf("validate: exit 2\n%s", r.Stderr)
		}
		// The LoadImage's own diagnostic (the frame input's may come and go).
		refused := strings.Contains(r.Stdout+r.Stderr, "'"+name+"' not in [")
		if refused == valid {
			t.Errorf("LoadImage %s: refused %v, want %v\n%s%s", name, refused, !valid, r.Stdout, r.Stderr)
		}
	}
}

// TestFiles_TestCommandAlphaMask: `comfyrt test` runs an input picture
// with alpha as `run -i` does: a frame-input LoadImage's MASK is
// 1 − alpha at the picture's size.
func TestFiles_TestCommandAlphaMask(t *testing.T) {
	dir := t.TempDir()
	src := filesRGBA()
	testkit.WritePNG(t, filepath.Join(dir, "rgba.png"), src)
	want := image.NewGray(src.Bounds())
	for y := range 3 {
		for x := range 4 {
			want.SetGray(x, y, color.Gray{255 - src.NRGBAAt(x, y).A})
		}
	}
	testkit.WritePNG(t, filepath.Join(dir, "mask.png"), want)
	filesWrite(t, filepath.Join(dir, "wf.json"), `{"1":{"class_type":"LoadImage","inputs":{"image":"ignored.png"}},
"2":{"class_type":"MaskToImage","inputs":{"mask":["1",1]}},"3":{"class_type":"SaveImage","inputs":{"images":["2",0],"filename_prefix":"a"}}}`)
	filesWrite(t, filepath.Join(dir, "wf.test.json"), `{"tests":[{"name":"alpha","inputs":["rgba.png"],"expected":["mask.png"]}]}`)
	r := testkit.Run(t, dir, nil, time.Minute, "test", "wf.json")
	if r.Code != 0 {
		t.Errorf("comfyrt test: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

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
