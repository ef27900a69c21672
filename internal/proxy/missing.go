package proxy

import (
	"fmt"
	"net/http"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// answerUnresolved writes exactly what the upstream engine answers when a
// container ref names no container (Missing) or an ambiguous ID prefix: a
// hidden container must be indistinguishable from a nonexistent one. The
// wording of some answers changed between engine releases; the proxy follows
// the upstream engine's API version.
func (p *Proxy) answerUnresolved(x *exchange, outcome index.Outcome) {
	if p.headers.podman() {
		p.answerUnresolvedPodman(x, outcome)
		return
	}
	w, rt := x.w, &x.rt
	engine := p.engine()
	status, msg := http.StatusNotFound, noSuchContainer(rt.Ref)
	switch {
	case rt.Ref == "":
		status, msg = http.StatusBadRequest, fmt.Sprintf("invalid name or ID supplied: %q", rt.Ref)
	case outcome == index.Ambiguous && engine.ambiguousPrefixIsServerError():
		// Engines up to 23.0 reported an ambiguous prefix as a server error.
		status, msg = http.StatusInternalServerError, "Multiple IDs found with provided prefix: "+rt.Ref
	case outcome == index.Ambiguous:
		status, msg = http.StatusBadRequest, "multiple IDs found with provided prefix: "+rt.Ref
	}

	switch rt.Op() {
	case route.OpCheckpointList, route.OpCheckpointCreate, route.OpCheckpointDelete:
		if p.headers.experimental() == "false" {
			// The engine refuses experimental routes before any lookup.
			x.fail(http.StatusNotImplemented, "This experimental feature is disabled by default. Start the Docker daemon in experimental mode in order to enable it.")
			return
		}
	case route.OpContainerCopy:
		if !engine.servesContainerCopy() {
			// Engine 26 removed the route: no ref exists for it.
			writePageNotFound(w)
			return
		}
		if apiVersion(rt.Version).copyRouteRemoved() {
			// Removed in API 1.24: the engine answers an empty 404 for any ref.
			h := w.Header()
			p.headers.apply(h)
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusNotFound)
			return
		}
	case route.OpContainerKill:
		prefix := "cannot kill container: "
		if engine.killErrorCapitalized() {
			prefix = "Cannot kill container: " // engines before 26.0
		}
		msg = prefix + rt.Ref + ": " + msg
	case route.OpContainerAttach:
		// The engine takes the connection over before it looks the container
		// up, and writes its error as a raw HTTP answer on the bare stream.
		if rawAttachError(w, status, msg) {
			return
		}
	}
	x.fail(status, msg)
}

// rawAttachError writes the engine's hijacked-connection error answer. It
// reports false when the connection cannot be taken over (HTTP/2, tests).
func rawAttachError(w *recorder, status int, msg string) bool {
	w.status = status
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n%s\r\n",
		status, http.StatusText(status), msg)
	_ = buf.Flush()
	return true
}
