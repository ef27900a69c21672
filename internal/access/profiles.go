package access

// Profile is the LinuxServer block a real client's documentation recommends,
// with the requests that client makes: what must pass and what must not.
// The tests here check them against Decide; an engine test can replay them
// through the whole proxy.
type Profile struct {
	Name string
	// Source says where the block and the calls were read.
	Source string
	// Env is the block as it would be moved onto this proxy.
	Env map[string]string
	// Allow are requests the client makes, which the block must let through.
	Allow []Request
	// Deny are requests the block must refuse.
	Deny []Request
}

// Request is one request as a client sends it.
type Request struct {
	Method string
	// Target is the path and query as sent: "/containers/json?all=true".
	Target string
	Why    string
}

// Profiles returns the real-world profiles, freshly built on every call.
func Profiles() []Profile {
	return []Profile{homepage(), autoheal(), dozzleWithActions()}
}

// homepage: Homepage's docker.md recommends CONTAINERS, SERVICES and TASKS
// (the latter two for swarm) with POST=0. Homepage talks through dockerode,
// unversioned.
func homepage() Profile {
	return Profile{
		Name:   "homepage",
		Source: "gethomepage/homepage docs/configs/docker.md (Using Docker Socket Proxy); calls from docs/api-surface.md",
		Env:    map[string]string{"CONTAINERS": "1", "SERVICES": "1", "TASKS": "1", "POST": "0"},
		Allow: []Request{
			{"GET", "/containers/json?all=true", "service discovery from labels"},
			{"GET", "/containers/emby/json", "status of a configured container, by name"},
			{"GET", "/containers/emby/stats?stream=false", "the stats widget"},
			{"GET", "/services", "swarm discovery"},
			{"GET", "/services/emby", "swarm status"},
			{"GET", `/tasks?filters={"service":["emby"],"desired-state":["running"]}`, "swarm tasks of a service"},
			{"GET", "/_ping", "PING defaults to 1"},
			{"GET", "/version", "VERSION defaults to 1"},
		},
		Deny: []Request{
			{"POST", "/containers/emby/restart", "Homepage has no container actions"},
			{"POST", "/containers/emby/stop", "no actions"},
			{"GET", "/containers/emby/logs?stdout=1", "logs need ALLOW_LOGS"},
			{"GET", "/containers/emby/top", "processes need ALLOW_TOP"},
			{"GET", "/containers/emby/attach/ws?stream=1&stdin=1", "the websocket attach writes"},
			{"POST", "/containers/create", "POST=0"},
			{"DELETE", "/containers/emby?force=1", "POST=0"},
			{"POST", "/containers/emby/exec", "POST=0"},
			{"GET", "/info", "INFO=0"},
			{"GET", "/images/json", "IMAGES=0"},
			{"GET", "/networks", "NETWORKS=0"},
			{"GET", "/nodes", "NODES=0"},
			{"GET", "/secrets", "SECRETS=0"},
		},
	}
}

