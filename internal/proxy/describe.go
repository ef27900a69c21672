package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Answers that describe containers (events, networks, disk usage, counts,
// images) are forwarded and rewritten so that they describe only visible
// containers. Every rewriter keeps the engine's bytes outside what it
// changes.

// containerVisible reports whether the container with this full ID is
// visible: from the index (a removed one as it was when it went), or
// settled upstream for one it never saw.
func (p *Proxy) containerVisible(ctx context.Context, id string) bool {
	if _, visible, ok := p.index.Seen(id); ok {
		return visible
	}
	if len(id) != 64 || !isLowerHex(id) {
		return false
	}
	d, err := p.index.Resolve(ctx, id)
	return err == nil && d.Outcome == index.Found && d.ID == id
}

// rewriteAnswer replaces a successful JSON answer by fn's rewrite of it; a
// body fn cannot parse becomes a 502, never the raw answer.
func rewriteAnswer(fn func(body []byte) ([]byte, error)) func(*http.Response) error {
	return func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		src, err := plainBody(resp)
		if err != nil {
			resp.Body.Close()
			return err
		}
		body, err := io.ReadAll(io.LimitReader(src, maxDescribeBody+1))
		src.Close()
		if err != nil || len(body) > maxDescribeBody {
			return errors.Join(errBadUpstreamAnswer, err)
		}
		out, err := fn(body)
		if err != nil {
			return errors.Join(errBadUpstreamAnswer, err)
		}
		setBody(resp, out)
		return nil
	}
}

// maxDescribeBody bounds answers rewritten whole (networks, df, info,
// images, swarm lists): a larger one is refused with a 502 rather than
// held.
const maxDescribeBody = 64 << 20

// serveDescribing forwards a route whose answer describes containers and
// rewrites it.
func (p *Proxy) serveDescribing(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	ctx := r.Context()
	keep := func(id string) bool { return p.containerVisible(ctx, id) }
	rawQuery := r.URL.RawQuery
	var fn func([]byte) ([]byte, error)
	switch rt.Op() {
	case route.OpNetworkInspect:
		fn = func(b []byte) ([]byte, error) {
			out, err := rewrite.NetworkInspect(b, keep)
			if err != nil {
				return nil, err
			}
			return p.filterNetworkServices(ctx, out)
		}
	case route.OpNetworkList:
		fn = func(b []byte) ([]byte, error) { return rewrite.NetworkList(b, keep) }
	case route.OpSystemDataUsage:
		// Image and volume figures are recomputed from the containers, so
		// a df limited by ?type= to other sections asks for containers too
		// and drops them again afterwards.
		q := r.URL.Query()
		addedContainers := len(q["type"]) > 0 && !slices.Contains(q["type"], "container")
		if addedContainers {
			q.Add("type", "container")
			rawQuery = q.Encode()
		}
		fn = func(b []byte) ([]byte, error) {
			out, err := rewrite.DiskUsage(b, keep)
			if err != nil {
				return nil, err
			}
			if addedContainers {
				if out, err = withoutMembers(out, "Containers", "ContainerUsage"); err != nil {
					return nil, err
				}
			}
			return p.redactHexRuns(out), nil // a visible container may join a hidden one
		}
	case route.OpSystemInfo:
		fn = func(b []byte) ([]byte, error) {
			counts, _, err := p.visibleCounts(ctx)
			if err != nil {
				return nil, err
			}
			return rewrite.Info(b, counts)
		}
	case route.OpImageList:
		fn = func(b []byte) ([]byte, error) {
			var perImage map[string]int
			var countErr error
			containersOf := func(imageID string) int {
				if perImage == nil && countErr == nil {
					_, perImage, countErr = p.visibleCounts(ctx)
				}
				return perImage[imageID]
			}
			out, err := rewrite.ImageList(b, containersOf, keep)
			if countErr != nil {
				return nil, countErr
			}
			return out, err
		}
	case route.OpImageInspect:
		fn = func(b []byte) ([]byte, error) {
			out, err := rewrite.ImageInspect(b, keep, p.scrubEnvs)
			if err != nil {
				return nil, err
			}
			return p.redactHostnames(out), nil
		}
	}
	a.decision = decisionFilter
	p.forward(w, r, &forward{path: rt.Path, rawQuery: rawQuery, modify: rewriteAnswer(fn)})
}

