package main

// Tests of the built binary in a real process: an in-process test once hid
// a start-up crash of serve.

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"comfyrt/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServe starts `comfyrt serve` as a process and waits until /health
// answers; it returns the base URL and a stop function that sends SIGTERM
// and returns the exit error and stderr.
func startServe(t *testing.T, args ...string) (base string, stop func() (error, string)) {
	t.Helper()
	bin := testkit.Binary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Dir = t.TempDir()
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	base = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve exited before listening: %v\nstderr:\n%s", err, errb.String())
		default:
		}
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("serve: /health did not answer within 30 s\nstderr:\n%s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	//lint:ignore ST1008 other tests already read (err, stderr) from stop
	stop = func() (error, string) {
		if stopped {
			return nil, errb.String()
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			return err, errb.String()
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			return errors.New("serve did not exit within 20 s of SIGTERM"), errb.String()
		}
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

// syncBuffer is a bytes.Buffer safe for the process's writer goroutine and
// the test reading it.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) lock() {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.String()
}

// TestBinary_ServeStartsAndStops: serve listens, answers /health and
// /version, and exits 0 on SIGTERM.
func TestBinary_ServeStartsAndStops(t *testing.T) {
	base, stop := startServe(t)
	resp, err := http.Get(base + "/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/version: %s", resp.Status)
	}
	if err, stderr := stop(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\nstderr:\n%s", err, stderr)
	}
}

// TestBinary_Help: every command answers --help with exit 0 and its usage.
func TestBinary_Help(t *testing.T) {
	for _, c := range commands() {
		r := testkit.Run(t, "", nil, time.Minute, c.name, "--help")
		if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "comfyrt "+c.name) {
			t.Errorf("comfyrt %s --help: exit %d\n%s%s", c.name, r.Code, r.Stdout, r.Stderr)
		}
	}
	r := testkit.Run(t, "", nil, time.Minute)
	if r.Code != 2 {
		t.Errorf("comfyrt with no command: exit %d, want 2", r.Code)
	}
}
