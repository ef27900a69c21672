package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/bodyref"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Podman's Docker-compatible API (podman system service) speaks Engine API
// 1.41 (Podman 4) with answers of its own, so what the proxy writes itself
// follows Podman when the upstream is Podman (its Server header is
// "Libpod/<version> (<os>)"). Measured on Podman 4.3 and checked against
// the real service by TestPodman:
//   - errors are {"cause": ..., "message": ..., "response": <status>},
//     HTML-escaped, at every API version (no plain text below 1.24);
//   - every API version is served (none is too old or too new);
//   - a missing container is worded per route: "no container with name or
//     ID %q found: no such container" mostly, an empty 404 for top and
//     stats, and its own wordings for wait, changes and archive uploads; an
//     ambiguous ID prefix is a 404 or a 500 depending on the route;
//   - update, copy, checkpoints and websocket attach are not served: its
//     router answers a plain-text "Not Found" for any ref, and so it does
//     for a ref holding a slash, which no route pattern matches;
//   - answers carry Libpod-Api-Version and X-Reference-Id (the address of
//     the request being served), and Docker-Experimental only on a ping.

// podmanServerPrefix starts the Server header of Podman's API service.
const podmanServerPrefix = "Libpod/"

// podman reports whether the upstream is Podman, as far as its answers so
// far tell.
func (s *headerSnapshot) podman() bool {
	e := s.p.Load()
	return e != nil && strings.HasPrefix(e.server, podmanServerPrefix)
}

// Podman's causes ("cause", the innermost error) of the errors the proxy
// writes in its name.
const (
	podmanCauseNoSuchContainer = "no such container"
	podmanCauseAmbiguous       = "container already exists"
	podmanCauseNoSuchExec      = "no such exec session"
)

// podmanNoSuchContainer is Podman's message for a ref that names no container.
func podmanNoSuchContainer(ref string) string {
	return fmt.Sprintf("no container with name or ID %q found: %s", ref, podmanCauseNoSuchContainer)
}

// podmanErrorBody encodes an error as Podman's API service does:
// encoding/json with HTML escaping, cause, message, response, newline.
func podmanErrorBody(status int, cause, msg string) []byte {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(podmanError{Cause: cause, Message: msg, Response: status})
	return b.Bytes()
}

// podmanError is the body of Podman's error answers.
type podmanError struct {
	Cause    string `json:"cause"`
	Message  string `json:"message"`
	Response int    `json:"response"`
}

// decodePodmanError reads a body of Podman's error shape; ok is false for
// any other body.
func decodePodmanError(body []byte) (e podmanError, ok bool) {
	var m struct {
		Cause    *string `json:"cause"`
		Message  *string `json:"message"`
		Response *int    `json:"response"`
	}
	if json.Unmarshal(body, &m) != nil || m.Cause == nil || m.Message == nil || m.Response == nil {
		return e, false
	}
	return podmanError{Cause: *m.Cause, Message: *m.Message, Response: *m.Response}, true
}

// failPodman answers with a Podman error and Podman's headers.
func (x *exchange) failPodman(status int, cause, msg string) {
	h := x.w.Header()
	x.p.headers.apply(h)
	x.setPodmanReference()
	h["Content-Type"] = []string{"application/json"}
	x.w.WriteHeader(status)
	_, _ = x.w.Write(podmanErrorBody(status, cause, msg))
}

// setPodmanReference sets the X-Reference-Id Podman puts on each answer:
// the address of the request being served, which the proxy has as well.
func (x *exchange) setPodmanReference() {
	x.w.Header()["X-Reference-Id"] = []string{fmt.Sprintf("%p", x.r)}
}

// failPodmanMissing answers as Podman does for a ref naming no container
// where it looks the ref up outside a route's path (list filters, network
// connect and disconnect).
func (x *exchange) failPodmanMissing(status int, ref string) {
	x.failPodman(status, podmanCauseNoSuchContainer, podmanNoSuchContainer(ref))
}

// writePodmanRouteNotFound answers as Podman's router does for a path it
// has no route for: plain text, no engine headers.
func writePodmanRouteNotFound(w http.ResponseWriter) {
	http.Error(w, http.StatusText(http.StatusNotFound), http.StatusNotFound)
}

// podmanServes reports whether Podman 4 has the route at all, for any ref.
func podmanServes(op route.Op) bool {
	switch op {
	case route.OpContainerUpdate, route.OpContainerCopy, route.OpContainerAttachWebsocket,
		route.OpCheckpointList, route.OpCheckpointCreate, route.OpCheckpointDelete:
		return false
	}
	return true
}

// podmanAmbiguousIsServerError: these routes answer an ambiguous ID prefix
// with 500, the others with 404.
func podmanAmbiguousIsServerError(op route.Op) bool {
	switch op {
	case route.OpContainerWait, route.OpContainerKill, route.OpContainerRestart, route.OpContainerDelete,
		route.OpContainerArchive, route.OpContainerArchiveInfo, route.OpPutContainerArchive:
		return true
	}
	return false
}

