package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync/atomic"
)

// engineHeaders are the headers the engine puts on every answer. The proxy
// learns them from upstream answers so that the errors it writes itself look
// exactly like the engine's.
type engineHeaders struct {
	apiVersion, experimental, osType, server string
}

// headerSnapshot holds the latest engineHeaders; safe for concurrent use.
type headerSnapshot struct {
	p atomic.Pointer[engineHeaders]
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
	}
	if cur != nil && *cur == next {
		return
	}
	s.p.Store(&next)
}

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
	set("Docker-Experimental", e.experimental)
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

// writeEngineError writes an error in the engine's JSON error format with the
// engine's headers. Like the engine it writes the body in one piece and lets
// net/http choose the framing (Content-Length when small, chunked when not).
func (p *Proxy) writeEngineError(w http.ResponseWriter, status int, msg string) {
	body := errorBody(msg)
	h := w.Header()
	p.headers.apply(h)
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(body)
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