// withoutMembers removes top-level members of a JSON object (re-encoding
// the object around the untouched values).
func withoutMembers(body []byte, names ...string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	for _, n := range names {
		delete(obj, n)
	}
	out, err := json.Marshal(obj)
	return append(out, '\n'), err
}

// visibleCounts lists the upstream's containers and counts the visible
// ones by state and by image.
func (p *Proxy) visibleCounts(ctx context.Context) (rewrite.ContainerCounts, map[string]int, error) {
	body, err := p.upstreamJSON(ctx, "/containers/json?all=1")
	if err != nil {
		return rewrite.ContainerCounts{}, nil, err
	}
	var list []struct {
		Names   []string
		Labels  map[string]string
		State   string
		ImageID string
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return rewrite.ContainerCounts{}, nil, err
	}
	var c rewrite.ContainerCounts
	perImage := map[string]int{}
	for _, el := range list {
		if !p.vis.Container(primaryName(el.Names), el.Labels) {
			continue
		}
		c.Total++
		perImage[el.ImageID]++
		switch el.State {
		case "running": // a restarting container counts as stopped, as in the engine
			c.Running++
		case "paused":
			c.Paused++
		default:
			c.Stopped++
		}
	}
	return c, perImage, nil
}

// serveEvents filters the events stream record by record, flushing each
// kept event as it arrives; since/until replays go through the same filter.
func (p *Proxy) serveEvents(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	ctx := r.Context()
	a.decision = decisionFilter
	p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery, modify: func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		src, err := plainBody(resp)
		if err != nil {
			resp.Body.Close()
			return err
		}
		pr, pw := io.Pipe()
		go func() {
			defer src.Close()
			pw.CloseWithError(rewrite.FilterEvents(pw, src, rewrite.EventOptions{
				Decide: func(ev rewrite.Event) rewrite.Verdict { return p.decideEvent(ctx, ev) },
				Oversize: func() {
					p.logger.Warn("dropped an event larger than the proxy holds", "route", rt.Name(), "max_bytes", rewrite.MaxEventRecord)
				},
			}))
		}()
		resp.Body = &streamedBody{Reader: pr, pipe: pr}
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		return nil
	}})
}

// decideEvent decides one event. A container event is decided on its own
// attributes: the container's name at the time of the event, and whether
// its labels make it visible (from the index, which keeps that for removed
// containers too, or from the event's own labels), so the decision never
// lags behind the index and a replay decides as the live stream did. A
// rename is decided by the new name: one onto a hidden name is dropped, and
// one that makes a container visible is kept without the old, hidden name.
// Network and volume events are decided by the container they name, service
// events by their service; other events describe no container.
func (p *Proxy) decideEvent(ctx context.Context, ev rewrite.Event) rewrite.Verdict {
	keep := func(visible bool) rewrite.Verdict {
		if visible {
			return rewrite.KeepEvent
		}
		return rewrite.DropEvent
	}
	switch ev.Type {
	case "container":
		id := ev.Actor.ID
		if id == "" {
			return rewrite.DropEvent // prune: it counts what hidden containers freed too
		}
		attrs := ev.Actor.Attributes
		byLabels, _, known := p.index.Seen(id)
		if !known {
			byLabels = p.vis.ByLabels(index.EventLabels(attrs))
		}
		if !byLabels && !p.vis.ByName(eventName(attrs["name"])) {
			return rewrite.DropEvent
		}
		if ev.Action == "rename" && !byLabels && !p.vis.ByName(eventName(attrs["oldName"])) {
			return rewrite.KeepWithoutOldName
		}
		return rewrite.KeepEvent
	case "network", "volume":
		if c := ev.Actor.Attributes["container"]; c != "" {
			return keep(p.containerVisible(ctx, c))
		}
		return rewrite.KeepEvent
	case "service":
		return keep(p.vis.ServiceID(ctx, ev.Actor.ID))
	case "":
		return rewrite.DropEvent // an event the proxy cannot place
	}
	return rewrite.KeepEvent
}

