package access

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Verdict is the policy's answer for one request.
type Verdict struct {
	Allow bool
	// Need lists the variables to set to 1 that would allow a denied request,
	// all of them together; empty when allowed, or when no variable can allow
	// the route (the engine's /debug endpoints).
	Need []string
	// Message says why, for the client's 403 body and the audit log:
	// "denied: set CONTAINERS=1 and POST=1 to allow DELETE /containers/{id}",
	// or "allowed by ALLOW_RESTARTS=1".
	Message string
}

// Decide applies the policy to a request routed by route.Parse. The proxy
// refuses unknown routes (rt.Spec == nil) before asking; an active policy
// denies them too. An inactive policy allows everything: READ_ONLY alone then
// decides writes.
//
// The rules are LinuxServer's, in its order, applied to the route the engine
// runs rather than to the raw path:
//  1. a container read guarded by ALLOW_ARCHIVE, _CHANGES, _EXPORT, _LOGS or
//     _TOP is denied unless that switch is on;
//  2. a container action is allowed when one of its action switches is on
//     (ALLOW_START; ALLOW_STOP or ALLOW_RESTARTS; ALLOW_RESTARTS for restart
//     and kill; ALLOW_PAUSE; ALLOW_UNPAUSE), whatever POST and CONTAINERS say;
//  3. a method other than GET and HEAD is denied unless POST is on, and so is
//     the websocket attach, which writes to the container's stdin;
//  4. the request is allowed when its category is on, else denied.
func (p Policy) Decide(method string, rt *route.Route) Verdict {
	if !p.active {
		return Verdict{Allow: true}
	}
	if rt.Spec == nil {
		// Not the policy's question, but never a reason to panic or allow.
		return Verdict{Message: "denied: " + method + " " + rt.Path + " is not an Engine API route"}
	}
	c := classify(method, rt)
	if c.guard != none && !p.on[c.guard] {
		return p.deny(method, c)
	}
	for _, a := range c.actions {
		if a != none && p.on[a] {
			return Verdict{Allow: true, Message: "allowed by " + a.String() + "=1"}
		}
	}
	if c.write && !p.on[swPost] {
		return p.deny(method, c)
	}
	if c.category != none && p.on[c.category] {
		by := []sw{c.guard, c.category}
		if c.write {
			by = append(by, swPost)
		}
		return Verdict{Allow: true, Message: "allowed by " + setList(by)}
	}
	return p.deny(method, c)
}

// DecideStartHostConfig decides a container start whose body the engine
// applies as the container's new HostConfig (below API 1.24: binds,
// privileges, namespaces). That changes the container as a create would,
// so ALLOW_START, which allows starting, does not cover it: it needs
// CONTAINERS=1 and POST=1. LinuxServer's haproxy, which never reads the
// body, lets ALLOW_START through; this is a deliberate difference. Call it
// after Decide allowed the start.
func (p Policy) DecideStartHostConfig(method string, rt *route.Route) Verdict {
	if !p.active {
		return Verdict{Allow: true}
	}
	c := class{category: swContainers, write: true, display: "/containers/{id}/start with a HostConfig body (API < 1.24)"}
	if p.on[swContainers] && p.on[swPost] {
		return Verdict{Allow: true, Message: "allowed by " + setList([]sw{swContainers, swPost})}
	}
	return p.deny(method, c)
}

// deny builds the verdict for a denied request: the smallest set of switches
// that would let it through, the action switch alone for container actions.
func (p Policy) deny(method string, c class) Verdict {
	var need []sw
	switch {
	case c.actions[0] != none:
		need = []sw{c.actions[0]}
	case c.category == none:
		return Verdict{Message: "denied: no variable allows " + method + " " + c.display}
	default:
		for _, s := range []sw{c.guard, c.category} {
			if s != none && !p.on[s] {
				need = append(need, s)
			}
		}
		if c.write && !p.on[swPost] {
			need = append(need, swPost)
		}
	}
	names := make([]string, len(need))
	for i, s := range need {
		names[i] = s.String()
	}
	return Verdict{Need: names, Message: "denied: set " + setList(need) + " to allow " + method + " " + c.display}
}

