package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// engineHeaders are the headers the engine puts on every answer. The proxy
// learns them from upstream answers so that the errors it writes itself look
// exactly like the engine's.
type engineHeaders struct {
	apiVersion, experimental, osType, server string
	// libpodAPIVersion is Podman's own API version (Libpod-Api-Version),
	// which its Docker-compatible service sends on every answer.
	libpodAPIVersion string
}

// headerSnapshot holds the latest engineHeaders; safe for concurrent use.
type headerSnapshot struct {
	p      atomic.Pointer[engineHeaders]
	minAPI atomic.Pointer[string] // the engine's MinAPIVersion, from /version
	// learnt is set once LearnEngineHeaders has asked /version (whatever
	// the answer), for tests that wait for it.
	learnt atomic.Bool
}

func (s *headerSnapshot) setMinAPI(v string) {
	if v != "" {
		s.minAPI.Store(&v)
	}
}

// minAPIVersion is the oldest API version the engine accepts, "" until known.
func (s *headerSnapshot) minAPIVersion() string {
	if v := s.minAPI.Load(); v != nil {
		return *v
	}
	return ""
}

// observe records the engine headers of an upstream answer, if it has them.
// It allocates only when they change.
func (s *headerSnapshot) observe(h http.Header) {
	api := h.Get("Api-Version")
	if api == "" {
		return
	}
	cur := s.p.Load()
	next := engineHeaders{
		apiVersion:   api,
		experimental: h.Get("Docker-Experimental"),
		osType:       h.Get("Ostype"),
		server:       h.Get("Server"),
		// Podman's ping answer has them all; its other answers lack
		// Docker-Experimental (apply leaves it out for Podman anyway).
		libpodAPIVersion: h.Get("Libpod-Api-Version"),
	}
	if cur != nil && *cur == next {
		return
	}
	s.p.Store(&next)
}

// engine is the upstream engine's release behaviour (see engineapi.go).
func (p *Proxy) engine() engineAPI { return engineAPI(p.headers.apiVersion()) }

// apiVersion is the upstream engine's (maximum) API version, "" until seen.
func (s *headerSnapshot) apiVersion() string {
	if e := s.p.Load(); e != nil {
		return e.apiVersion
	}
	return ""
}

// experimental is the upstream's Docker-Experimental header, "" until seen.
func (s *headerSnapshot) experimental() string {
	if e := s.p.Load(); e != nil {
		return e.experimental
	}
	return ""
}

// apply sets the engine headers on an answer the proxy writes itself.
func (s *headerSnapshot) apply(h http.Header) {
	e := s.p.Load()
	if e == nil {
		return
	}
	set := func(k, v string) {
		if v != "" {
			h[k] = []string{v}
		}
	}
	set("Api-Version", e.apiVersion)
	if !strings.HasPrefix(e.server, podmanServerPrefix) {
		// Podman sends it on a ping only.
		set("Docker-Experimental", e.experimental)
	}
	set("Libpod-Api-Version", e.libpodAPIVersion)
	set("Ostype", e.osType)
	set("Server", e.server)
}

// errorBody encodes {"message": msg} exactly as the engine does: encoding/json
// without HTML escaping, with a trailing newline, so odd bytes in a ref
// (quotes, NULs, newlines) are escaped, never injected.
func errorBody(msg string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Message string `json:"message"`
	}{msg})
	return b.Bytes()
}

// writeEngineError writes an error in the engine's format with the engine's
// headers: JSON, or plain text for a request below API 1.24 (plain). Like
// the engine it writes the body in one piece and lets net/http choose the
// framing (Content-Length when small, chunked when not).
func (p *Proxy) writeEngineError(w http.ResponseWriter, plain bool, status int, msg string) {
	h := w.Header()
	p.headers.apply(h)
	if plain && !p.headers.podman() {
		// Below API 1.24 the engine answers errors in plain text.
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		h["X-Content-Type-Options"] = []string{"nosniff"}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, msg+"\n")
		return
	}
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	if p.headers.podman() {
		// Podman's shape; for the proxy's own errors the cause is the
		// message, as for Podman's errors that wrap nothing.
		_, _ = w.Write(podmanErrorBody(status, msg, msg))
		return
	}
	_, _ = w.Write(errorBody(msg))
}

// versionError is the engine's answer to an API version outside what it
// supports, given before any route runs; "" when the version is fine or
// the engine's range is not known yet.
func (p *Proxy) versionError(version string) string {
	if version == "" || p.headers.podman() {
		// Podman serves every version (as its own, 1.41 for Podman 4).
		return ""
	}
	if max := p.headers.apiVersion(); max != "" && apiVersion(max).less(apiVersion(version)) {
		return "client version " + version + " is too new. Maximum supported API version is " + max
	}
	if min := p.headers.minAPIVersion(); min != "" && apiVersion(version).less(apiVersion(min)) {
		return "client version " + version + " is too old. Minimum supported API version is " + min + ", please upgrade your client to a newer version"
	}
	return ""
}

// writePageNotFound answers like the engine's router does for a path or
// method it has no route for: no engine headers, just the JSON message.
func writePageNotFound(w http.ResponseWriter) {
	body := errorBody("page not found")
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(body)
}

// noSuchContainer is the engine's message for a missing container.
func noSuchContainer(ref string) string { return "No such container: " + ref }