// answerUnresolvedPodman is answerUnresolved for a Podman upstream.
func (p *Proxy) answerUnresolvedPodman(x *exchange, outcome index.Outcome) {
	ref, op := x.rt.Ref, x.rt.Op()
	if !podmanServes(op) || ref == "" || strings.Contains(ref, "/") {
		writePodmanRouteNotFound(x.w)
		return
	}
	switch op {
	case route.OpContainerTop, route.OpContainerStats:
		// Podman answers these without a body, whatever the lookup error.
		h := x.w.Header()
		p.headers.apply(h)
		x.setPodmanReference()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{"0"}
		x.w.WriteHeader(http.StatusNotFound)
		return
	}
	if outcome == index.Ambiguous {
		status := http.StatusNotFound
		if podmanAmbiguousIsServerError(op) {
			status = http.StatusInternalServerError
		}
		x.failPodman(status, podmanCauseAmbiguous, "more than one result for container ID "+ref+": "+podmanCauseAmbiguous)
		return
	}
	switch op {
	case route.OpContainerWait:
		x.failPodman(http.StatusNotFound, podmanCauseNoSuchContainer, podmanCauseNoSuchContainer)
	case route.OpContainerChanges:
		// Podman looks the ref up as a layer.
		x.failPodman(http.StatusInternalServerError, "layer not known", ref+" not found: layer not known")
	case route.OpPutContainerArchive:
		x.failPodman(http.StatusNotFound, podmanCauseNoSuchContainer, "the container doesn't exists: "+podmanNoSuchContainer(ref))
	default:
		x.failPodmanMissing(http.StatusNotFound, ref)
	}
}

// failPodmanMissingExec answers as Podman does for an exec ID it does not know.
func (x *exchange) failPodmanMissingExec(ref string) {
	x.failPodman(http.StatusNotFound, podmanCauseNoSuchExec, "no exec session with ID "+ref+" found: "+podmanCauseNoSuchExec)
}

// podmanLookupError is Podman's cause and message for a ref it cannot
// resolve to one container.
func podmanLookupError(outcome index.Outcome, ref string) (cause, msg string) {
	if outcome == index.Ambiguous {
		return podmanCauseAmbiguous, "more than one result for container ID " + ref + ": " + podmanCauseAmbiguous
	}
	return podmanCauseNoSuchContainer, podmanNoSuchContainer(ref)
}

// failPodmanLookup answers as Podman does for a ref outside a route's path
// (list filters, network connect and disconnect, commit) that names no
// visible container: missing and ambiguous have their own status per route.
func (p *Proxy) failPodmanLookup(x *exchange, outcome index.Outcome, ref string, missingStatus, ambiguousStatus int) {
	if ref == "" {
		x.failPodman(http.StatusNotFound, "name or ID cannot be empty", "name or ID cannot be empty")
		return
	}
	status := missingStatus
	if outcome == index.Ambiguous {
		status = ambiguousStatus
	}
	cause, msg := podmanLookupError(outcome, ref)
	x.failPodman(status, cause, msg)
}

// failPodmanCreateRef answers as Podman does for a create body whose ref
// names no visible container, and reports whether it has answered: Podman
// refuses any legacy link, looks the others up as it fills in the
// container's spec, and ignores endpoint links (for those the proxy's
// answer stays the engine's).
func (p *Proxy) failPodmanCreateRef(x *exchange, outcome index.Outcome, ref bodyref.Ref) bool {
	var prefix string
	switch ref.Kind {
	case bodyref.Link:
		x.failPodman(http.StatusBadRequest, "link is not supported", "bad parameter: link is not supported")
		return true
	case bodyref.VolumesFrom:
		prefix = fmt.Sprintf("container create: looking up container %q for volumes-from: ", ref.Ref)
	case bodyref.NetworkMode:
		prefix = "container create: looking up container to share net namespace with: "
	case bodyref.PidMode:
		prefix = "container create: looking up container to share pid namespace with: "
	case bodyref.IpcMode:
		prefix = "container create: looking up container to share ipc namespace with: "
	default:
		return false
	}
	cause, msg := podmanLookupError(outcome, ref.Ref)
	x.failPodman(http.StatusInternalServerError, cause, prefix+msg)
	return true
}

// decidedPodmanContainerGone is decidedContainerGone for Podman's answer,
// whose message names the missing ref in its own words.
func decidedPodmanContainerGone(resp *http.Response, pe podmanError, id, ref string, canRetry bool) error {
	if pe.Cause != podmanCauseNoSuchContainer || !strings.Contains(pe.Message, podmanNoSuchContainer(id)) {
		return nil
	}
	if canRetry {
		return errDecidedContainerGone
	}
	if id == ref {
		return nil
	}
	pe.Message = strings.ReplaceAll(pe.Message, podmanNoSuchContainer(id), podmanNoSuchContainer(ref))
	setBody(resp, podmanErrorBody(pe.Response, pe.Cause, pe.Message))
	return nil
}
