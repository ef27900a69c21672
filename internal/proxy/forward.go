package proxy

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
)

// upstreamHost is the Host of requests to a unix-socket upstream; the engine
// ignores it, and the Docker SDK uses the same placeholder.
const upstreamHost = "api.moby.localhost"

// NewTransport returns an HTTP transport that dials the upstream endpoint
// whatever host a request names.
func NewTransport(ep config.Endpoint) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, ep.Network, ep.Address)
		},
		// The engine never compresses; a socket proxy in between might, and a
		// filtered answer must be read in the clear.
		DisableCompression:  true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
}

// UpstreamURLHost is the host part of upstream URLs for an endpoint.
func UpstreamURLHost(ep config.Endpoint) string {
	if ep.Network == "unix" {
		return upstreamHost
	}
	return ep.Address
}

// forward is what a handler asks the reverse proxy to do with one request.
type forward struct {
	path     string // upstream path (decoded), the ref already rewritten
	rawQuery string
	// modify, when set, rewrites a successful (or any) upstream answer before
	// it reaches the client; an error turns into a 502.
	modify func(*http.Response) error
	// retry, when set, decides the request again when modify reports
	// errDecidedContainerGone.
	retry func(w http.ResponseWriter)
}

type forwardKey struct{}

// newReverseProxy builds the one ReverseProxy every forwarded request uses.
func (p *Proxy) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			f := pr.In.Context().Value(forwardKey{}).(*forward)
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = p.urlHost
			pr.Out.URL.Path = f.path
			pr.Out.URL.RawPath = ""
			pr.Out.URL.RawQuery = f.rawQuery
			pr.Out.Host = ""
			// The engine ignores these, but a socket proxy in front of it
			// might honour them and run another method than the one decided.
			for _, h := range []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"} {
				pr.Out.Header.Del(h)
			}
		},
		Transport:     p.transport,
		FlushInterval: -1, // streams (events, logs, stats) flush as data arrives
		ModifyResponse: func(resp *http.Response) error {
			p.headers.observe(resp.Header)
			f := resp.Request.Context().Value(forwardKey{}).(*forward)
			if f.modify != nil {
				if err := f.modify(resp); err != nil {
					return err
				}
			}
			return p.redactError(resp)
		},
		ErrorHandler: p.upstreamError,
		ErrorLog:     slog.NewLogLogger(p.logger.Handler(), slog.LevelDebug),
	}
}

// errBadUpstreamAnswer marks an upstream answer the proxy refuses to pass on.
var errBadUpstreamAnswer = errors.New("malformed answer from the upstream engine")

// upstreamError answers 502 in the engine's format when the upstream cannot be
// reached or its answer cannot be filtered; the raw answer is never passed on.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; there is nobody to answer.
		return
	}
	if f, ok := r.Context().Value(forwardKey{}).(*forward); ok && f.retry != nil && errors.Is(err, errDecidedContainerGone) {
		f.retry(w)
		return
	}
	msg := "cannot reach the upstream Docker engine"
	if errors.Is(err, errBadUpstreamAnswer) {
		msg = "the upstream Docker engine sent an answer that cannot be filtered"
	}
	if a, ok := r.Context().Value(auditKey{}).(*audit); ok {
		a.set(func(a *audit) { a.reason = err.Error() })
	}
	p.logger.Warn("upstream error", "method", r.Method, "path", r.URL.Path, "error", err)
	p.writeEngineError(w, http.StatusBadGateway, msg)
}

// plainBody returns the answer's body decoded from any gzip content coding, so
// a filter reads JSON; other codings are refused.
func plainBody(resp *http.Response) (io.ReadCloser, error) {
	switch ce := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
		return resp.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, errors.Join(errBadUpstreamAnswer, err)
		}
		resp.Header.Del("Content-Encoding")
		return readCloser{zr, resp.Body}, nil
	default:
		return nil, errors.Join(errBadUpstreamAnswer, errors.New("unsupported content encoding "+ce))
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// LearnEngineHeaders pings the upstream until it answers once, so the errors
// the proxy writes itself carry the engine's headers from the first request,
// and reads /version for the oldest API version the engine accepts. Later
// upstream answers keep the headers current.
func (p *Proxy) LearnEngineHeaders(ctx context.Context) {
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.urlHost+"/_ping", nil)
		if err != nil {
			return
		}
		if resp, err := p.transport.RoundTrip(req); err == nil {
			p.headers.observe(resp.Header)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if p.headers.apiVersion() != "" {
				if body, err := p.upstreamJSON(ctx, "/version"); err == nil {
					var v struct{ MinAPIVersion string }
					if json.Unmarshal(body, &v) == nil {
						p.headers.setMinAPI(v.MinAPIVersion)
					}
				}
				p.headers.learnt.Store(true)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}
