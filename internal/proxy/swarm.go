package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/filterarg"
	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Swarm services are visible by their name or Spec.Labels; a task is
// visible when its service is, or its container is. Services and tasks are
// resolved among the visible ones, and a hidden one answers like a missing
// one.

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

// services lists the upstream's services with their visibility; swarm is
// false on an engine that is not a swarm manager (the caller then forwards,
// and the engine answers as it does).
func (p *Proxy) services(ctx context.Context) (objects []swarmObject, swarm bool, err error) {
	list, swarm, err := p.up.Services(ctx)
	if err != nil || !swarm {
		return nil, swarm, err
	}
	out := make([]swarmObject, len(list))
	for i, s := range list {
		out[i] = swarmObject{ID: s.ID, Name: s.Name, visible: p.vis.Service(s.Name, s.Labels)}
	}
	return out, true, nil
}

// tasks lists the upstream's tasks with their visibility.
func (p *Proxy) tasks(ctx context.Context) (objects []swarmObject, swarm bool, err error) {
	list, swarm, err := p.up.Tasks(ctx)
	if err != nil || !swarm {
		return nil, swarm, err
	}
	out := make([]swarmObject, len(list))
	for i, t := range list {
		out[i] = swarmObject{ID: t.ID, Name: t.Name, visible: p.taskVisible(ctx, t.ServiceID, t.ContainerID)}
	}
	return out, true, nil
}

func (p *Proxy) taskVisible(ctx context.Context, serviceID, containerID string) bool {
	return p.vis.Task(ctx, serviceID, containerID, func(id string) bool { return p.containerVisible(ctx, id) })
}

// serveServiceList keeps the visible services (with SCRUB_ENVS, without
// their environments).
func (p *Proxy) serveServiceList(x *exchange) {
	x.audit.decision = decisionFilter
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery, modify: rewriteAnswer(func(b []byte) ([]byte, error) {
		out, counts, err := rewrite.ServiceList(b, p.vis.Service, p.scrubEnvs)
		x.audit.set(func(a *audit) { a.kept, a.total, a.counted = counts.Kept, counts.Total, true })
		return out, err
	})})
}

// serveTaskList keeps the visible tasks; a service filter names services
// as decided.
func (p *Proxy) serveTaskList(x *exchange) {
	ctx := x.r.Context()
	rawQuery, ok := p.taskFilters(x)
	if !ok {
		return
	}
	x.audit.decision = decisionFilter
	x.forward(forward{path: x.rt.Path, rawQuery: rawQuery, modify: rewriteAnswer(func(b []byte) ([]byte, error) {
		out, counts, err := rewrite.TaskList(b, func(s, c string) bool { return p.taskVisible(ctx, s, c) }, p.scrubEnvs)
		x.audit.set(func(a *audit) { a.kept, a.total, a.counted = counts.Kept, counts.Total, true })
		return out, err
	})})
}

// serveServiceCreate refuses a service the client could not see.
func (p *Proxy) serveServiceCreate(x *exchange) {
	body, err := p.readBody(x.r)
	if err != nil {
		x.bodyError(err)
		return
	}
	var spec struct {
		Name   string
		Labels map[string]string
	}
	if json.Unmarshal(body, &spec) == nil && !p.vis.Service(spec.Name, spec.Labels) {
		x.audit.reason = "the new service would be hidden"
		x.fail(http.StatusForbidden, "docker-proxy-filter: the new service would not be visible through this proxy (its name and labels match neither CONTAINER_NAMES nor CONTAINER_LABELS)")
		return
	}
	x.audit.decision = decisionAllow
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery})
}

// serveService decides a route on one service.
func (p *Proxy) serveService(x *exchange) {
	p.serveSwarmObject(x, "service", p.services, route.OpServiceInspect, func(b []byte, scrub bool) ([]byte, error) {
		_, _, out, err := rewrite.ServiceInspect(b, scrub)
		return out, err
	})
}

// serveTask decides a route on one task.
func (p *Proxy) serveTask(x *exchange) {
	p.serveSwarmObject(x, "task", p.tasks, route.OpTaskInspect, func(b []byte, scrub bool) ([]byte, error) {
		_, _, out, err := rewrite.TaskInspect(b, scrub)
		return out, err
	})
}

// serveSwarmObject resolves the service or task of the path among the
// visible ones and forwards by the ID decided on, so one replaced under the
// same name between the decision and the engine's lookup cannot be
// reached; an inspect answer (inspectOp) is rewritten by inspect.
func (p *Proxy) serveSwarmObject(x *exchange, kind string, list func(context.Context) ([]swarmObject, bool, error),
	inspectOp route.Op, inspect func(body []byte, scrubEnvs bool) ([]byte, error)) {
	objects, swarm, err := list(x.r.Context())
	if err != nil {
		x.lookupFailed(err)
		return
	}
	if !swarm {
		// Not a swarm manager: the engine answers every such route itself,
		// and names nothing.
		p.pass(x)
		return
	}
	d := resolveSwarm(objects, x.rt.Ref, kind)
	if d.ID == "" {
		x.audit.reason = "no visible " + kind
		x.fail(d.status, d.message)
		return
	}
	x.audit.decision = decisionAllow
	f := forward{path: x.rt.WithRef(d.ID), rawQuery: x.r.URL.RawQuery}
	if x.rt.Op() == inspectOp {
		f.modify = rewriteAnswer(func(b []byte) ([]byte, error) { return inspect(b, p.scrubEnvs) })
	}
	x.forward(f)
}

// taskFilters: GET /tasks?filters={"service":[ref]} makes the engine
// resolve each service ref and list that service's tasks; a hidden one must
// answer like a missing one, and the engine receives the IDs decided on.
// ok is false when the answer has been written.
func (p *Proxy) taskFilters(x *exchange) (rawQuery string, ok bool) {
	values, err := url.ParseQuery(x.r.URL.RawQuery)
	if err != nil || len(values["filters"]) == 0 {
		return x.r.URL.RawQuery, true
	}
	args, err := filterarg.Parse(values["filters"][0])
	if err != nil || !args.Contains("service") {
		return x.r.URL.RawQuery, true // the engine refuses a bad filter itself
	}
	objects, swarm, err := p.services(x.r.Context())
	if err != nil {
		x.lookupFailed(err)
		return "", false
	}
	if !swarm {
		return x.r.URL.RawQuery, true
	}
	var ids []string
	for _, ref := range args.Get("service") {
		d := resolveSwarm(objects, ref, "service")
		if d.ID == "" {
			x.audit.reason = "task filter names a service that is not visible"
			x.fail(d.status, d.message)
			return "", false
		}
		ids = append(ids, d.ID)
	}
	values["filters"] = []string{args.With("service", ids...).Encode()}
	return values.Encode(), true
}