// autoheal: willfarrell/autoheal lists unhealthy containers and restarts
// them (its docker-entrypoint); its README names no socket-proxy settings.
// LinuxServer's ALLOW_RESTARTS works with POST=0, which is the narrowest
// block that lets it work.
func autoheal() Profile {
	return Profile{
		Name:   "autoheal",
		Source: "willfarrell/docker-autoheal docker-entrypoint (calls); LinuxServer README (ALLOW_RESTARTS works even if POST=0)",
		Env:    map[string]string{"CONTAINERS": "1", "POST": "0", "ALLOW_RESTARTS": "1"},
		Allow: []Request{
			{"GET", "/_ping", "its healthcheck"},
			{"GET", `/containers/json?filters={"health":["unhealthy"],"label":["autoheal=true"]}`, "find unhealthy containers"},
			{"POST", "/containers/4f1c3e8a9b2d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e/restart?t=10", "restart one"},
			{"POST", "/containers/4f1c3e8a9b2d/stop", "ALLOW_RESTARTS also allows stop (LinuxServer's rule)"},
			{"POST", "/containers/4f1c3e8a9b2d/kill", "ALLOW_RESTARTS also allows kill (LinuxServer's rule)"},
		},
		Deny: []Request{
			{"POST", "/containers/4f1c3e8a9b2d/start", "ALLOW_START=0"},
			{"POST", "/containers/4f1c3e8a9b2d/pause", "ALLOW_PAUSE=0"},
			{"POST", "/containers/4f1c3e8a9b2d/update", "POST=0"},
			{"POST", "/containers/4f1c3e8a9b2d/exec", "POST=0"},
			{"DELETE", "/containers/4f1c3e8a9b2d", "POST=0"},
			{"POST", "/containers/create", "POST=0"},
			{"GET", "/containers/4f1c3e8a9b2d/logs", "ALLOW_LOGS=0"},
			{"GET", "/info", "INFO=0"},
			{"GET", "/images/json", "IMAGES=0"},
		},
	}
}

// dozzleWithActions: Dozzle's remote-hosts guide asks for CONTAINERS=1 and
// INFO=1 (EVENTS is on by default); its actions guide adds start, stop and
// restart. With LinuxServer's proxy, logs also need ALLOW_LOGS=1, which the
// Tecnativa proxy Dozzle's docs were written for does not have. Dozzle uses
// the Go SDK, so its paths carry a version.
func dozzleWithActions() Profile {
	const id = "4f1c3e8a9b2d"
	return Profile{
		Name:   "dozzle-actions",
		Source: "amir20/dozzle docs/guide/remote-hosts.md (Connecting with a socket proxy) and docs/guide/actions.md; calls from docs/api-surface.md",
		Env: map[string]string{
			"CONTAINERS": "1", "INFO": "1", "EVENTS": "1", "ALLOW_LOGS": "1",
			"ALLOW_START": "1", "ALLOW_STOP": "1", "ALLOW_RESTARTS": "1",
		},
		Allow: []Request{
			{"HEAD", "/_ping", "API version negotiation"},
			{"GET", "/v1.51/version", "host metadata"},
			{"GET", "/v1.51/info", "host metadata (INFO=1)"},
			{"GET", "/v1.51/containers/json?all=1&size=1", "the container list"},
			{"GET", "/v1.51/containers/" + id + "/json", "container details"},
			{"GET", "/v1.51/containers/" + id + "/stats?stream=1", "live stats"},
			{"GET", "/v1.51/containers/" + id + "/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=1767225600", "the log viewer (ALLOW_LOGS=1)"},
			{"GET", `/v1.51/events?filters={"type":["container"]}`, "live updates"},
			{"POST", "/v1.51/containers/" + id + "/start", "start action"},
			{"POST", "/v1.51/containers/" + id + "/stop", "stop action"},
			{"POST", "/v1.51/containers/" + id + "/restart", "restart action"},
			{"POST", "/v1.51/containers/" + id + "/kill", "not a Dozzle action, but ALLOW_RESTARTS covers kill (LinuxServer's rule)"},
		},
		Deny: []Request{
			{"DELETE", "/v1.51/containers/" + id + "?force=1", "the remove action needs POST=1"},
			{"POST", "/v1.51/images/create?fromImage=nginx&tag=latest", "the update action needs IMAGES=1 and POST=1"},
			{"POST", "/v1.51/containers/" + id + "/exec", "the shell needs POST=1"},
			{"GET", "/v1.51/containers/" + id + "/attach/ws?stream=1&stdin=1", "the websocket attach writes"},
			{"GET", "/v1.51/system/df?type=volume", "volume sizes for the Disk column need SYSTEM=1"},
			{"POST", "/v1.51/containers/" + id + "/pause", "ALLOW_PAUSE=0"},
			{"GET", "/v1.51/images/json", "IMAGES=0"},
		},
	}
}
