// Package proxy is the sidecar's http.Handler: it routes each request the way
// the engine would, decides it against the live index BEFORE anything reaches
// the upstream, forwards what is allowed (container refs rewritten to full
// IDs) and filters answers that describe containers, writing one audit line
// per request.
package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Resolver finds the visible container a ref names; *index.Index is one.
type Resolver interface {
	Resolve(ctx context.Context, ref string) (index.Decision, error)
}

// Options configure New.
type Options struct {
	// Upstream is the engine or socket proxy to forward to.
	Upstream config.Endpoint
	// Index resolves container refs among visible containers.
	Index Resolver
	// Filters decide visibility of list elements (the same rule as Index's).
	Filters *match.Filters
	// ScrubEnvs empties Config.Env in container inspect answers.
	ScrubEnvs bool
	// Logger receives the audit lines; nil discards them.
	Logger *slog.Logger
	// Transport overrides the upstream transport; nil dials Upstream.
	Transport http.RoundTripper
}

// Proxy is the filtering handler.
type Proxy struct {
	index     Resolver
	filters   *match.Filters
	scrubEnvs bool
	logger    *slog.Logger
	transport http.RoundTripper
	urlHost   string
	headers   headerSnapshot
	rp        *httputil.ReverseProxy
}

// New returns the proxy handler.
func New(o Options) *Proxy {
	p := &Proxy{
		index:     o.Index,
		filters:   o.Filters,
		scrubEnvs: o.ScrubEnvs,
		logger:    o.Logger,
		transport: o.Transport,
		urlHost:   UpstreamURLHost(o.Upstream),
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.filters == nil {
		p.filters = &match.Filters{}
	}
	if p.transport == nil {
		p.transport = NewTransport(o.Upstream)
	}
	p.rp = p.newReverseProxy()
	return p
}

type auditKey struct{}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	a := &audit{op: "Invalid", decision: decisionDeny}
	ctx := context.WithValue(r.Context(), auditKey{}, a)
	r = r.WithContext(ctx)
	defer p.logAudit(ctx, r, rec, a, start)

	rt, err := route.Parse(r.Method, r.URL.Path, r.URL.EscapedPath())
	if err == nil && strings.HasPrefix(r.RequestURI, "//") {
		// net/http reads "//containers/x/json" as host "containers" and
		// path "/x/json"; the engine would too, but no client means that.
		err = route.ErrUnclean
	}
	if err != nil {
		// The engine would redirect such a path; a proxy must not decide on
		// one path and let the engine act on another.
		a.reason = err.Error()
		p.writeEngineError(rec, http.StatusBadRequest, "invalid request path: "+err.Error())
		return
	}
	a.op = rt.Name()

	switch {
	case rt.Spec == nil:
		p.serveUnknown(rec, r, &rt, a)
	case rt.Class().Has(route.ContainerPath):
		p.serveContainer(rec, r, &rt, a)
	case rt.Op() == route.OpContainerList:
		p.serveContainerList(rec, r, &rt, a)
	default:
		// Routes that neither name nor describe containers in this version
		// of the proxy are passed through unchanged.
		a.decision = decisionAllow
		p.forward(rec, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery})
	}
}

// serveUnknown handles a method and path the engine has no route for. Under
// /containers/ and /exec/ the proxy answers the engine's 404 itself, so a
// socket proxy that normalises methods ("get" -> "GET") can never be handed a
// container request that skipped the decision; elsewhere the engine answers.
func (p *Proxy) serveUnknown(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	rest := rt.Path
	if rt.Version != "" {
		rest = strings.TrimPrefix(rest, "/v"+rt.Version)
	}
	if strings.HasPrefix(rest, "/containers/") || strings.HasPrefix(rest, "/exec/") ||
		!isToken(r.Method) {
		a.reason = "no such route"
		writePageNotFound(w)
		return
	}
	a.decision = decisionAllow
	p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery})
}

// isToken reports whether a method is an upper-case token, as every method
// the engine routes is.
func isToken(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

// forward sends the request upstream as f describes.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, f *forward) {
	ctx := context.WithValue(r.Context(), forwardKey{}, f)
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// errUpstreamLookup is reported when the index could not ask the upstream.
var errUpstreamLookup = errors.New("cannot look the container up upstream")
