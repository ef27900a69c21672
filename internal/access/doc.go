// Package access decides which Engine API areas and container actions a
// client may use, configured with the variables of LinuxServer's
// docker-socket-proxy, so that one container replaces a socket proxy plus
// this filter: an environment block moved verbatim from a LinuxServer
// socket-proxy service gives the same allow/deny decisions here.
//
// LinuxServer's proxy is haproxy matching regexes on the raw, URL-decoded
// path. This package takes the same decisions on the route the engine runs
// (route.Parse: version prefix, decoding, exact case, first matching route),
// so that a path the engine would run under one category can never be
// decided under another. The package is pure: Load reads variables through a
// getenv function, Decide looks at a parsed route and nothing else.
// Container visibility is decided on top of it, by the proxy.
//
// # Deliberate differences from LinuxServer's socket-proxy
//
// Where LinuxServer's regexes and the engine's routing disagree, the decision
// follows what the engine would run:
//
//   - Case. LinuxServer matches paths case-insensitively; the engine does not
//     route /CONTAINERS/json, /V1.41/_ping or /containers/x/RESTART at all
//     (404). Such paths have no route, and the proxy refuses them whatever
//     the policy says.
//   - References outside [a-zA-Z0-9_.-]. LinuxServer's container-read and
//     action rules only see a reference of those characters, so with
//     CONTAINERS=1 it lets GET /containers/a:b/logs or /containers/a/b/logs
//     through without ALLOW_LOGS, and with ALLOW_RESTARTS=1 alone it refuses
//     POST /containers/a:b/restart. Here ContainerLogs always needs
//     ALLOW_LOGS and ContainerRestart is always allowed by ALLOW_RESTARTS.
//     (No container has such a name, so the engine would answer 404.)
//   - Words inside a reference. The engine reads GET /containers/x/logs/json
//     as an inspect of container "x/logs" and DELETE /containers/x/stop as
//     removing container "x/stop"; LinuxServer's prefix rules take them for
//     logs and stop (denied without ALLOW_LOGS; allowed by ALLOW_RESTARTS even
//     with POST=0). Here they are an inspect (CONTAINERS) and a remove
//     (CONTAINERS and POST). Likewise /containers/x/stopped or /infox are no
//     routes at all, whatever LinuxServer's unanchored prefixes say.
//   - Unclean paths (dot segments, empty segments, encoded slashes that change
//     the route) are refused by route.Parse before any decision; LinuxServer
//     decides /containers/x/restart/../json as a restart.
//   - GET /containers/{id}/attach/ws needs POST=1 on top of CONTAINERS=1: it
//     is a GET, but the engine runs an attach that writes to the container's
//     stdin. LinuxServer lets it through with CONTAINERS=1 and POST=0. This
//     proxy's READ_ONLY treats it as a write too.
//   - A container start whose body the engine applies as the container's new
//     HostConfig (API < 1.24, a body over 7 bytes or chunked) needs
//     CONTAINERS=1 and POST=1, what a create needs: ALLOW_START alone would
//     let a client bind host directories into a container or make it
//     privileged. LinuxServer, which never reads bodies, lets it through.
//   - OPTIONS (answered by the engine on any path, running nothing) needs
//     POST=1 and is decided on the route the same path names for another
//     method; a path no other method routes is decided by its exact first
//     segment (LinuxServer: a case-insensitive prefix).
//   - Booleans. LinuxServer's haproxy reads a switch as a leading integer:
//     "1", "007", "-1" are on, "0" and "" are off, but so are "true" and "yes",
//     and "1abc" is on. Here integers mean the same, true/yes/false/no mean
//     what they say everywhere in this project (a word LinuxServer would read
//     as 0 but that turns a switch on is logged as a warning), anything else
//     is a configuration problem, and an empty value means the default
//     (LinuxServer: 0), since getenv cannot tell empty from unset.
//   - LIBPOD_* switches are parsed; one set to 1 is a configuration problem,
//     because the Podman-native API is not served here, except LIBPOD_PING
//     and LIBPOD_VERSION, whose LinuxServer default is 1 and which its README
//     block lists, so that block moves verbatim. /libpod/... paths are not
//     Docker Engine routes and are refused whatever these say; OPTIONS on
//     them, which the engine's catch-all answers and LinuxServer lets through
//     with POST=1 and LIBPOD_PING=1, is denied.
//   - SOCKET_PATH must name the socket PROXY_URL names; this proxy reads
//     PROXY_URL only.
//
// LinuxServer's README says EXEC covers POST /containers/{id}/exec; its
// haproxy rules put that route under CONTAINERS (and POST), and so does this
// package. The exec it creates can only run through /exec/{id}/start, which
// needs EXEC=1 and POST=1.
package access
