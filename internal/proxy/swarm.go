package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/filterarg"
	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Swarm services are visible by their name or Spec.Labels; a task is
// visible when its service is, or its container is. A hidden service or
// task answers like a missing one.

func serviceNotFound(ref string) string { return "service " + ref + " not found" }
func taskNotFound(ref string) string    { return "task " + ref + " not found" }

// swarmObject is a service or task as the resolution needs it.
type swarmObject struct {
	ID, Name string
	visible  bool
}

// swarmDecision is the outcome of resolving a service or task ref among the
// visible ones: ID is set when one matches; status and message are the
// engine's answer otherwise.
type swarmDecision struct {
	ID      string
	status  int
	message string
}

// resolveSwarm resolves ref the way the engine resolves a service or task
// (daemon/cluster/helpers.go getService, getTask): exact ID, then exact
// name, then unique ID prefix, but among the visible objects only, so a
// hidden one is exactly a missing one and a prefix shared with a hidden one
// is not ambiguous. The objects come from one list of all of them, so the
// upstream is asked the same thing whatever the ref names. kind is
// "service" or "task".
func resolveSwarm(objects []swarmObject, ref, kind string) swarmDecision {
	var visible []swarmObject
	for _, o := range objects {
		if o.visible {
			visible = append(visible, o)
		}
	}
	for _, o := range visible {
		if o.ID == ref {
			return swarmDecision{ID: o.ID}
		}
	}
	var matches []swarmObject
	for _, o := range visible {
		if o.Name != "" && o.Name == ref {
			matches = append(matches, o)
		}
	}
	if len(matches) == 0 {
		for _, o := range visible {
			if ref != "" && strings.HasPrefix(o.ID, ref) {
				matches = append(matches, o)
			}
		}
	}
	switch len(matches) {
	case 0:
		return swarmDecision{status: http.StatusNotFound, message: kind + " " + ref + " not found"}
	case 1:
		return swarmDecision{ID: matches[0].ID}
	}
	return swarmDecision{status: http.StatusBadRequest, message: fmt.Sprintf("%s %s is ambiguous (%d matches found)", kind, ref, len(matches))}
}

