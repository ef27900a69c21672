// Package proxy is the sidecar's http.Handler. A request flows one way:
//
//	route       what the engine would run (internal/route), and the route's
//	            strategy: the handler bound to it below
//	access      the API areas and actions LinuxServer's variables allow
//	            (internal/access), then READ_ONLY and the write policy
//	visibility  the one rule for containers, services and tasks
//	            (internal/visibility), asked through the live index for refs
//	upstream    the one client to the engine (internal/upstream): lookups
//	            the decision needs, then the forward of what was decided,
//	            container refs rewritten to the full IDs decided on
//	rewrite     the answer, filtered to what the client may see
//	            (internal/rewrite)
//	audit       one line per request, and its metrics (internal/metrics)
//
// Everything one request carries travels in an exchange, explicitly.
// Nothing with a side effect reaches the upstream before the decision.
package proxy

import (
	"errors"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// options are the handler's dependencies. Every one is required: a missing
// one is an error, never a silent default (a defaulted visibility rule once
// made main differ from the tests). NewSidecar is the only caller.
type options struct {
	// Upstream reaches the engine or socket proxy.
	Upstream *upstream.Client
	// Index resolves container refs among visible containers.
	Index *index.Index
	// Visibility is the one visibility rule, shared with the index.
	Visibility *visibility.Rule
	// ScrubEnvs empties Config.Env in container inspect answers and keeps
	// environments out of top, service and task answers.
	ScrubEnvs bool
	// ReadOnly lets only GET and HEAD through.
	ReadOnly bool
	// Access is the category policy (LinuxServer's variables); an inactive
	// one allows everything.
	Access access.Policy
	// Metrics receives request, stream, event and upstream-error counts;
	// nil when METRICS_LISTEN is off.
	Metrics *metrics.Metrics
	// MaxBodySize bounds request bodies read to decide.
	MaxBodySize int64
	// BodyTimeout bounds how long a request body may take (see body.go).
	BodyTimeout time.Duration
	// Logger receives the audit lines.
	Logger *slog.Logger
}

// Proxy is the filtering handler.
type Proxy struct {
	up          *upstream.Client
	index       *index.Index
	vis         *visibility.Rule
	scrubEnvs   bool
	readOnly    bool
	access      access.Policy
	metrics     *metrics.Metrics
	maxBody     int64
	bodyTimeout time.Duration
	execs       *lru.Cache[string, string] // exec ID -> container ID
	logger      *slog.Logger
	errorLog    *log.Logger // the reverse proxy's, into logger at debug
	headers     headerSnapshot
	// handlers binds each route strategy to its handler.
	handlers [route.StrategyCount]func(*exchange)
}

// newProxy returns the handler, or why its dependencies are incomplete.
func newProxy(o options) (*Proxy, error) {
	var missing []string
	if o.Upstream == nil {
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
		up:          o.Upstream,
		index:       o.Index,
		vis:         o.Visibility,
		scrubEnvs:   o.ScrubEnvs,
		readOnly:    o.ReadOnly,
		access:      o.Access,
		metrics:     o.Metrics,
		maxBody:     o.MaxBodySize,
		bodyTimeout: o.BodyTimeout,
		logger:      o.Logger,
		errorLog:    slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	p.execs, _ = lru.New[string, string](4096)
	p.handlers = [route.StrategyCount]func(*exchange){
		route.Refuse:          p.refuse,
		route.Pass:            p.pass,
		route.PassProgress:    p.passProgress,
		route.Container:       p.serveContainer,
		route.Exec:            p.serveExec,
		route.ContainerList:   p.serveContainerList,
		route.ContainerCreate: p.serveContainerCreate,
		route.ContainerPrune:  p.serveContainerPrune,
		route.NetworkAttach:   p.serveNetworkAttach,
		route.Commit:          p.serveCommit,
		route.Build:           p.serveBuild,
		route.Events:          p.serveEvents,
		route.NetworkInspect:  p.serveNetworkInspect,
		route.NetworkList:     p.serveNetworkList,
		route.DiskUsage:       p.serveDiskUsage,
		route.Info:            p.serveInfo,
		route.ImageList:       p.serveImageList,
		route.ImageInspect:    p.serveImageInspect,
		route.ImageExport:     p.serveImageExport,
		route.ServiceList:     p.serveServiceList,
		route.TaskList:        p.serveTaskList,
		route.ServiceCreate:   p.serveServiceCreate,
		route.Service:         p.serveService,
		route.Task:            p.serveTask,
	}
	return p, nil
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := p.newExchange(w, r)
	defer x.logAudit()

	rt, err := route.Parse(r.Method, r.URL.Path, r.URL.EscapedPath())
	if errors.Is(err, route.ErrUnclean) {
		// The engine's router answers a path with dot or empty segments
		// with a redirect to its cleaned form and serves nothing; a client
		// that follows it sends a new request, decided afresh.
		x.audit.reason = "redirected to the cleaned path"
		redirectToCleanPath(x.w, r)
		return
	}
	if err != nil {
		// An encoded slash that changes the route: the engine would route
		// the decoded path, which the client may not mean.
		x.audit.reason = err.Error()
		x.fail(http.StatusBadRequest, "invalid request path: "+err.Error())
		return
	}
	x.rt = rt
	x.audit.op = rt.Name()
	x.plainErrors = apiVersion(rt.Version).plainTextErrors()
	p.guardBody(x.w, r)
	if rt.Spec != nil {
		// LinuxServer's socket-proxy variables (an inactive policy allows
		// everything), decided on the engine's route, as the socket proxy
		// in front of an engine would: before the engine looks at anything,
		// its API version included. Visibility applies on top.
		v := p.access.Decide(r.Method, &rt)
		if v.Allow && rt.Op() == route.OpContainerStart && apiVersion(rt.Version).startBodyIsHostConfig(r.ContentLength) {
			v = p.access.DecideStartHostConfig(r.Method, &rt)
		}
		if !v.Allow {
			x.audit.reason = v.Message
			x.fail(http.StatusForbidden, v.Message)
			return
		}
	}
	if msg := p.versionError(rt.Version); msg != "" && rt.Spec != nil {
		// The engine refuses such a version before any route runs, and
		// without the header its later middleware sets.
		x.audit.reason = "unsupported API version"
		x.failWithoutExperimental(http.StatusBadRequest, msg)
		return
	}
	if no := p.policy(x); no != nil {
		x.audit.reason = no.msg
		x.fail(no.status, no.msg)
		return
	}
	if streams(&rt, r) {
		defer p.metrics.StreamOpened(rt.Name()).Close()
		x.containerStream = rt.Name() != "SystemEvents"
	}
	p.handlers[rt.Strategy()](x)
}

// pass forwards a request that names and reveals no container as asked.
func (p *Proxy) pass(x *exchange) {
	x.audit.decision = decisionAllow
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery})
}

// passProgress is pass for a progress stream (pull, push, load, plugins):
// errors inside it are redacted.
func (p *Proxy) passProgress(x *exchange) {
	x.audit.decision = decisionAllow
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery, modify: p.redactStreamErrors})
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

// streams reports whether a request opens a long-lived stream, counted in
// the open-streams metric while it lasts: events, followed logs, a stats
// stream, attach and exec sessions.
func streams(rt *route.Route, r *http.Request) bool {
	if rt.Spec == nil {
		return false
	}
	switch rt.Name() {
	case "SystemEvents", "ContainerAttach", "ContainerAttachWebsocket", "ExecStart":
		return true
	case "ContainerLogs", "ServiceLogs", "TaskLogs":
		return queryBool(r.URL.Query().Get("follow"))
	case "ContainerStats":
		q := r.URL.Query()
		return !q.Has("stream") || queryBool(q.Get("stream"))
	}
	return false
}

// queryBool reads a boolean query parameter as the engine does: empty, "0",
// "no", "false" and "none" are false, anything else true.
func queryBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}
