package testkit

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// Do sends an HTTP request with client c (nil: http.DefaultClient) and
// the headers hdr (name, value, … pairs) and returns the response, its
// body read and closed, and the body's text. A request that gets no
// response fails the test.
func Do(tb testing.TB, c *http.Client, method, url, body string, hdr ...string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, string(b)
}

// Promtool checks a Prometheus text exposition with `promtool check
// metrics`; it skips the test without promtool (Debian package
// prometheus) and fails it on promtool's complaints.
func Promtool(tb testing.TB, text string) {
	tb.Helper()
	NeedTools(tb, "promtool")
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}
