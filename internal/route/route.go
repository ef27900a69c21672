// Package route maps a request's method and path to the Engine API operation
// the engine itself would run, and finds the container (or exec, network, ...)
// reference in the path.
//
// It routes the way the engine's gorilla/mux router does: an optional
// /v{version:[0-9.]+} prefix, the decoded path only (never the query, never the
// raw request URI), case-sensitive, the first registered route that matches.
// Paths the engine would not serve as they are (dot segments, empty segments,
// encoded slashes that change routing) are refused, because the engine would
// redirect them and a proxy that followed or forwarded them could decide on
// one path and act on another. The package is pure.
package route

import (
	"errors"
	"net/url"
	"path"
	"strings"
)

// Errors for paths that are refused before any decision is taken.
var (
	ErrUnclean      = errors.New("path is not in canonical form (dot segments, empty segments or a missing leading slash)")
	ErrEncodedSlash = errors.New("path has an encoded slash that changes how it is routed")
)

// Route is a parsed request path.
type Route struct {
	// Spec is the matched route, nil when the engine serves no route for this
	// method and path (it would answer 404 "page not found").
	Spec *Spec
	// Version is the API version from the /v{version} prefix, without the "v";
	// empty when the path is unversioned.
	Version string
	// Path is the decoded, canonical request path, version prefix included.
	Path string
	// Ref is the first path variable: the container reference for container
	// routes, the exec ID for exec routes, and so on. Empty when none.
	Ref string

	refStart, refEnd int // span of Ref in Path; -1 when there is none
}

// Op is the operation, OpUnknown when no route matches.
func (r *Route) Op() Op {
	if r.Spec == nil {
		return OpUnknown
	}
	return r.Spec.Op
}

// Name is the operation name for logs ("ContainerInspect"), or "Unknown".
func (r *Route) Name() string {
	if r.Spec == nil {
		return "Unknown"
	}
	return r.Spec.Name
}

// Strategy is how the proxy handles the route; Unset for unknown routes.
func (r *Route) Strategy() Strategy {
	if r.Spec == nil {
		return Unset
	}
	return r.Spec.Strategy
}

// hasRef reports whether the route has a path variable.
func (r *Route) hasRef() bool { return r.refStart >= 0 }

// WithRef returns Path with the reference replaced, e.g. by a container's full
// ID so that a rename between the decision and the engine's lookup cannot
// redirect the request to another container.
func (r *Route) WithRef(ref string) string {
	if r.refStart < 0 {
		return r.Path
	}
	return r.Path[:r.refStart] + ref + r.Path[r.refEnd:]
}

// Parse routes a request. decodedPath is http.Request.URL.Path and
// escapedPath is URL.EscapedPath(); the query is never looked at.
func Parse(method, decodedPath, escapedPath string) (Route, error) {
	if !IsClean(decodedPath) {
		return Route{}, ErrUnclean
	}
	r := lookup(method, decodedPath)
	if hasEncodedSlash(escapedPath) {
		// Route the path as it would be if the encoded slashes were ordinary
		// bytes. If that picks another route, the client and the engine could
		// disagree on what the path means: refuse rather than guess.
		alt, err := url.PathUnescape(strings.NewReplacer("%2F", "%252F", "%2f", "%252f").Replace(escapedPath))
		if err != nil {
			return Route{}, ErrUnclean
		}
		if lookup(method, alt).Spec != r.Spec {
			return Route{}, ErrEncodedSlash
		}
	}
	return r, nil
}

// IsClean reports whether the engine's router would serve p as it is rather
// than redirect it to a cleaned form.
func IsClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	if p[len(p)-1] == '/' && clean != "/" {
		clean += "/"
	}
	return clean == p
}

func hasEncodedSlash(escaped string) bool {
	for i := 0; i+2 < len(escaped); i++ {
		if escaped[i] == '%' && escaped[i+1] == '2' && (escaped[i+2] == 'f' || escaped[i+2] == 'F') {
			return true
		}
	}
	return false
}

// lookup finds the first route matching method and a clean path.
func lookup(method, p string) Route {
	r := Route{Path: p, refStart: -1, refEnd: -1}
	rest := p
	if v, after, ok := splitVersion(p); ok {
		r.Version, rest = v, after
	}
	offset := len(p) - len(rest)
	for _, i := range candidates(rest) {
		spec := &Table[i]
		if spec.Method != method {
			continue
		}
		ok, start, end := compiled[i].match(rest)
		if !ok {
			continue
		}
		r.Spec = spec
		if start >= 0 {
			r.refStart, r.refEnd = offset+start, offset+end
			r.Ref = p[r.refStart:r.refEnd]
		}
		return r
	}
	return r
}

// splitVersion splits "/v1.41/containers/json" into "1.41" and
// "/containers/json". Like the engine's /v{version:[0-9.]+} it accepts any
// non-empty run of digits and dots; the engine then rejects versions it does
// not support, before running any handler.
func splitVersion(p string) (version, rest string, ok bool) {
	if len(p) < 3 || p[1] != 'v' {
		return "", p, false
	}
	i := 2
	for i < len(p) && (p[i] == '.' || p[i] >= '0' && p[i] <= '9') {
		i++
	}
	if i == 2 || i == len(p) || p[i] != '/' {
		return "", p, false
	}
	return p[2:i], p[i:], true
}
