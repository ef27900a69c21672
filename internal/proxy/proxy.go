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
	"net/url"
	"path"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Index is what the proxy asks of the live index; *index.Index is one.
type Index interface {
	// Resolve finds the visible container a ref names.
	Resolve(ctx context.Context, ref string) (index.Decision, error)
	// Known describes an indexed container by full ID, without upstream call.
	Known(id string) (name string, visible, ok bool)
	// Seen is Known for containers indexed now or removed since.
	Seen(id string) (byLabels, visible, ok bool)
	// HiddenID and HiddenName recognise hidden containers in messages.
	HiddenID(prefix string) bool
	HiddenName(name string) bool
	HiddenRef(ref string) bool
	// Invalidate settles a container the engine answered "No such
	// container" for although the index held it.
	Invalidate(ctx context.Context, id string) error
}

// options are the handler's dependencies. Every one is required: a missing
// one is an error, never a silent default (a defaulted visibility rule once
// made main differ from the tests). NewSidecar is the only caller.
type options struct {
	// Upstream is the engine or socket proxy to forward to.
	Upstream config.Endpoint
	// Index resolves container refs among visible containers.
	Index Index
	// Visibility is the one visibility rule, shared with the index.
	Visibility *index.Visibility
	// ScrubEnvs empties Config.Env in container inspect answers and keeps
	// environments out of top, service and task answers.
	ScrubEnvs bool
	// ReadOnly lets only GET and HEAD through.
	ReadOnly bool
	// MaxBodySize bounds request bodies read to decide.
	MaxBodySize int64
	// BodyTimeout bounds how long a request body may take (see body.go).
	BodyTimeout time.Duration
	// Logger receives the audit lines.
	Logger *slog.Logger
	// Transport reaches the upstream.
	Transport http.RoundTripper
}

// Proxy is the filtering handler.
type Proxy struct {
	index     Index
	vis       *index.Visibility
	scrubEnvs bool
	readOnly  bool
	maxBody   int64
	// bodyTimeout bounds request bodies (see body.go).
	bodyTimeout time.Duration
	execs       *lru.Cache[string, string] // exec ID -> container ID
	logger      *slog.Logger
	transport   http.RoundTripper
	urlHost     string
	headers     headerSnapshot
	rp          *httputil.ReverseProxy
}

