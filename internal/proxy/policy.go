package proxy

import (
	"mime"
	"net/http"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// refusal is a request the proxy turns away whatever it names, before any
// lookup: the answer depends only on the method and route, so it reveals
// nothing about containers.
type refusal struct {
	status int
	msg    string
}

// policy returns why a request is refused outright, or nil: the whole
// decision that depends on the route and method alone, in one place. Every
// route whose strategy is route.Refuse is refused here.
func (p *Proxy) policy(x *exchange) *refusal {
	r, rt := x.r, &x.rt
	if rt.Spec == nil {
		// Not a route of the engine this proxy knows: a route added by a newer
		// engine must not open a hole silently.
		return &refusal{http.StatusForbidden, "docker-proxy-filter: " + r.Method + " " + r.URL.Path +
			" is not a Docker Engine API route known to this proxy, so it is not forwarded"}
	}
	switch rt.Op() {
	case route.OpDebugVars, route.OpDebugPprof:
		// Goroutine dumps and expvars describe every container.
		return &refusal{http.StatusForbidden, "docker-proxy-filter: the engine's debug endpoints describe every container and are not forwarded"}
	case route.OpGRPC, route.OpSession:
		// Raw BuildKit streams the proxy cannot inspect.
		return &refusal{http.StatusForbidden, "docker-proxy-filter: BuildKit sessions (" + rt.Spec.Template + ") cannot be inspected and are not forwarded"}
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead ||
		rt.Op() == route.OpContainerAttachWebsocket // a GET that writes to the container's stdin
	if write && p.readOnly {
		return &refusal{http.StatusForbidden, "docker-proxy-filter: READ_ONLY=true: only GET and HEAD requests are allowed (" +
			r.Method + " " + rt.Spec.Template + " refused)"}
	}

	switch rt.Op() {
	case route.OpSwarmLeave, route.OpNodeUpdate, route.OpNodeDelete:
		// Leaving the swarm removes every task container on the node, and
		// draining or removing a node moves them: hidden ones included.
		return &refusal{http.StatusForbidden, "docker-proxy-filter: " + rt.Spec.Template + " would act on containers this client cannot see, so it is not forwarded"}
	}
	if write && isFormBody(r) {
		// The engine merges form-encoded body values over the query string, so
		// a body could carry a container ref the query check never saw.
		return &refusal{http.StatusBadRequest, "docker-proxy-filter: form-encoded request bodies are not accepted"}
	}
	return nil
}

func isFormBody(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// refuse is the handler bound to route.Refuse. policy refuses every such
// route before any handler runs; this answers the same should one get here.
func (p *Proxy) refuse(x *exchange) {
	no := p.policy(x)
	if no == nil {
		no = &refusal{http.StatusForbidden, "docker-proxy-filter: " + x.r.Method + " " + x.rt.Spec.Template + " is not forwarded"}
	}
	x.audit.reason = no.msg
	x.fail(no.status, no.msg)
}
