package testkit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDo: the method, body and headers arrive; the status, headers and
// body come back.
func TestDo(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("X-In"))
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(r.Method + " " + string(b)))
	}))
	defer hs.Close()
	resp, body := Do(t, nil, http.MethodPut, hs.URL, "hello", "X-In", "v1", "Odd")
	if resp.StatusCode != http.StatusTeapot || body != "PUT hello" || resp.Header.Get("X-Echo") != "v1" {
		t.Errorf("got %d %q %q", resp.StatusCode, body, resp.Header.Get("X-Echo"))
	}
}