// newProxy returns the handler, or why its dependencies are incomplete.
func newProxy(o options) (*Proxy, error) {
	var missing []string
	if o.Upstream.Network == "" {
		missing = append(missing, "Upstream")
	}
	if o.Index == nil {
		missing = append(missing, "Index")
	}
	if o.Visibility == nil {
		missing = append(missing, "Visibility")
	}
	if o.Logger == nil {
		missing = append(missing, "Logger")
	}
	if o.Transport == nil {
		missing = append(missing, "Transport")
	}
	if o.MaxBodySize <= 0 {
		missing = append(missing, "MaxBodySize")
	}
	if o.BodyTimeout <= 0 {
		missing = append(missing, "BodyTimeout")
	}
	if len(missing) > 0 {
		return nil, errors.New("proxy: missing dependencies: " + strings.Join(missing, ", "))
	}
	p := &Proxy{
		index:       o.Index,
		vis:         o.Visibility,
		scrubEnvs:   o.ScrubEnvs,
		readOnly:    o.ReadOnly,
		maxBody:     o.MaxBodySize,
		bodyTimeout: o.BodyTimeout,
		logger:      o.Logger,
		transport:   o.Transport,
		urlHost:     UpstreamURLHost(o.Upstream),
	}
	p.execs, _ = lru.New[string, string](4096)
	p.rp = p.newReverseProxy()
	return p, nil
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
	if errors.Is(err, route.ErrUnclean) {
		// The engine's router answers a path with dot or empty segments
		// with a redirect to its cleaned form and serves nothing; a client
		// that follows it sends a new request, decided afresh.
		a.reason = "redirected to the cleaned path"
		redirectToCleanPath(rec, r)
		return
	}
	if err != nil {
		// An encoded slash that changes the route: the engine would route
		// the decoded path, which the client may not mean.
		a.reason = err.Error()
		p.writeEngineError(rec, http.StatusBadRequest, "invalid request path: "+err.Error())
		return
	}
	a.op = rt.Name()
	p.guardBody(rec, r)
	if apiVersion(rt.Version).plainTextErrors() {
		rec.plainErrors = true
	}
	if msg := p.versionError(rt.Version); msg != "" && rt.Spec != nil {
		// The engine refuses such a version before any route runs.
		a.reason = "unsupported API version"
		p.writeEngineError(noExperimentalHeader{rec}, http.StatusBadRequest, msg)
		return
	}
	if no := p.policy(r, &rt); no != nil {
		a.reason = no.msg
		p.writeEngineError(rec, no.status, no.msg)
		return
	}

	switch {
	case rt.Class().Has(route.ContainerPath):
		p.serveContainer(rec, r, &rt, a)
	case rt.Class().Has(route.ExecPath):
		p.serveExec(rec, r, &rt, a)
	case rt.Op() == route.OpContainerList:
		p.serveContainerList(rec, r, &rt, a)
	case rt.Op() == route.OpContainerCreate:
		p.serveContainerCreate(rec, r, &rt, a)
	case rt.Op() == route.OpNetworkConnect, rt.Op() == route.OpNetworkDisconnect:
		p.serveNetworkAttach(rec, r, &rt, a)
	case rt.Op() == route.OpImageCommit:
		p.serveCommit(rec, r, &rt, a)
	case rt.Op() == route.OpImageBuild:
		p.serveBuild(rec, r, &rt, a)
	case rt.Op() == route.OpContainerPrune:
		p.serveContainerPrune(rec, r, &rt, a)
	case rt.Op() == route.OpSystemEvents:
		p.serveEvents(rec, r, &rt, a)
	case describing[rt.Op()]:
		p.serveDescribing(rec, r, &rt, a)
	case rt.Op() == route.OpImageGet, rt.Op() == route.OpImageGetAll:
		p.serveImageExport(rec, r, &rt, a)
	case swarmRoutes[rt.Op()]:
		p.serveSwarm(rec, r, &rt, a)
	default:
		a.decision = decisionAllow
		f := &forward{path: rt.Path, rawQuery: r.URL.RawQuery}
		if progressStreams[rt.Op()] {
			f.modify = p.redactStreamErrors
		}
		p.forward(rec, r, f)
	}
}

// progressStreams answer with a stream of JSON progress messages, which
// carries errors that happen once the answer has started.
var progressStreams = map[route.Op]bool{
	route.OpImageCreate: true, route.OpImagePush: true, route.OpImageLoad: true,
	route.OpPluginPull: true, route.OpPluginPush: true, route.OpPluginUpgrade: true,
}

// forward sends the request upstream as f describes.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, f *forward) {
	ctx := context.WithValue(r.Context(), forwardKey{}, f)
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// errUpstreamLookup is reported when the index could not ask the upstream.
var errUpstreamLookup = errors.New("cannot look the container up upstream")

// describing lists the routes whose answers are rewritten by serveDescribing.
var describing = map[route.Op]bool{
	route.OpNetworkInspect: true, route.OpNetworkList: true, route.OpSystemDataUsage: true,
	route.OpSystemInfo: true, route.OpImageList: true, route.OpImageInspect: true,
}

// swarmRoutes are decided by serveSwarm.
var swarmRoutes = map[route.Op]bool{
	route.OpServiceList: true, route.OpServiceInspect: true, route.OpServiceLogs: true,
	route.OpServiceCreate: true, route.OpServiceUpdate: true, route.OpServiceDelete: true,
	route.OpTaskList: true, route.OpTaskInspect: true, route.OpTaskLogs: true,
}

// redirectToCleanPath answers as the engine's router (gorilla/mux) does for
// a path that is not clean: 301 to the path cleaned of dot and empty
// segments (a trailing slash kept), query kept, no body, no engine headers.
func redirectToCleanPath(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	if p[len(p)-1] == '/' && clean != "/" {
		clean += "/"
	}
	u := url.URL{Path: clean, RawQuery: r.URL.RawQuery}
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusMovedPermanently)
}

// noExperimentalHeader drops Docker-Experimental, which the engine's version
// check answers without (it runs before the middleware that sets it).
type noExperimentalHeader struct{ *recorder }

func (w noExperimentalHeader) WriteHeader(code int) {
	w.Header().Del("Docker-Experimental")
	w.recorder.WriteHeader(code)
}
