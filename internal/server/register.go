package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Capability is a BYOC capability registration (LIVEPEER.md §2.6).
type Capability struct {
	OrchURL      string  `json:"-"`
	OrchSecret   string  `json:"-"`
	Name         string  `json:"name"`
	Description  string  `json:"description"`
	URL          string  `json:"url"`
	Capacity     int     `json:"capacity"`
	PricePerUnit float64 `json:"price_per_unit"`
	PriceScaling float64 `json:"price_scaling"`
	Currency     string  `json:"currency"`
	Token        string  `json:"token"`
	// RetryDelay between attempts (default 2 s) and Attempts (default 30).
	RetryDelay time.Duration `json:"-"`
	Attempts   int           `json:"-"`
}

// ErrRegistrationRefused is a 400 from the orchestrator: a wrong secret or
// a bad body. It is final; registration does not retry it.
var ErrRegistrationRefused = errors.New("orchestrator refused the registration (400: wrong ORCH_SECRET or bad body)")

// Register posts the capability to {OrchURL}/capability/register with the
// raw secret as Authorization, retrying other failures.
func Register(ctx context.Context, c Capability) error {
	if c.RetryDelay <= 0 {
		c.RetryDelay = 2 * time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = 30
	}
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer hc.CloseIdleConnections()
	url := strings.TrimSuffix(c.OrchURL, "/") + "/capability/register"
	var last error
	for i := 0; i < c.Attempts; i++ {
		if i > 0 {
			select {
			case <-time.After(c.RetryDelay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", c.OrchSecret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = err
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return nil
		case http.StatusBadRequest:
			return ErrRegistrationRefused
		}
		last = fmt.Errorf("status %s", resp.Status)
	}
	return fmt.Errorf("registration failed after %d attempts: %w", c.Attempts, last)
}

// RegisterFromEnv registers when ORCH_URL is set, from ORCH_SECRET and
// CAPABILITY_* (pytrickle's variables); nil when ORCH_URL is unset.
func RegisterFromEnv(ctx context.Context, capacity int, token string) error {
	orch := os.Getenv("ORCH_URL")
	if orch == "" {
		return nil
	}
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	num := func(k string, def float64) float64 {
		v, err := strconv.ParseFloat(env(k, ""), 64)
		if err != nil {
			return def
		}
		return v
	}
	c := Capability{
		OrchURL: orch, OrchSecret: os.Getenv("ORCH_SECRET"),
		Name: env("CAPABILITY_NAME", "comfyrt"), Description: env("CAPABILITY_DESCRIPTION", "comfyrt live ComfyUI workflows"),
		URL: env("CAPABILITY_URL", "http://localhost:8000"), Capacity: int(num("CAPABILITY_CAPACITY", float64(capacity))),
		PricePerUnit: num("CAPABILITY_PRICE_PER_UNIT", 0), PriceScaling: num("CAPABILITY_PRICE_SCALING", 1),
		Currency: env("CAPABILITY_CURRENCY", "wei"), Token: token,
	}
	os.Unsetenv("ORCH_SECRET") // as ComfyStream: the secret does not outlive its use
	return Register(ctx, c)
}
