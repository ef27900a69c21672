package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// Answers that describe containers (networks, disk usage, counts, images)
// are forwarded and rewritten so that they describe only visible
// containers. Every rewriter keeps the engine's bytes outside what it
// changes.

// maxDescribeBody bounds answers rewritten whole (networks, df, info,
// images, swarm lists): a larger one is refused with a 502 rather than
// held.
const maxDescribeBody = 64 << 20

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
		src, err := upstream.PlainBody(resp)
		if err != nil {
			resp.Body.Close()
			return errors.Join(errBadUpstreamAnswer, err)
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

// describe forwards a request whose answer fn rewrites.
func (x *exchange) describe(rawQuery string, fn func([]byte) ([]byte, error)) {
	x.audit.decision = decisionFilter
	x.forward(forward{path: x.rt.Path, rawQuery: rawQuery, modify: rewriteAnswer(fn)})
}

// serveNetworkInspect keeps only visible members (and, in a verbose inspect
// of a swarm network, visible services).
func (p *Proxy) serveNetworkInspect(x *exchange) {
	ctx := x.r.Context()
	keep := func(id string) bool { return p.containerVisible(ctx, id) }
	x.describe(x.r.URL.RawQuery, func(b []byte) ([]byte, error) {
		out, err := rewrite.NetworkInspect(b, keep)
		if err != nil {
			return nil, err
		}
		return p.filterNetworkServices(ctx, out)
	})
}

// serveNetworkList keeps only visible members (answers below API 1.28
// carry them).
func (p *Proxy) serveNetworkList(x *exchange) {
	ctx := x.r.Context()
	keep := func(id string) bool { return p.containerVisible(ctx, id) }
	x.describe(x.r.URL.RawQuery, func(b []byte) ([]byte, error) { return rewrite.NetworkList(b, keep) })
}

// serveDiskUsage keeps only visible containers and recomputes what they
// account for. Image and volume figures are recomputed from the
// containers, so a df limited by ?type= to other sections asks for
// containers too and drops them again afterwards.
func (p *Proxy) serveDiskUsage(x *exchange) {
	ctx := x.r.Context()
	keep := func(id string) bool { return p.containerVisible(ctx, id) }
	rawQuery := x.r.URL.RawQuery
	q := x.r.URL.Query()
	addedContainers := len(q["type"]) > 0 && !slices.Contains(q["type"], "container")
	if addedContainers {
		q.Add("type", "container")
		rawQuery = q.Encode()
	}
	x.describe(rawQuery, func(b []byte) ([]byte, error) {
		out, err := rewrite.DiskUsageRewriting(b, keep, p.visibleByName, p.containerSummary)
		if err != nil {
			return nil, err
		}
		if addedContainers {
			if out, err = withoutMembers(out, "Containers", "ContainerUsage"); err != nil {
				return nil, err
			}
		}
		return p.redactHexRuns(out), nil // a visible container may join a hidden one
	})
}

// serveInfo counts only visible containers.
func (p *Proxy) serveInfo(x *exchange) {
	ctx := x.r.Context()
	x.describe(x.r.URL.RawQuery, func(b []byte) ([]byte, error) {
		counts, _, err := p.visibleCounts(ctx)
		if err != nil {
			return nil, err
		}
		return rewrite.Info(b, counts)
	})
}

// serveImageList counts, per image, only the visible containers using it.
func (p *Proxy) serveImageList(x *exchange) {
	ctx := x.r.Context()
	keep := func(id string) bool { return p.containerVisible(ctx, id) }
	x.describe(x.r.URL.RawQuery, func(b []byte) ([]byte, error) {
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
	})
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
	list, err := p.up.Summaries(ctx, false)
	if err != nil {
		return rewrite.ContainerCounts{}, nil, err
	}
	var c rewrite.ContainerCounts
	perImage := map[string]int{}
	for _, el := range list {
		if !p.vis.Container(el.Name(), el.Labels) {
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

// visibleByName checks an answer's word about a container the index holds
// as visible: renamed onto a hidden name since, it is hidden, unless its
// labels (which never change) make it visible. An answer without a name
// (a summary of an odd shape) leaves the index's verdict alone.
func (p *Proxy) visibleByName(id, name string) bool {
	if name == "" || p.vis.ByName(name) {
		return true
	}
	byLabels, _, known := p.index.Seen(id)
	return known && byLabels
}
