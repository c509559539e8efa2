package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

// startPreview runs the built binary's preview on a free port and returns
// the URL it printed.
func startPreview(t *testing.T, args ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(testkit.Binary(t), append([]string{"preview", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir()
	var errb syncBuffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		m := regexp.MustCompile(`open (http://\S+)`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("preview printed %q, no URL\nstderr:\n%s", l, errb.String())
		}
		return m[1], cmd, &errb
	case <-time.After(30 * time.Second):
		t.Fatalf("preview printed nothing within 30 s\nstderr:\n%s", errb.String())
	}
	return "", nil, nil
}

func TestPreviewBinary(t *testing.T) {
	url, cmd, errb := startPreview(t, "--token", "tok", "--workflow", filepath.Join(testkit.Root(), "workflows/invert-blur-api.json"),
		"--examples", filepath.Join(testkit.Root(), "workflows"))
	base, frag, _ := strings.Cut(url, "#")
	if frag != "token=tok" || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("URL %q: want loopback with #token=tok", url)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, body := testkit.Do(t, c, "GET", base, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<title>comfyrt preview</title>") || !strings.Contains(body, `src="app.js"`) {
		t.Fatalf("GET /: %s %.200s", resp.Status, body)
	}
	if resp, body = testkit.Do(t, c, "GET", base+"app.js", ""); resp.StatusCode != 200 || !strings.Contains(body, "whip") {
		t.Fatalf("GET /app.js: %s", resp.Status)
	}
	for _, auth := range []string{"", "Bearer wrong"} {
		var hdr []string
		if auth != "" {
			hdr = append(hdr, "Authorization", auth)
		}
		if resp, _ := testkit.Do(t, c, "POST", base+"whip", "v=0", hdr...); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST /whip with %q: %s, want 401", auth, resp.Status)
		}
	}
	resp, body = testkit.Do(t, c, "GET", base+"api/workflow", "", "Authorization", "Bearer tok")
	var wf struct {
		Name    string           `json:"name"`
		Widgets []map[string]any `json:"widgets"`
		Explain string           `json:"explain"`
	}
	if err := json.Unmarshal([]byte(body), &wf); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/workflow: %s %s", resp.Status, body)
	}
	if !strings.HasSuffix(wf.Name, "invert-blur-api.json") || len(wf.Widgets) < 2 || !strings.Contains(wf.Explain, "ImageInvert") {
		t.Errorf("workflow: %+v", wf)
	}
	resp, body = testkit.Do(t, c, "GET", base+"api/examples", "", "Authorization", "Bearer tok")
	if resp.StatusCode != 200 || !strings.Contains(body, `"identity-api.json"`) || strings.Contains(body, "ui/") {
		t.Errorf("GET /api/examples: %s %s", resp.Status, body)
	}
	resp, body = testkit.Do(t, c, "POST", base+"api/workflow?example=identity-api.json", "", "Authorization", "Bearer tok")
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"identity-api.json"`) {
		t.Errorf("POST /api/workflow?example=identity-api.json: %s %s", resp.Status, body)
	}
	resp, body = testkit.Do(t, c, "POST", base+"api/workflow?name=bad.json", `{"1": {"class_type": "NoSuchNode", "inputs": {}}}`, "Authorization", "Bearer tok")
	if resp.StatusCode != 422 || !strings.Contains(body, `"node":"1"`) || !strings.Contains(body, "NoSuchNode") {
		t.Errorf("bad workflow: %s %s", resp.Status, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v\nstderr:\n%s", err, errb.String())
	}
}

func TestPreviewBinaryErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"1": {"class_type": "ImageInvert", "inputs": {}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, time.Minute, "preview", "--workflow", bad, "--addr", "127.0.0.1:0")
	if r.Code != exitInvalid || !strings.Contains(r.Stderr, "node 1 (ImageInvert) input image") {
		t.Errorf("bad workflow: exit %d, stderr %s", r.Code, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "preview", "--codec", "av1")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "--codec must be vp8 or h264") {
		t.Errorf("--codec av1: exit %d, stderr %s", r.Code, r.Stderr)
	}
}

// TestServePreview mounts the same preview under serve's /preview/ with
// serve's token.
func TestServePreview(t *testing.T) {
	base, stop := startServe(t, "--preview", "--token", "tok")
	defer stop()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, body := testkit.Do(t, c, "GET", base+"/preview", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<title>comfyrt preview</title>") {
		t.Fatalf("GET /preview (redirected): %s %.200s", resp.Status, body)
	}
	if resp, _ = testkit.Do(t, c, "POST", base+"/preview/whip", "v=0"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /preview/whip without the token: %s", resp.Status)
	}
	resp, body = testkit.Do(t, c, "GET", base+"/preview/api/workflow", "", "Authorization", "Bearer tok")
	if resp.StatusCode != 200 || !strings.Contains(body, "default-api.json (built in)") {
		t.Errorf("GET /preview/api/workflow: %s %s", resp.Status, body)
	}
	if resp, _ = testkit.Do(t, c, "GET", base+"/health", ""); resp.StatusCode != 200 {
		t.Errorf("/health: %s", resp.Status)
	}
}
