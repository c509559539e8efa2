package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

// slogPost posts body to url with the headers (name, value pairs) and
// returns the status and the X-Request-Id response header.
func slogPost(t *testing.T, url, body string, headers ...string) (int, string) {
	t.Helper()
	resp, _ := testkit.Do(t, nil, http.MethodPost, url, body, append([]string{"Content-Type", "application/json"}, headers...)...)
	return resp.StatusCode, resp.Header.Get("X-Request-Id")
}

// slogLines parses every stderr line as a JSON log record, failing the
// test on a line that is not one (with level and msg).
func slogLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(stderr) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line is not JSON: %q (%v)", line, err)
			continue
		}
		if _, ok := rec["level"].(string); !ok {
			t.Errorf("log record without level: %q", line)
		}
		if _, ok := rec["msg"].(string); !ok {
			t.Errorf("log record without msg: %q", line)
		}
		recs = append(recs, rec)
	}
	return recs
}

const slogBadPrompt = `{"prompt":{"1":{"class_type":"NoSuchNodeClass","inputs":{}}}}`

// With --log-format json every stderr line is a JSON record; a refused
// request is logged with its request id (the X-Request-Id it was answered
// with) and, when it names one, the stream id.
func TestSlogServeJSON(t *testing.T) {
	base, stop := startServe(t, "--log-format", "json")
	code, rid := slogPost(t, base+"/prompt", slogBadPrompt)
	if code != http.StatusBadRequest {
		t.Fatalf("bad /prompt: status %d, want 400", code)
	}
	if rid == "" {
		t.Fatal("no X-Request-Id header on the /prompt answer")
	}
	code, rid2 := slogPost(t, base+"/stream/stop", `{}`, "X-Stream-Id", "slog-stream-1")
	if code != http.StatusBadRequest {
		t.Fatalf("stop of an unknown stream: status %d, want 400", code)
	}
	if rid2 == "" || rid2 == rid {
		t.Errorf("request ids %q and %q: want two distinct ids", rid, rid2)
	}
	err, stderr := stop()
	if err != nil {
		t.Fatalf("serve: %v\nstderr:\n%s", err, stderr)
	}
	var prompt, stream bool
	for _, rec := range slogLines(t, stderr) {
		if rec["request"] == rid && rec["path"] == "/prompt" && rec["status"] == float64(400) && rec["level"] == "INFO" {
			prompt = true
		}
		if rec["request"] == rid2 && rec["stream"] == "slog-stream-1" {
			stream = true
		}
	}
	if !prompt {
		t.Errorf("no INFO record of the bad /prompt with request %q, path and status 400:\n%s", rid, stderr)
	}
	if !stream {
		t.Errorf("no record of the stop with request %q and stream slog-stream-1:\n%s", rid2, stderr)
	}
}

// --log-level error keeps info records (a refused request) off stderr.
func TestSlogServeLevel(t *testing.T) {
	base, stop := startServe(t, "--log-format", "json", "--log-level", "error")
	if code, _ := slogPost(t, base+"/prompt", slogBadPrompt); code != http.StatusBadRequest {
		t.Fatalf("bad /prompt: status %d, want 400", code)
	}
	err, stderr := stop()
	if err != nil {
		t.Fatalf("serve: %v\nstderr:\n%s", err, stderr)
	}
	for _, rec := range slogLines(t, stderr) {
		if rec["level"] != "ERROR" {
			t.Errorf("record below error with --log-level error: %v", rec)
		}
	}
}

// A bad --log-format or --log-level is a usage error.
func TestSlogServeBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		res := testkit.Run(t, "", nil, 30*time.Second, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
		if res.Code != exitUsage {
			t.Errorf("serve %v: exit %d, want %d\nstderr:\n%s", args, res.Code, exitUsage, res.Stderr)
		}
		if !strings.Contains(res.Stderr, args[0]) {
			t.Errorf("serve %v: the usage error does not name %s:\n%s", args, args[0], res.Stderr)
		}
	}
}

// run's warnings are log records: with --log-format json the warning of a
// picture run whose workflow ignores -i is a JSON WARN record naming the
// workflow; --log-level error drops it; a bad --log-format is a usage error.
func TestSlogRunJSON(t *testing.T) {
	dir := t.TempDir()
	in, _ := writeTestPNG(t, dir, "in.png", 8, 8)
	wf := filepath.Join(dir, "empty.json")
	const empty = `{"1":{"class_type":"EmptyImage","inputs":{"width":8,"height":8,"batch_size":1,"color":0}},` +
		`"2":{"class_type":"SaveImage","inputs":{"images":["1",0],"filename_prefix":"x"}}}`
	if err := os.WriteFile(wf, []byte(empty), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testkit.Run(t, dir, nil, time.Minute, "run", wf, "-i", in, "-o", "out.png", "--log-format", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	warned := false
	for _, rec := range slogLines(t, r.Stderr) {
		if rec["level"] == "WARN" && rec["workflow"] == wf {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no WARN record naming the workflow:\n%s", r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", wf, "-i", in, "-o", "out2.png", "--log-level", "error")
	if r.Code != 0 || strings.Contains(r.Stderr, "no frame input") {
		t.Errorf("--log-level error: exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
	r = testkit.Run(t, dir, nil, time.Minute, "run", wf, "-i", in, "-o", "out3.png", "--log-format", "xml")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "--log-format") {
		t.Errorf("--log-format xml: exit %d, want %d, stderr:\n%s", r.Code, exitUsage, r.Stderr)
	}
}
