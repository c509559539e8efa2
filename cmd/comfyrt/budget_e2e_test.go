package main

// Resource limits for untrusted workflows, through the built binary: a
// workflow whose plan would not fit in memory is refused with
// plan_too_large by compile, run and every serve endpoint that takes a
// workflow, and serve stays up.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
	"comfyrt/internal/trickle/trickletest"
	"comfyrt/nodes/builtin"
	"comfyrt/nodes/engine/ort"
)

// budgetEmpty asks for 4096 pictures of 16384×16384 (12 TiB of float32).
const budgetEmpty = `{
 "1": {"class_type": "EmptyImage", "inputs": {"width": 16384, "height": 16384, "batch_size": 4096, "color": 0}},
 "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}}
}`

// budgetScale scales the frame by 8 three times (a 512×512 frame becomes
// 262144×262144).
const budgetScale = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ImageScaleBy", "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "scale_by": 8.0}},
 "3": {"class_type": "ImageScaleBy", "inputs": {"image": ["2", 0], "upscale_method": "bilinear", "scale_by": 8.0}},
 "4": {"class_type": "ImageScaleBy", "inputs": {"image": ["3", 0], "upscale_method": "bilinear", "scale_by": 8.0}},
 "5": {"class_type": "SaveTensor", "inputs": {"images": ["4", 0]}}
}`

// budgetBomb blends the frame with a static picture whose PNG header
// claims 100000×100000 pixels (decoding it would allocate 40 GB).
const budgetBomb = `{
 "1": {"class_type": "PrimaryInputLoadImage", "inputs": {"image": "frame.png"}},
 "2": {"class_type": "LoadImage", "inputs": {"image": "bomb.png"}},
 "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.5, "blend_mode": "normal"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`

func writeBudgetFiles(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	for name, src := range map[string]string{"empty.json": budgetEmpty, "scale.json": budgetScale, "bomb.json": budgetBomb} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bomb.png"), testkit.HeaderPNG(100000, 100000, testkit.EmptyZlib), 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.WritePNG(t, filepath.Join(dir, "frame.png"), image.NewNRGBA(image.Rect(0, 0, 64, 64)))
	return dir
}

// TestBinary_BudgetCompileAndRunRefuse: compile and run exit 1 with the
// diagnostic naming the node, its output's shape and its bytes.
func TestBinary_BudgetCompileAndRunRefuse(t *testing.T) {
	dir := writeBudgetFiles(t)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"compile EmptyImage, default budget", []string{"compile", "empty.json"},
			[]string{"node 1 (EmptyImage)", "plan_too_large", "IMAGE[4096,16384,16384,3]", "13194139533312 B"}},
		{"compile scale chain", []string{"compile", "--max-plan-bytes", "256MiB", "scale.json"},
			[]string{"node 3 (ImageScaleBy)", "plan_too_large", "IMAGE[1,4096,4096,3]", "256.0 MiB"}},
		{"compile LoadImage bomb, default limits", []string{"compile", "bomb.json"},
			[]string{"node 2 (LoadImage)", "invalid_file", "100000×100000", "--max-image-pixels"}},
		{"compile LoadImage bomb, pixel limit raised", []string{"compile", "--max-image-pixels", "100000000000", "bomb.json"},
			[]string{"node 2 (LoadImage)", "plan_too_large", "scratch"}},
		{"run EmptyImage, default budget", []string{"run", "--workflow", "empty.json", "-o", "out.png"},
			[]string{"node 1 (EmptyImage)", "plan_too_large", "IMAGE[4096,16384,16384,3]"}},
		{"run scale chain", []string{"run", "--workflow", "scale.json", "-i", "frame.png", "-o", "out.png", "--max-plan-bytes", "64MiB"},
			[]string{"node 3 (ImageScaleBy)", "plan_too_large", "IMAGE[1,4096,4096,3]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := testkit.Run(t, dir, nil, 2*time.Minute, c.args...)
			out := r.Stdout + r.Stderr
			if r.Code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.Code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out.png")); err == nil {
		t.Error("a refused run wrote its output")
	}
	// A bad size is a usage error.
	if r := testkit.Run(t, dir, nil, time.Minute, "compile", "--max-plan-bytes", "lots", "scale.json"); r.Code != 2 || !strings.Contains(r.Stderr, "max-plan-bytes") {
		t.Errorf("--max-plan-bytes lots: exit %d\n%s", r.Code, r.Stderr)
	}
}

// budgetOrch is an orchestrator's trickle server with the channels of
// stream id.
func budgetOrch(t *testing.T, id string) string {
	t.Helper()
	return trickletest.New(t).Channels(id, false)
}

func budgetPost(t *testing.T, url, body string, hdr ...string) (int, string) {
	t.Helper()
	resp, b := testkit.Do(t, nil, http.MethodPost, url, body, append([]string{"Content-Type", "application/json"}, hdr...)...)
	return resp.StatusCode, b
}

func budgetHealthy(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatalf("/health after the hostile requests: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/health: %s", resp.Status)
	}
}

