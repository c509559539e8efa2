package trickle

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Options configure a Client.
type Options struct {
	// InsecureSkipVerify accepts any TLS certificate, as gateways and the
	// Python runners do: orchestrators usually serve self-signed HTTPS.
	InsecureSkipVerify bool
	// HTTPClient replaces the client built from the options (tests).
	HTTPClient *http.Client
	// RetryDelay is the pause between retries of a failed request (default
	// 500 ms); MaxRetries is how many consecutive failures a subscriber
	// or publisher tolerates before giving up (default 5).
	RetryDelay time.Duration
	MaxRetries int
	// RefreshInterval re-issues a GET that got no response headers for
	// this long (default 20 s, as go-livepeer's subscriber): the server
	// sends headers only with the first byte, so a blocked GET is
	// normal and must not time out.
	RefreshInterval time.Duration
}

// Client is shared by the subscribers and publishers of a process. It
// speaks HTTP/1.1 (like go-livepeer's trickle clients) over plain TCP or
// TLS, with no response-header timeout.
type Client struct {
	http       *http.Client
	retryDelay time.Duration
	maxRetries int
	refresh    time.Duration
}

// NewClient returns a client.
func NewClient(o Options) *Client {
	c := &Client{http: o.HTTPClient, retryDelay: o.RetryDelay, maxRetries: o.MaxRetries, refresh: o.RefreshInterval}
	if c.retryDelay <= 0 {
		c.retryDelay = 500 * time.Millisecond
	}
	if c.maxRetries <= 0 {
		c.maxRetries = 5
	}
	if c.refresh <= 0 {
		c.refresh = 20 * time.Second
	}
	if c.http == nil {
		tr := &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{
				Timeout:   10 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify},
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			// HTTP/1.1 only, as go-livepeer's trickle transport.
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		}
		c.http = &http.Client{Transport: tr}
	}
	return c
}

// CloseIdleConnections closes the kept-alive connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// RewriteHost returns rawURL with its host (and port) replaced by host, as
// an orchestrator's -liveAITrickleHostForRunner does; rawURL unchanged when
// host is empty.
func RewriteHost(rawURL, host string) (string, error) {
	if host == "" {
		return rawURL, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Host = host
	return u.String(), nil
}
