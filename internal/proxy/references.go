package proxy

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/bodyref"
	"github.com/dpf-dev/docker-proxy-filter/internal/filterarg"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Requests that name containers in their body or query: every reference to
// a hidden container is treated exactly as a reference to a nonexistent one,
// and every reference the engine will act on reaches it as the full ID that
// was decided.

// visibleRef resolves ref among visible containers; ok is false when it
// names none (or is ambiguous), err when the upstream could not be asked.
func (p *Proxy) visibleRef(ctx context.Context, ref string) (d index.Decision, ok bool, err error) {
	d, err = p.index.Resolve(ctx, ref)
	return d, err == nil && d.Outcome == index.Found, err
}

// serveNetworkAttach checks the container of a network connect or
// disconnect and forwards it as the full ID decided on. A disconnect with
// Force and an unknown container would make the engine delete an endpoint
// by name, so the ref must be visible.
func (p *Proxy) serveNetworkAttach(x *exchange) {
	body, err := p.readBody(x.r)
	if err != nil {
		x.bodyError(err)
		return
	}
	var container bodyref.Ref
	var links []bodyref.Ref
	force := false
	connect := x.rt.Op() == route.OpNetworkConnect
	var decodeErr error
	if connect {
		container, links, decodeErr = bodyref.NetworkConnect(body)
	} else {
		container, force, decodeErr = bodyref.NetworkDisconnect(body)
	}
	if decodeErr == nil && container.Ref != "" {
		d, ok, err := p.visibleRef(x.r.Context(), container.Ref)
		if err != nil {
			x.lookupFailed(err)
			return
		}
		if !ok {
			x.audit.reason = "network " + x.rt.Name() + " of a container that is not visible"
			if p.headers.podman() {
				p.failPodmanLookup(x, d.Outcome, container.Ref, http.StatusNotFound, http.StatusInternalServerError)
				return
			}
			if force {
				// With Force the engine falls back to deleting an endpoint
				// by that name; for a missing one it answers this.
				x.fail(http.StatusNotFound, "endpoint "+container.Ref+" not found")
				return
			}
			x.fail(http.StatusNotFound, noSuchContainer(container.Ref))
			return
		}
		if _, ok := p.checkBodyRefs(x, "network "+x.rt.Name(), links); !ok {
			return
		}
		x.audit.containerID, x.audit.containerName = d.ID, d.Name
		rewritten, err := bodyref.RewriteNetworkContainer(body, connect, d.ID)
		if err != nil {
			x.rewriteFailed(err)
			return
		}
		setRequestBody(x.r, rewritten)
	}
	x.audit.decision = decisionAllow
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery})
}

// serveCommit resolves ?container= and forwards it as the full ID.
func (p *Proxy) serveCommit(x *exchange) {
	q := x.r.URL.Query()
	ref := q.Get("container") // the engine reads the first value
	if ref == "" {
		// Names no container: the engine refuses it (400 "invalid name or
		// ID supplied") before it looks anything up. Forwarded without any
		// container value, so that no parser of the query can find one the
		// proxy did not see (a second container=, say).
		q.Del("container")
		x.audit.decision = decisionAllow
		x.forward(forward{path: x.rt.Path, rawQuery: q.Encode()})
		return
	}
	d, ok := p.requireVisible(x, ref, "commit of a container that is not visible")
	if !ok {
		return
	}
	q.Set("container", d.ID)
	x.audit.decision, x.audit.containerID, x.audit.containerName = decisionAllow, d.ID, d.Name
	x.forward(forward{path: x.rt.Path, rawQuery: q.Encode()})
}

// serveBuild resolves networkmode=container:<ref>, which the classic builder
// applies to every RUN container; the build's progress stream has its
// errors redacted.
func (p *Proxy) serveBuild(x *exchange) {
	q := x.r.URL.Query()
	rawQuery := x.r.URL.RawQuery
	if ref, isContainer := bodyref.ContainerMode(q.Get("networkmode")); isContainer && ref != "" {
		d, ok := p.requireVisible(x, ref, "build joins a container that is not visible")
		if !ok {
			return
		}
		q.Set("networkmode", "container:"+d.ID)
		rawQuery = q.Encode()
	}
	x.audit.decision = decisionAllow
	x.forward(forward{path: x.rt.Path, rawQuery: rawQuery, modify: p.redactStreamErrors})
}

