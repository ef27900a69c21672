// Package upstream is the proxy's one way to the engine (or the socket proxy
// in front of it): the index's list, events and lookups, the handler's own
// lookups, and the transport its reverse proxy forwards through all use one
// Client, over one pool of connections. The official Docker SDK serves the
// calls it fits (inspect, events, services); the rest are typed methods over
// the same transport that read only what the proxy needs, streaming where an
// answer can be large.
package upstream

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
)

// urlHostUnix is the Host of requests to a unix-socket upstream; the engine
// ignores it, and the Docker SDK uses the same placeholder.
const urlHostUnix = "api.moby.localhost"

// Bounds on answers read whole.
const (
	// MaxLookup bounds a lookup answer (an inspect, an exec, a version).
	MaxLookup = 32 << 20
	// maxErrorBody bounds an error answer read for its message.
	maxErrorBody = 64 << 10
)

// Client reaches the upstream. It is safe for concurrent use.
type Client struct {
	sdk       *client.Client
	transport *http.Transport
	base      string // "http://<host>", the scheme and host of every request
	logger    *slog.Logger
}

// New returns a Client for the endpoint; nothing is dialled yet.
func New(ep config.Endpoint, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		return nil, errors.New("upstream: New needs a logger")
	}
	t := NewTransport(ep)
	sdk, err := client.New(client.WithHost(ep.String()), client.WithHTTPClient(&http.Client{Transport: t}))
	if err != nil {
		return nil, err
	}
	return &Client{sdk: sdk, transport: t, base: "http://" + URLHost(ep), logger: logger}, nil
}

// Transport is the transport every call uses, for the reverse proxy.
func (c *Client) Transport() http.RoundTripper { return c.transport }

// URLHost is the host part of the URLs of requests to the upstream.
func (c *Client) URLHost() string { return strings.TrimPrefix(c.base, "http://") }

// Close releases the idle connections.
func (c *Client) Close() {
	c.sdk.Close()
	c.transport.CloseIdleConnections()
}

// NewTransport returns an HTTP transport that dials the endpoint whatever
// host a request names. With ep.TLS, every connection is a TLS connection
// made at dial time while requests keep the http scheme: the transport then
// speaks HTTP/1.1 only (never HTTP/2, which the proxy must not speak
// upstream), and the connection a 101 answer hands over for attach and exec
// is the TLS connection itself, so hijacked streams work as over a socket.
func NewTransport(ep config.Endpoint) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, ep.Network, ep.Address)
	}
	if ep.TLS != nil {
		dial = ep.TLS.WrapDial(dial)
	}
	return &http.Transport{
		DialContext: dial,
		// The engine never compresses; a socket proxy in between might, and a
		// filtered answer must be read in the clear.
		DisableCompression:  true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
}

// URLHost is the host part of URLs for requests to an endpoint.
func URLHost(ep config.Endpoint) string {
	if ep.Network == "unix" {
		return urlHostUnix
	}
	return ep.Address
}

// StatusError is an upstream answer other than the one a call expects.
type StatusError struct {
	Code   int
	Status string
}

func (e *StatusError) Error() string { return "upstream answered " + e.Status }

// IsStatus reports whether err is an upstream answer with this status code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// get sends a GET for path (query included) and returns the answer when it
// has status want; any other status is a *StatusError, its body discarded.
func (c *Client) get(ctx context.Context, path string, want int) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, path, want)
}

func (c *Client) do(ctx context.Context, method, path string, want int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		return nil, &StatusError{Code: resp.StatusCode, Status: resp.Status}
	}
	return resp, nil
}

// ErrContentEncoding reports an answer compressed in a way the proxy does
// not read; it is never passed on unread.
var ErrContentEncoding = errors.New("upstream: unsupported content encoding")

// PlainBody returns the answer's body decoded from any gzip content coding
// (the engine never compresses; a socket proxy in between might), so that
// what the proxy checks is what it reads; other codings are refused.
func PlainBody(resp *http.Response) (io.ReadCloser, error) {
	switch ce := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
		return resp.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, err
		}
		resp.Header.Del("Content-Encoding")
		return readCloser{zr, resp.Body}, nil
	default:
		return nil, fmt.Errorf("%w: %s", ErrContentEncoding, ce)
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// readBounded reads an answer body whole, up to limit bytes.
func readBounded(resp *http.Response, limit int64) ([]byte, error) {
	src, err := PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	defer src.Close()
	b, err := io.ReadAll(io.LimitReader(src, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("upstream: answer larger than %d bytes", limit)
	}
	return b, nil
}
