package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/dpf-dev/docker-proxy-filter/internal/filter"
	"github.com/dpf-dev/docker-proxy-filter/internal/filters"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Swarm services are visible by their name or Spec.Labels; a task is
// visible when its service is, or its container is. A hidden service or
// task answers like a missing one.

func serviceNotFound(ref string) string { return "service " + ref + " not found" }
func taskNotFound(ref string) string    { return "task " + ref + " not found" }

// serviceVisibleByRef asks the upstream for the service a ref names (a
// read) and reports whether it is visible, and its ID (the engine resolves
// service refs by ID, case-insensitive name or prefix). id is "" when the
// engine knows no such service.
func (p *Proxy) serviceVisibleByRef(ctx context.Context, ref string) (visible bool, id string, err error) {
	resp, err := p.upstreamGet(ctx, "/services/"+url.PathEscape(ref))
	if err != nil || resp == nil {
		return false, "", err
	}
	name, labels, _, err := filter.ServiceInspect(resp, false)
	if err != nil {
		return false, "", err
	}
	return p.vis.Service(name, labels), objectID(resp), nil
}

// taskVisibleByRef does the same for a task.
func (p *Proxy) taskVisibleByRef(ctx context.Context, ref string) (visible bool, id string, err error) {
	resp, err := p.upstreamGet(ctx, "/tasks/"+url.PathEscape(ref))
	if err != nil || resp == nil {
		return false, "", err
	}
	serviceID, containerID, _, err := filter.TaskInspect(resp, false)
	if err != nil {
		return false, "", err
	}
	return p.taskVisible(ctx, serviceID, containerID), objectID(resp), nil
}

// objectID reads the ID of a swarm object answer.
func objectID(body []byte) string {
	var o struct{ ID string }
	_ = json.Unmarshal(body, &o)
	return o.ID
}

func (p *Proxy) taskVisible(ctx context.Context, serviceID, containerID string) bool {
	return p.vis.ServiceID(ctx, serviceID) || containerID != "" && p.containerVisible(ctx, containerID)
}

// upstreamGet GETs a small JSON answer; a 404 gives (nil, nil).
func (p *Proxy) upstreamGet(ctx context.Context, path string) ([]byte, error) {
	body, err := p.upstreamJSON(ctx, path)
	if err != nil && isUpstreamStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	return body, err
}

// serveSwarm decides the service and task routes.
func (p *Proxy) serveSwarm(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	ctx := r.Context()
	scrub := p.scrubEnvs
	switch rt.Op() {
	case route.OpServiceList:
		a.decision = decisionFilter
		p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery, modify: rewriteAnswer(func(b []byte) ([]byte, error) {
			out, counts, err := filter.ServiceList(b, p.vis.Service, scrub)
			a.set(func(a *audit) { a.kept, a.total, a.counted = counts.Kept, counts.Total, true })
			return out, err
		})})
		return
	case route.OpTaskList:
		if !p.checkTaskFilters(w, r, a) {
			return
		}
		a.decision = decisionFilter
		p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery, modify: rewriteAnswer(func(b []byte) ([]byte, error) {
			out, counts, err := filter.TaskList(b, func(s, c string) bool { return p.taskVisible(ctx, s, c) }, scrub)
			a.set(func(a *audit) { a.kept, a.total, a.counted = counts.Kept, counts.Total, true })
			return out, err
		})})
		return
	case route.OpServiceCreate:
		body, err := p.readBody(r)
		if err != nil {
			p.bodyError(w, a, err)
			return
		}
		var spec struct {
			Name   string
			Labels map[string]string
		}
		if json.Unmarshal(body, &spec) == nil && !p.vis.Service(spec.Name, spec.Labels) {
			a.reason = "the new service would be hidden"
			p.writeEngineError(w, http.StatusForbidden, "docker-proxy-filter: the new service would not be visible through this proxy (its name and labels match neither CONTAINER_NAMES nor CONTAINER_LABELS)")
			return
		}
		a.decision = decisionAllow
		p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery})
		return
	}

	// Routes on one service or task: decided before anything is forwarded.
	var visible bool
	var id string
	var err error
	isService := rt.Op() == route.OpServiceInspect || rt.Op() == route.OpServiceLogs ||
		rt.Op() == route.OpServiceUpdate || rt.Op() == route.OpServiceDelete
	if isService {
		visible, id, err = p.serviceVisibleByRef(ctx, rt.Ref)
	} else {
		visible, id, err = p.taskVisibleByRef(ctx, rt.Ref)
	}
	if err != nil {
		p.lookupFailed(w, r, a, err)
		return
	}
	if !visible || id == "" {
		a.reason = "no visible service or task"
		msg := taskNotFound(rt.Ref)
		if isService {
			msg = serviceNotFound(rt.Ref)
		}
		p.writeEngineError(w, http.StatusNotFound, msg)
		return
	}
	a.decision = decisionAllow
	// Forwarded by ID, so a service or task replaced under the same name
	// between the decision and the engine's lookup cannot be reached.
	f := &forward{path: rt.WithRef(id), rawQuery: r.URL.RawQuery}
	switch rt.Op() {
	case route.OpServiceInspect:
		f.modify = rewriteAnswer(func(b []byte) ([]byte, error) {
			_, _, out, err := filter.ServiceInspect(b, scrub)
			return out, err
		})
	case route.OpTaskInspect:
		f.modify = rewriteAnswer(func(b []byte) ([]byte, error) {
			_, _, out, err := filter.TaskInspect(b, scrub)
			return out, err
		})
	}
	p.forward(w, r, f)
}

// checkTaskFilters: GET /tasks?filters={"service":[ref]} makes the engine
// resolve each service; a hidden one must answer like a missing one.
func (p *Proxy) checkTaskFilters(w http.ResponseWriter, r *http.Request, a *audit) bool {
	args, err := filters.Parse(r.URL.Query().Get("filters"))
	if err != nil {
		return true // the engine refuses it itself
	}
	for _, ref := range args.Get("service") {
		visible, _, err := p.serviceVisibleByRef(r.Context(), ref)
		if err != nil {
			p.lookupFailed(w, r, a, err)
			return false
		}
		if !visible {
			a.reason = "task filter names a service that is not visible"
			p.writeEngineError(w, http.StatusNotFound, serviceNotFound(ref))
			return false
		}
	}
	return true
}