// eventName is a container name from an event attribute, with its slash.
func eventName(name string) string { return "/" + strings.TrimPrefix(name, "/") }

// serveImageExport refuses to export an image committed from a hidden
// container: the tarball's config names that container and carries its
// configuration. Other images are forwarded. The image's source is read at
// an API version whose inspect answer still names it (see
// imageSourceVersion).
func (p *Proxy) serveImageExport(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	names := r.URL.Query()["names"]
	if rt.Op() == route.OpImageGet {
		names = append(names, rt.Ref)
	}
	version, ok := imageSourceVersion(apiVersion(p.headers.apiVersion()), apiVersion(p.headers.minAPIVersion()))
	if !ok {
		a.reason = "the engine does not say which container an image was committed from"
		p.writeEngineError(w, http.StatusForbidden, "docker-proxy-filter: this engine does not tell which container an image was committed from, so images are not exported")
		return
	}
	for _, name := range names {
		body, err := p.upstreamGet(r.Context(), "/v"+string(version)+"/images/"+url.PathEscape(name)+"/json")
		if err != nil {
			p.lookupFailed(w, r, a, err)
			return
		}
		var img struct{ Container string }
		if body != nil && json.Unmarshal(body, &img) == nil && img.Container != "" {
			if _, visible, ok := p.index.Seen(img.Container); ok && !visible {
				a.reason = "image committed from a hidden container"
				p.writeEngineError(w, http.StatusForbidden, "docker-proxy-filter: image "+name+" was committed from a container this client cannot see; exporting it would reveal that container")
				return
			}
		}
	}
	a.decision = decisionAllow
	p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery})
}

// hostnameField finds the Hostname a committed image inherits from its
// source container: that container's short ID.
var hostnameField = regexp.MustCompile(`"Hostname":"([0-9a-f]{12})"`)

// redactHostnames blanks a Hostname that is a hidden container's short ID.
func (p *Proxy) redactHostnames(body []byte) []byte {
	return hostnameField.ReplaceAllFunc(body, func(m []byte) []byte {
		if p.index.HiddenID(string(m[len(`"Hostname":"`) : len(m)-1])) {
			return []byte(`"Hostname":""`)
		}
		return m
	})
}

// filterNetworkServices removes hidden swarm services from the "Services"
// map that a verbose inspect of a swarm-scoped network carries (service
// name -> VIP, ports and tasks).
func (p *Proxy) filterNetworkServices(ctx context.Context, body []byte) ([]byte, error) {
	var start, end int
	err := jsonscan.ObjectEach(body, func(key []byte, vs, ve int) error {
		if jsonscan.KeyEqualFold(key, "Services") {
			start, end = vs, ve
		}
		return nil
	})
	if err != nil || end == 0 || body[start] != '{' {
		return body, err
	}
	var services map[string]json.RawMessage
	if err := json.Unmarshal(body[start:end], &services); err != nil || len(services) == 0 {
		return body, nil
	}
	visible, err := p.visibleServiceNames(ctx)
	if err != nil {
		return nil, err
	}
	changed := false
	for name := range services {
		if !visible[name] {
			delete(services, name)
			changed = true
		}
	}
	if !changed {
		return body, nil
	}
	kept, err := json.Marshal(services)
	if err != nil {
		return nil, err
	}
	return append(append(append([]byte{}, body[:start]...), kept...), body[end:]...), nil
}

// visibleServiceNames lists the upstream's visible services by name.
func (p *Proxy) visibleServiceNames(ctx context.Context) (map[string]bool, error) {
	services, _, err := p.services(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(services))
	for _, s := range services {
		if s.visible {
			out[s.Name] = true
		}
	}
	return out, nil
}