// services lists the upstream's services with their visibility; an engine
// that is not a swarm manager has none (the caller forwards the request,
// and the engine answers as it does).
func (p *Proxy) services(ctx context.Context) ([]swarmObject, bool, error) {
	body, err := p.upstreamJSON(ctx, "/services")
	if err != nil {
		if isUpstreamStatus(err, http.StatusServiceUnavailable) {
			return nil, false, nil
		}
		return nil, false, err
	}
	var list []struct {
		ID   string
		Spec struct {
			Name   string
			Labels map[string]string
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, false, errors.Join(errBadUpstreamAnswer, err)
	}
	out := make([]swarmObject, len(list))
	for i, s := range list {
		out[i] = swarmObject{ID: s.ID, Name: s.Spec.Name, visible: p.vis.Service(s.Spec.Name, s.Spec.Labels)}
	}
	return out, true, nil
}

// tasks lists the upstream's tasks with their visibility.
func (p *Proxy) tasks(ctx context.Context) ([]swarmObject, bool, error) {
	body, err := p.upstreamJSON(ctx, "/tasks")
	if err != nil {
		if isUpstreamStatus(err, http.StatusServiceUnavailable) {
			return nil, false, nil
		}
		return nil, false, err
	}
	var list []struct {
		ID        string
		Name      string
		ServiceID string
		Status    struct {
			ContainerStatus *struct{ ContainerID string }
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, false, errors.Join(errBadUpstreamAnswer, err)
	}
	out := make([]swarmObject, len(list))
	for i, t := range list {
		container := ""
		if t.Status.ContainerStatus != nil {
			container = t.Status.ContainerStatus.ContainerID
		}
		out[i] = swarmObject{ID: t.ID, Name: t.Name, visible: p.taskVisible(ctx, t.ServiceID, container)}
	}
	return out, true, nil
}

func (p *Proxy) taskVisible(ctx context.Context, serviceID, containerID string) bool {
	return p.vis.ServiceID(ctx, serviceID) || containerID != "" && p.containerVisible(ctx, containerID)
}

// serveSwarm decides the service and task routes.
func (p *Proxy) serveSwarm(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	ctx := r.Context()
	scrub := p.scrubEnvs
	switch rt.Op() {
	case route.OpServiceList:
		a.decision = decisionFilter
		p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery, modify: rewriteAnswer(func(b []byte) ([]byte, error) {
			out, counts, err := rewrite.ServiceList(b, p.vis.Service, scrub)
			a.set(func(a *audit) { a.kept, a.total, a.counted = counts.Kept, counts.Total, true })
			return out, err
		})})
		return
	case route.OpTaskList:
		rawQuery, ok := p.taskFilters(w, r, a)
		if !ok {
			return
		}
		a.decision = decisionFilter
		p.forward(w, r, &forward{path: rt.Path, rawQuery: rawQuery, modify: rewriteAnswer(func(b []byte) ([]byte, error) {
			out, counts, err := rewrite.TaskList(b, func(s, c string) bool { return p.taskVisible(ctx, s, c) }, scrub)
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
	isService := rt.Op() == route.OpServiceInspect || rt.Op() == route.OpServiceLogs ||
		rt.Op() == route.OpServiceUpdate || rt.Op() == route.OpServiceDelete
	list, kind := p.services, "service"
	if !isService {
		list, kind = p.tasks, "task"
	}
	objects, swarm, err := list(ctx)
	if err != nil {
		p.lookupFailed(w, r, a, err)
		return
	}
	if !swarm {
		// Not a swarm manager: the engine answers every such route itself,
		// and names nothing.
		a.decision = decisionAllow
		p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery})
		return
	}
	d := resolveSwarm(objects, rt.Ref, kind)
	if d.ID == "" {
		a.reason = "no visible " + kind
		p.writeEngineError(w, d.status, d.message)
		return
	}
	a.decision = decisionAllow
	// Forwarded by ID, so a service or task replaced under the same name
	// between the decision and the engine's lookup cannot be reached.
	f := &forward{path: rt.WithRef(d.ID), rawQuery: r.URL.RawQuery}
	switch rt.Op() {
	case route.OpServiceInspect:
		f.modify = rewriteAnswer(func(b []byte) ([]byte, error) {
			_, _, out, err := rewrite.ServiceInspect(b, scrub)
			return out, err
		})
	case route.OpTaskInspect:
		f.modify = rewriteAnswer(func(b []byte) ([]byte, error) {
			_, _, out, err := rewrite.TaskInspect(b, scrub)
			return out, err
		})
	}
	p.forward(w, r, f)
}

// taskFilters: GET /tasks?filters={"service":[ref]} makes the engine
// resolve each service ref and list that service's tasks; a hidden one must
// answer like a missing one, and the engine receives the IDs decided on.
// ok is false when the answer has been written.
func (p *Proxy) taskFilters(w http.ResponseWriter, r *http.Request, a *audit) (rawQuery string, ok bool) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || len(values["filters"]) == 0 {
		return r.URL.RawQuery, true
	}
	args, err := filterarg.Parse(values["filters"][0])
	if err != nil || !args.Contains("service") {
		return r.URL.RawQuery, true // the engine refuses a bad filter itself
	}
	objects, swarm, err := p.services(r.Context())
	if err != nil {
		p.lookupFailed(w, r, a, err)
		return "", false
	}
	if !swarm {
		return r.URL.RawQuery, true
	}
	var ids []string
	for _, ref := range args.Get("service") {
		d := resolveSwarm(objects, ref, "service")
		if d.ID == "" {
			a.reason = "task filter names a service that is not visible"
			p.writeEngineError(w, d.status, d.message)
			return "", false
		}
		ids = append(ids, d.ID)
	}
	values["filters"] = []string{args.With("service", ids...).Encode()}
	return values.Encode(), true
}