// setList renders switches as "A=1", "A=1 and B=1", "A=1, B=1 and C=1",
// skipping none.
func setList(list []sw) string {
	var parts []string
	for _, s := range list {
		if s != none {
			parts = append(parts, s.String()+"=1")
		}
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// class is what the rules need to know about a request.
type class struct {
	category sw     // the API area; none for routes no category covers
	guard    sw     // container-read switch needed on top of the category
	actions  [2]sw  // switches that allow the action outright; [0] is the one to suggest
	write    bool   // needs POST
	display  string // the route as the message shows it: /containers/{id}/restart
}

func classify(method string, rt *route.Route) class {
	spec := rt.Spec
	write := method != http.MethodGet && method != http.MethodHead
	if spec.Op == route.OpOptions {
		// The engine answers OPTIONS on any path (a CORS preflight) and runs
		// nothing. LinuxServer decides it like any non-GET request on the
		// path's category and action: decide it on the route the same path
		// names for another method.
		borrowed, ok := otherMethodRoute(rt)
		if !ok {
			seg := firstSegment(strings.TrimPrefix(rt.Path, versionPrefix(rt)))
			c := class{category: categoryOf(seg), write: true, display: "/{path}"}
			if c.category != none {
				c.display = "/" + seg
			}
			return c
		}
		spec = borrowed
	}
	c := class{
		category: categoryOf(firstSegment(spec.Template)),
		write:    write || spec.Op == route.OpContainerAttachWebsocket,
		display:  display(spec.Template),
	}
	switch spec.Op {
	case route.OpContainerArchiveInfo, route.OpContainerArchive, route.OpPutContainerArchive:
		c.guard = swAllowArchive
	case route.OpContainerChanges:
		c.guard = swAllowChanges
	case route.OpContainerExport:
		c.guard = swAllowExport
	case route.OpContainerLogs:
		c.guard = swAllowLogs
	case route.OpContainerTop:
		c.guard = swAllowTop
	case route.OpContainerStart:
		c.actions = [2]sw{swAllowStart}
	case route.OpContainerStop:
		c.actions = [2]sw{swAllowStop, swAllowRestarts}
	case route.OpContainerRestart, route.OpContainerKill:
		c.actions = [2]sw{swAllowRestarts}
	case route.OpContainerPause:
		c.actions = [2]sw{swAllowPause}
	case route.OpContainerUnpause:
		c.actions = [2]sw{swAllowUnpause}
	}
	return c
}

// otherMethodRoute finds the route the engine would run for the OPTIONS
// request's path under another method.
func otherMethodRoute(rt *route.Route) (*route.Spec, bool) {
	escaped := (&url.URL{Path: rt.Path}).EscapedPath()
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if r, err := route.Parse(m, rt.Path, escaped); err == nil && r.Spec != nil {
			return r.Spec, true
		}
	}
	return nil, false
}

func versionPrefix(rt *route.Route) string {
	if rt.Version == "" {
		return ""
	}
	return "/v" + rt.Version
}

// categoryOf maps a path's first segment to LinuxServer's category switch.
// LinuxServer matches a case-insensitive prefix of the raw path; the engine
// routes on exact segments, so this does too.
func categoryOf(segment string) sw {
	switch segment {
	case "auth":
		return swAuth
	case "build":
		return swBuild
	case "commit":
		return swCommit
	case "configs":
		return swConfigs
	case "containers":
		return swContainers
	case "distribution":
		return swDistribution
	case "events":
		return swEvents
	case "exec":
		return swExec
	case "grpc":
		return swGRPC
	case "images":
		return swImages
	case "info":
		return swInfo
	case "networks":
		return swNetworks
	case "nodes":
		return swNodes
	case "_ping":
		return swPing
	case "plugins":
		return swPlugins
	case "secrets":
		return swSecrets
	case "services":
		return swServices
	case "session":
		return swSession
	case "swarm":
		return swSwarm
	case "system":
		return swSystem
	case "tasks":
		return swTasks
	case "version":
		return swVersion
	case "volumes":
		return swVolumes
	}
	return none // debug, and paths of the OPTIONS catch-all that name no area
}

// firstSegment returns "containers" for "/containers/{name:.*}/json".
func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// display renders a route template the way the Engine API reference writes
// it: patterns dropped, and the container or exec reference named {id}
// ("/containers/{name:.*}/restart" -> "/containers/{id}/restart").
func display(template string) string {
	var b strings.Builder
	refIsID := strings.HasPrefix(template, "/containers/") || strings.HasPrefix(template, "/exec/")
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return b.String()
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			b.WriteString(rest)
			return b.String()
		}
		name, _, _ := strings.Cut(rest[open+1:open+end], ":")
		if name == "name" && refIsID {
			name = "id"
		}
		b.WriteString(rest[:open] + "{" + name + "}")
		rest = rest[open+end+1:]
	}
}
