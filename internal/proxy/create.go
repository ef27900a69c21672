package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/bodyref"
)

// serveContainerCreate checks every container a create body references and
// that the new container will itself be visible, then forwards the body
// with each reference rewritten to the full ID decided on. A container that
// turns out hidden anyway is removed again.
func (p *Proxy) serveContainerCreate(x *exchange) {
	body, err := p.readBody(x.r)
	if err != nil {
		x.bodyError(err)
		return
	}
	info, err := bodyref.ContainerCreate(body)
	if err == nil {
		actsOn := p.engine().actsOnRef
		ids, ok := p.checkBodyRefs(x, "create", slices.DeleteFunc(info.Refs, func(r bodyref.Ref) bool { return !actsOn(r) }))
		if !ok {
			return
		}
		if visible, decided := p.wouldBeVisible(x.r.Context(), x.r.URL.Query().Get("name"), info); decided && !visible {
			x.audit.reason = "the new container would be hidden"
			x.fail(http.StatusForbidden, "docker-proxy-filter: the new container would not be visible through this proxy (it matches neither CONTAINER_NAMES nor CONTAINER_LABELS)")
			return
		}
		// The engine resolves each ref again, among all containers: it
		// gets the full IDs that were decided.
		rewritten, err := bodyref.RewriteCreate(body, ids, actsOn)
		if err != nil {
			x.rewriteFailed(err)
			return
		}
		setRequestBody(x.r, rewritten)
	}
	// A body the engine cannot decode is forwarded as is: it refuses it.
	x.audit.decision = decisionAllow
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery, modify: p.checkCreated})
}

// wouldBeVisible predicts the new container's visibility from its name and
// labels (the image's, overridden by the body's). decided is false when it
// cannot be known beforehand (the image cannot be inspected; the engine
// then usually refuses the create itself).
func (p *Proxy) wouldBeVisible(ctx context.Context, name string, info bodyref.CreateInfo) (visible, decided bool) {
	labels := map[string]string{}
	if info.Image != "" {
		imageLabels, found, err := p.up.ImageLabels(ctx, info.Image)
		if err != nil || !found {
			return false, false
		}
		for k, v := range imageLabels {
			labels[k] = v
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
			p.up.RemoveContainer(context.WithoutCancel(ctx), created.Id, true)
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