// listFilters rewrites the before/since filters of a container list to full
// IDs of visible containers. The engine resolves them by exact ID or exact
// name only (no prefix). ok is false when the answer has been written.
func (p *Proxy) listFilters(x *exchange, rawQuery string) (string, bool) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil || len(values["filters"]) == 0 {
		return rawQuery, true
	}
	args, err := filterarg.Parse(values["filters"][0])
	if err != nil || !args.Contains("before") && !args.Contains("since") {
		return rawQuery, true // the engine answers a bad filter itself
	}
	for _, key := range []string{"before", "since"} {
		var ids []string
		for _, ref := range args.Get(key) {
			d, err := p.index.Resolve(x.r.Context(), ref)
			if err != nil {
				x.lookupFailed(err)
				return "", false
			}
			// Podman resolves them as any ref, ID prefixes included.
			exact := p.headers.podman() || d.ID == ref || d.Name == "/"+strings.TrimPrefix(ref, "/")
			if d.Outcome != index.Found || !exact {
				x.audit.reason = "list filter " + key + " names a container that is not visible"
				if p.headers.podman() {
					p.failPodmanLookup(x, d.Outcome, ref, http.StatusInternalServerError, http.StatusInternalServerError)
					return "", false
				}
				if p.engine().missingListFilterIsServerError() {
					x.fail(http.StatusInternalServerError, "no such container "+ref)
				} else {
					x.fail(http.StatusNotFound, noSuchContainer(ref))
				}
				return "", false
			}
			ids = append(ids, d.ID)
		}
		if len(ids) > 0 {
			args = args.With(key, ids...)
		}
	}
	values["filters"] = []string{args.Encode()}
	return values.Encode(), true
}

// checkStartBody reads a start request's body, checks the container
// references of the HostConfig it may carry and rewrites them to the decided
// IDs; false when it has answered.
func (p *Proxy) checkStartBody(x *exchange) bool {
	body, err := p.readBody(x.r)
	if err != nil {
		x.bodyError(err)
		return false
	}
	info, err := bodyref.ContainerCreate(body)
	if err != nil {
		return true // the engine refuses what it cannot decode
	}
	actsOn := p.engine().actsOnRef
	ids, ok := p.checkBodyRefs(x, "start", slices.DeleteFunc(info.Refs, func(r bodyref.Ref) bool { return !actsOn(r) }))
	if !ok {
		return false
	}
	rewritten, err := bodyref.RewriteCreate(body, ids, actsOn)
	if err != nil {
		x.rewriteFailed(err)
		return false
	}
	setRequestBody(x.r, rewritten)
	return true
}

// checkBodyRefs resolves the container references of a body among visible
// containers and returns the decided full ID of each. A ref that names no
// visible container is answered as the engine answers a missing one: 400,
// worded per field. Endpoint links are DNS aliases the engine resolves by
// container NAME on the network, never as a container ref, so they must
// name a visible container exactly: a visible ID prefix that is a hidden
// container's name would alias the hidden one. ok is false when it has
// answered.
func (p *Proxy) checkBodyRefs(x *exchange, what string, refs []bodyref.Ref) (ids map[string]string, ok bool) {
	ids = make(map[string]string, len(refs))
	for _, ref := range refs {
		if ref.Ref == "" {
			continue // the engine rejects it without a lookup
		}
		d, found, err := p.visibleRef(x.r.Context(), ref.Ref)
		if err != nil {
			x.lookupFailed(err)
			return nil, false
		}
		if found && ref.Kind == bodyref.EndpointLink {
			found = d.ID == ref.Ref || d.Name == "/"+strings.TrimPrefix(ref.Ref, "/")
		}
		if !found {
			x.audit.reason = what + " references a container that is not visible (" + ref.Kind.String() + ")"
			if what == "create" && p.headers.podman() && p.failPodmanCreateRef(x, d.Outcome, ref) {
				return nil, false
			}
			msg := noSuchContainer(ref.Ref)
			if ref.Kind == bodyref.Link || ref.Kind == bodyref.EndpointLink {
				msg = "could not get container for " + ref.Ref + ": " + msg
			}
			x.fail(http.StatusBadRequest, msg)
			return nil, false
		}
		ids[ref.Ref] = d.ID
	}
	return ids, true
}

// requireVisible resolves a ref from a query or body that the engine answers
// with 404 "No such container" when missing. ok is false when it has
// answered.
func (p *Proxy) requireVisible(x *exchange, ref, why string) (index.Decision, bool) {
	d, ok, err := p.visibleRef(x.r.Context(), ref)
	if err != nil {
		x.lookupFailed(err)
		return d, false
	}
	if !ok {
		x.audit.reason = why
		if p.headers.podman() {
			p.failPodmanLookup(x, d.Outcome, ref, http.StatusNotFound, http.StatusNotFound)
			return d, false
		}
		x.fail(http.StatusNotFound, noSuchContainer(ref))
		return d, false
	}
	return d, true
}

// lookupFailed answers a request the index or a lookup could not decide
// because the upstream could not be asked; nothing when the client left.
func (x *exchange) lookupFailed(err error) {
	if x.r.Context().Err() != nil {
		return
	}
	if kind := metrics.ErrorKind(err); kind != "" {
		x.p.metrics.UpstreamError(kind)
	}
	x.audit.reason = "cannot look the container up upstream: " + err.Error()
	x.fail(http.StatusBadGateway, "cannot reach the upstream Docker engine")
}
