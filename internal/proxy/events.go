package proxy

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// serveEvents filters the events stream record by record, flushing each
// kept event as it arrives; since/until replays go through the same filter.
func (p *Proxy) serveEvents(x *exchange) {
	ctx := x.r.Context()
	x.audit.decision = decisionFilter
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery, modify: func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		src, err := upstream.PlainBody(resp)
		if err != nil {
			resp.Body.Close()
			return err
		}
		pr, pw := io.Pipe()
		go func() {
			defer src.Close()
			pw.CloseWithError(rewrite.FilterEvents(pw, src, rewrite.EventOptions{
				Decide: func(ev rewrite.Event) rewrite.Verdict {
					v := p.decideEvent(ctx, ev)
					if v == rewrite.DropEvent {
						p.metrics.EventsDropped(1)
					} else {
						p.metrics.EventsDelivered(1)
					}
					return v
				},
				Oversize: func() {
					p.metrics.EventsDropped(1)
					p.logger.Warn("dropped an event larger than the proxy holds", "route", x.rt.Name(), "max_bytes", rewrite.MaxEventRecord)
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
			byLabels = p.vis.ByLabels(visibility.EventLabels(attrs))
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
