package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/bodyref"
	"github.com/dpf-dev/docker-proxy-filter/internal/filterarg"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Requests that name containers in their body or query: every reference to
// a hidden container is treated exactly as a reference to a nonexistent one,
// and what the proxy checked is exactly what the engine receives.

// errBodyTooLarge is a body over MaxBodySize.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads the whole request body, whatever its framing (chunked, no
// Content-Length, a Content-Length of 0 that lies), up to the proxy's limit,
// and puts it back as a fixed-length body so the engine receives the very
// bytes that were checked.
func (p *Proxy) readBody(r *http.Request) ([]byte, error) {
	mustArriveBy(r, time.Now().Add(p.bodyTimeout))
	body, err := io.ReadAll(io.LimitReader(r.Body, p.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > p.maxBody {
		return nil, errBodyTooLarge
	}
	setRequestBody(r, body)
	return body, nil
}

// setRequestBody makes body the request's body, with a fixed length.
func setRequestBody(r *http.Request, body []byte) {
	r.Body = &replayableBody{Reader: bytes.NewReader(body), data: body}
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// rewriteFailed answers a body whose references could not be rewritten to
// the decided IDs: it is not forwarded.
func (p *Proxy) rewriteFailed(w http.ResponseWriter, a *audit, err error) {
	a.reason = "cannot forward the body's container references as decided: " + err.Error()
	p.writeEngineError(w, http.StatusBadRequest, "docker-proxy-filter: the request's container references cannot be forwarded as decided; write each reference once, as a plain JSON string")
}

// bodyError answers a body that could not be read.
func (p *Proxy) bodyError(w http.ResponseWriter, a *audit, err error) {
	if errors.Is(err, errBodyTooLarge) {
		a.reason = "body over MAX_BODY_SIZE"
		p.writeEngineError(w, http.StatusRequestEntityTooLarge, "docker-proxy-filter: request body larger than MAX_BODY_SIZE ("+strconv.FormatInt(p.maxBody, 10)+" bytes)")
		return
	}
	a.reason = "reading the request body: " + err.Error()
	p.writeEngineError(w, http.StatusBadRequest, "docker-proxy-filter: cannot read the request body")
}

// visibleRef resolves ref among visible containers; ok is false when it
// names none (or is ambiguous), err when the upstream could not be asked.
func (p *Proxy) visibleRef(ctx context.Context, ref string) (d index.Decision, ok bool, err error) {
	d, err = p.index.Resolve(ctx, ref)
	return d, err == nil && d.Outcome == index.Found, err
}

// serveContainerCreate checks every container a create body references and
// that the new container will itself be visible, then forwards the checked
// bytes. A container that turns out hidden anyway is removed again.
func (p *Proxy) serveContainerCreate(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	body, err := p.readBody(r)
	if err != nil {
		p.bodyError(w, a, err)
		return
	}
	info, err := bodyref.ContainerCreate(body)
	if err == nil {
		actsOn := p.engine().actsOnRef
		ids, ok := p.checkBodyRefs(w, r, a, "create", slices.DeleteFunc(info.Refs, func(r bodyref.Ref) bool { return !actsOn(r) }))
		if !ok {
			return
		}
		if visible, decided := p.wouldBeVisible(r.Context(), r.URL.Query().Get("name"), info); decided && !visible {
			a.reason = "the new container would be hidden"
			p.writeEngineError(w, http.StatusForbidden, "docker-proxy-filter: the new container would not be visible through this proxy (it matches neither CONTAINER_NAMES nor CONTAINER_LABELS)")
			return
		}
		// The engine resolves each ref again, among all containers: it
		// gets the full IDs that were decided.
		rewritten, err := bodyref.RewriteCreate(body, ids, actsOn)
		if err != nil {
			p.rewriteFailed(w, a, err)
			return
		}
		setRequestBody(r, rewritten)
	}
	// A body the engine cannot decode is forwarded as is: it refuses it.
	a.decision = decisionAllow
	p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery, modify: p.checkCreated})
}

// wouldBeVisible predicts the new container's visibility from its name and
// labels (the image's, overridden by the body's). decided is false when it
// cannot be known beforehand (the image cannot be inspected; the engine
// then usually refuses the create itself).
func (p *Proxy) wouldBeVisible(ctx context.Context, name string, info bodyref.CreateInfo) (visible, decided bool) {
	labels := map[string]string{}
	if info.Image != "" {
		img, err := p.upstreamJSON(ctx, "/images/"+url.PathEscape(info.Image)+"/json")
		if err != nil {
			return false, false
		}
		var im struct {
			Config *struct{ Labels map[string]string }
		}
		if json.Unmarshal(img, &im) == nil && im.Config != nil {
			for k, v := range im.Config.Labels {
				labels[k] = v
			}
		}
	}
	for k, v := range info.Labels {
		labels[k] = v
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		// The engine will pick a random name, which no configured name
		// filter is meant to match: only labels can make it visible. This
		// keeps a hidden container from being created at all, rather than
		// created and removed again by checkCreated.
		return p.vis.ByLabels(labels), true
	}
	return p.vis.Container("/"+name, labels), true
}

// checkCreated removes a container the engine created that is not visible
// after all, and answers 403 instead of its ID.
func (p *Proxy) checkCreated(resp *http.Response) error {
	if resp.StatusCode != http.StatusCreated {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	resp.Body.Close()
	if err != nil {
		return errors.Join(errBadUpstreamAnswer, err)
	}
	var created struct{ Id string }
	_ = json.Unmarshal(body, &created)
	ctx := resp.Request.Context()
	if created.Id != "" {
		if _, ok, _ := p.visibleRef(ctx, created.Id); !ok {
			p.removeContainer(ctx, created.Id)
			msg := errorBody("docker-proxy-filter: the new container would not be visible through this proxy (it matches neither CONTAINER_NAMES nor CONTAINER_LABELS)")
			resp.StatusCode, resp.Status = http.StatusForbidden, "403 Forbidden"
			resp.Header.Set("Content-Type", "application/json")
			setBody(resp, msg)
			return nil
		}
	}
	setBody(resp, body)
	return nil
}

// removeContainer force-removes a container on the upstream (best effort).
func (p *Proxy) removeContainer(ctx context.Context, id string) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodDelete, "http://"+p.urlHost+"/containers/"+id+"?force=1", nil)
	if err != nil {
		return
	}
	if resp, err := p.transport.RoundTrip(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// serveNetworkAttach checks the container of a network connect or
// disconnect. A disconnect with Force and an unknown container would make
// the engine delete an endpoint by name, so the ref must be visible.
func (p *Proxy) serveNetworkAttach(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	body, err := p.readBody(r)
	if err != nil {
		p.bodyError(w, a, err)
		return
	}
	var container bodyref.Ref
	var links []bodyref.Ref
	force := false
	connect := rt.Op() == route.OpNetworkConnect
	var decodeErr error
	if connect {
		container, links, decodeErr = bodyref.NetworkConnect(body)
	} else {
		container, force, decodeErr = bodyref.NetworkDisconnect(body)
	}
	if decodeErr == nil && container.Ref != "" {
		d, ok, err := p.visibleRef(r.Context(), container.Ref)
		if err != nil {
			p.lookupFailed(w, r, a, err)
			return
		}
		if !ok {
			a.reason = "network " + rt.Name() + " of a container that is not visible"
			if force {
				// With Force the engine falls back to deleting an endpoint
				// by that name; for a missing one it answers this.
				p.writeEngineError(w, http.StatusNotFound, "endpoint "+container.Ref+" not found")
				return
			}
			p.writeEngineError(w, http.StatusNotFound, noSuchContainer(container.Ref))
			return
		}
		if _, ok := p.checkBodyRefs(w, r, a, "network "+rt.Name(), links); !ok {
			return
		}
		a.containerID, a.containerName = d.ID, d.Name
		rewritten, err := bodyref.RewriteNetworkContainer(body, connect, d.ID)
		if err != nil {
			p.rewriteFailed(w, a, err)
			return
		}
		setRequestBody(r, rewritten)
	}
	a.decision = decisionAllow
	p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery})
}