// budgetEndpoints posts wf to every endpoint that takes a workflow and
// checks that each refuses it with plan_too_large naming node.
func budgetEndpoints(t *testing.T, base, wf, node string) {
	t.Helper()
	id := "g1"
	ch := budgetOrch(t, id)
	identity, err := os.ReadFile(filepath.Join(testkit.Root(), "workflows", "identity-api.json"))
	if err != nil {
		t.Fatal(err)
	}
	start := func(wf string) string {
		return fmt.Sprintf(`{"gateway_request_id":%q,"subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"params":{"prompt":%s}}`,
			id, ch, ch+"-out", ch+"-control", ch+"-events", wf)
	}
	live := fmt.Sprintf(`{"subscribe_url":%q,"publish_url":%q,"model_id":"comfyui","params":{"prompt":%s}}`, ch, ch+"-out", wf)
	check := func(what string, code int, body string) {
		t.Helper()
		if code != http.StatusBadRequest || !strings.Contains(body, "plan_too_large") || !strings.Contains(body, node) {
			t.Errorf("%s: %d %s; want 400 with plan_too_large naming %s", what, code, body, node)
		}
	}
	code, body := budgetPost(t, base+"/live-video-to-video", live)
	check("/live-video-to-video", code, body)
	code, body = budgetPost(t, base+"/stream/start", start(wf))
	check("/stream/start", code, body)
	code, body = budgetPost(t, base+"/prompt", `{"prompt":`+wf+`}`)
	check("/prompt", code, body)
	var pr struct {
		NodeErrors map[string]struct {
			Errors []struct {
				Type string `json:"type"`
			} `json:"errors"`
		} `json:"node_errors"`
	}
	if err := json.Unmarshal([]byte(body), &pr); err != nil || len(pr.NodeErrors) != 1 {
		t.Errorf("/prompt answer is not ComfyUI's shape with one node error: %v %s", err, body)
	}
	// /stream/params needs a running stream: start one on a workflow that
	// fits, then update it with the hostile one.
	if code, body := budgetPost(t, base+"/stream/start", start(string(identity))); code != http.StatusOK {
		t.Fatalf("starting a stream on identity: %d %s", code, body)
	}
	code, body = budgetPost(t, base+"/stream/params", `{"prompt":`+wf+`}`, "X-Stream-Id", id)
	check("/stream/params", code, body)
	budgetPost(t, base+"/stream/stop", "", "X-Stream-Id", id)
	budgetHealthy(t, base)
}

// TestBinary_BudgetServeRefusesHostileWorkflows: with serve's default
// budget (half the RAM over --capacity) the 12 TiB EmptyImage is refused on
// every endpoint; with --max-plan-bytes the ×8×8×8 chain is refused at its
// first scale. serve stays up, answers /health and exits 0 on SIGTERM.
func TestBinary_BudgetServeRefusesHostileWorkflows(t *testing.T) {
	t.Run("EmptyImage default budget", func(t *testing.T) {
		base, stop := startServe(t, "--capacity", "2")
		budgetEndpoints(t, base, budgetEmpty, "EmptyImage")
		if err, stderr := stop(); err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr)
		}
	})
	t.Run("scale chain", func(t *testing.T) {
		base, stop := startServe(t, "--max-plan-bytes", "128MiB")
		budgetEndpoints(t, base, budgetScale, "ImageScaleBy")
		if err, stderr := stop(); err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr)
		}
	})
}

// TestBinary_BudgetCapacityCheckedBeforeCompile: a start on a full runner
// is refused for capacity (503) without its workflow being compiled (a
// compile would have answered 400 plan_too_large).
func TestBinary_BudgetCapacityCheckedBeforeCompile(t *testing.T) {
	base, stop := startServe(t, "--capacity", "1")
	ch := budgetOrch(t, "g1")
	identity, err := os.ReadFile(filepath.Join(testkit.Root(), "workflows", "identity-api.json"))
	if err != nil {
		t.Fatal(err)
	}
	start := func(id, wf string) string {
		return fmt.Sprintf(`{"gateway_request_id":%q,"subscribe_url":%q,"publish_url":%q,"params":{"prompt":%s}}`, id, ch, ch+"-out", wf)
	}
	if code, body := budgetPost(t, base+"/stream/start", start("g1", string(identity))); code != http.StatusOK {
		t.Fatalf("first start: %d %s", code, body)
	}
	code, body := budgetPost(t, base+"/stream/start", start("g2", budgetEmpty))
	if code != http.StatusServiceUnavailable || strings.Contains(body, "plan_too_large") {
		t.Errorf("start on a full runner: %d %s; want 503 before any compile", code, body)
	}
	budgetPost(t, base+"/stream/stop", "", "X-Stream-Id", "g1")
	budgetHealthy(t, base)
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
}

// TestBinary_BudgetSlowBodyIsCutOff: a control request that sends its
// headers and half its body is answered 408 and its connection closed
// once --body-timeout passes, rather than holding the connection.
func TestBinary_BudgetSlowBodyIsCutOff(t *testing.T) {
	base, stop := startServe(t, "--body-timeout", "500ms")
	for _, path := range []string{"/stream/start", "/prompt", "/live-video-to-video"} {
		t.Run(path, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"gateway_request_id\":", path)
			// Generous: the point is that the server cuts it, not when.
			conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer to the unfinished body: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("status %s, want 408", resp.Status)
			}
			if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("the connection is still open after the answer: %v", err)
			}
		})
	}
	budgetHealthy(t, base)
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
}

// r2ModelWF runs the frame through the PP-OCRv4 detector as a generic
// ONNXImageModel at a model input of SIZE².
const r2ModelWF = `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "ONNXModelLoader", "inputs": {"model_name": "` + builtin.TextDetModel + `", "device": "cpu"}},
 "3": {"class_type": "ONNXImageModel", "inputs": {"image": ["1", 0], "model": ["2", 0], "width": SIZE, "height": SIZE,
   "layout": "NCHW", "channels": "RGB", "mean": "0", "std": "1", "output_scale": "clamp"}},
 "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}
}`

// TestBinary_R2BudgetModelRefusedBeforeSession: with the real ONNX
// Runtime, an ONNXImageModel asked for a 2048² or 8192² model input is
// refused by compile with plan_too_large on the node's scratch (its
// session's tensors, pipeline buffers and the runtime estimate), which is
// counted before the session is opened, so that no activation is
// allocated; a 64² one compiles under the same budget.
func TestBinary_R2BudgetModelRefusedBeforeSession(t *testing.T) {
	if err := ort.CheckInit(); err != nil {
		t.Skipf("ONNX Runtime unavailable: %v", err)
	}
	lib, err := ort.LibraryPath()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(ort.LibEnv, lib) // the binary runs in a temporary folder
	models := defaultModelsDir()
	if _, err := os.Stat(filepath.Join(models, builtin.TextDetModel)); err != nil {
		t.Skip("PP-OCRv4 model absent (run scripts/setup.sh)")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		size   int
		budget string
		code   int
	}{{2048, "512MiB", 1}, {8192, "2GiB", 1}, {64, "512MiB", 0}} {
		t.Run(strconv.Itoa(c.size), func(t *testing.T) {
			wf := filepath.Join(dir, "m"+strconv.Itoa(c.size)+".json")
			if err := os.WriteFile(wf, []byte(strings.ReplaceAll(r2ModelWF, "SIZE", strconv.Itoa(c.size))), 0o644); err != nil {
				t.Fatal(err)
			}
			r := testkit.Run(t, dir, nil, 2*time.Minute, "compile", "--models-dir", models, "--max-plan-bytes", c.budget,
				"--width", "256", "--height", "256", wf)
			out := r.Stdout + r.Stderr
			if r.Code != c.code {
				t.Fatalf("exit %d, want %d\n%s", r.Code, c.code, out)
			}
			if c.code == 0 {
				return
			}
			for _, w := range []string{"node 3 (ONNXImageModel)", "plan_too_large", "scratch"} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