// serveCommit resolves ?container= and forwards it as the full ID.
func (p *Proxy) serveCommit(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	q := r.URL.Query()
	ref := q.Get("container") // the engine reads the first value
	d, ok := p.requireVisible(w, r, a, ref, "commit of a container that is not visible")
	if !ok {
		return
	}
	q.Set("container", d.ID)
	a.decision, a.containerID, a.containerName = decisionAllow, d.ID, d.Name
	p.forward(w, r, &forward{path: rt.Path, rawQuery: q.Encode()})
}

// serveBuild resolves networkmode=container:<ref>, which the classic builder
// applies to every RUN container.
func (p *Proxy) serveBuild(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	q := r.URL.Query()
	ref, isContainer := bodyref.ContainerMode(q.Get("networkmode"))
	if isContainer && ref != "" {
		d, ok := p.requireVisible(w, r, a, ref, "build joins a container that is not visible")
		if !ok {
			return
		}
		q.Set("networkmode", "container:"+d.ID)
		a.decision = decisionAllow
		p.forward(w, r, &forward{path: rt.Path, rawQuery: q.Encode(), modify: p.redactStreamErrors})
		return
	}
	a.decision = decisionAllow
	p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery, modify: p.redactStreamErrors})
}

// listFilters rewrites the before/since filters of a container list to full
// IDs of visible containers. The engine resolves them by exact ID or exact
// name only (no prefix). ok is false when the answer has been written.
func (p *Proxy) listFilters(w http.ResponseWriter, r *http.Request, a *audit, rawQuery string) (string, bool) {
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
			d, err := p.index.Resolve(r.Context(), ref)
			if err != nil {
				p.lookupFailed(w, r, a, err)
				return "", false
			}
			if d.Outcome != index.Found || d.ID != ref && d.Name != "/"+strings.TrimPrefix(ref, "/") {
				a.reason = "list filter " + key + " names a container that is not visible"
				if p.engine().missingListFilterIsServerError() {
					p.writeEngineError(w, http.StatusInternalServerError, "no such container "+ref)
				} else {
					p.writeEngineError(w, http.StatusNotFound, noSuchContainer(ref))
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

// lookupFailed answers a request the index could not decide.
func (p *Proxy) lookupFailed(w http.ResponseWriter, r *http.Request, a *audit, err error) {
	if r.Context().Err() != nil {
		return
	}
	a.reason = errUpstreamLookup.Error() + ": " + err.Error()
	p.writeEngineError(w, http.StatusBadGateway, "cannot reach the upstream Docker engine")
}

// upstreamJSON GETs a small JSON answer from the upstream.
func (p *Proxy) upstreamJSON(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.urlHost+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, &upstreamStatusError{code: resp.StatusCode, status: resp.Status}
	}
	src, err := plainBody(resp)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(src, maxInspectBody))
}

// upstreamGet GETs a small JSON answer; a 404 gives (nil, nil).
func (p *Proxy) upstreamGet(ctx context.Context, path string) ([]byte, error) {
	body, err := p.upstreamJSON(ctx, path)
	if err != nil && isUpstreamStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	return body, err
}

// upstreamStatusError is an upstream answer other than 200 to a lookup.
type upstreamStatusError struct {
	code   int
	status string
}

func (e *upstreamStatusError) Error() string { return "upstream answered " + e.status }

func isUpstreamStatus(err error, code int) bool {
	var se *upstreamStatusError
	return errors.As(err, &se) && se.code == code
}

// checkStartBody reads a start request's body, checks the container
// references of the HostConfig it may carry and rewrites them to the decided
// IDs; false when it has answered.
func (p *Proxy) checkStartBody(w http.ResponseWriter, r *http.Request, a *audit) bool {
	body, err := p.readBody(r)
	if err != nil {
		p.bodyError(w, a, err)
		return false
	}
	info, err := bodyref.ContainerCreate(body)
	if err != nil {
		return true // the engine refuses what it cannot decode
	}
	actsOn := p.engine().actsOnRef
	ids, ok := p.checkBodyRefs(w, r, a, "start", slices.DeleteFunc(info.Refs, func(r bodyref.Ref) bool { return !actsOn(r) }))
	if !ok {
		return false
	}
	rewritten, err := bodyref.RewriteCreate(body, ids, actsOn)
	if err != nil {
		p.rewriteFailed(w, a, err)
		return false
	}
	setRequestBody(r, rewritten)
	return true
}

// checkBodyRefs resolves the container references of a body among visible
// containers and returns the decided full ID of each. A ref that names no
// visible container is answered as the engine answers a missing one: 400,
// worded per field (404 for a network's container). Endpoint links are DNS
// aliases the engine resolves by container NAME on the network, never as a
// container ref, so they must name a visible container exactly: a visible
// ID prefix that is a hidden container's name would alias the hidden one.
// ok is false when it has answered.
func (p *Proxy) checkBodyRefs(w http.ResponseWriter, r *http.Request, a *audit, what string, refs []bodyref.Ref) (ids map[string]string, ok bool) {
	ids = make(map[string]string, len(refs))
	for _, ref := range refs {
		if ref.Ref == "" {
			continue // the engine rejects it without a lookup
		}
		d, found, err := p.visibleRef(r.Context(), ref.Ref)
		if err != nil {
			p.lookupFailed(w, r, a, err)
			return nil, false
		}
		if found && ref.Kind == bodyref.EndpointLink {
			found = d.ID == ref.Ref || d.Name == "/"+strings.TrimPrefix(ref.Ref, "/")
		}
		if !found {
			a.reason = what + " references a container that is not visible (" + ref.Kind.String() + ")"
			msg := noSuchContainer(ref.Ref)
			if ref.Kind == bodyref.Link || ref.Kind == bodyref.EndpointLink {
				msg = "could not get container for " + ref.Ref + ": " + msg
			}
			p.writeEngineError(w, http.StatusBadRequest, msg)
			return nil, false
		}
		ids[ref.Ref] = d.ID
	}
	return ids, true
}

// requireVisible resolves a ref from a query or body that the engine answers
// with 404 "No such container" when missing. ok is false when it has
// answered.
func (p *Proxy) requireVisible(w http.ResponseWriter, r *http.Request, a *audit, ref, why string) (index.Decision, bool) {
	d, ok, err := p.visibleRef(r.Context(), ref)
	if err != nil {
		p.lookupFailed(w, r, a, err)
		return d, false
	}
	if !ok {
		a.reason = why
		p.writeEngineError(w, http.StatusNotFound, noSuchContainer(ref))
		return d, false
	}
	return d, true
}
