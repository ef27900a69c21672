package fakeengine

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// CaseHeader marks a test's own request: the proxy forwards it like any
// header, and the fake answers it with the [Case] it names instead of as the
// engine would. Requests without it (the index's, the proxy's own) get the
// engine's answers.
const CaseHeader = "X-Fake-Case"

// DefaultAPI is the API version of an engine without a [Fixture]: Engine
// 20.10's, the version of the local test engine.
const DefaultAPI = "1.41"

// Case answers one request marked with [CaseHeader]. The engine's headers
// are already set on w.
type Case func(e *Engine, w http.ResponseWriter, r *http.Request)

// Options shape an [Engine]. The zero value is an engine of API
// [DefaultAPI] with no containers, not a swarm manager.
type Options struct {
	// Fixture makes the engine answer as that captured engine does: its
	// headers, its ping, version and page-not-found answers, the framing of
	// its event streams. nil: a generic engine of version API.
	Fixture *Fixture
	// API is the Api-Version of an engine without a Fixture; "" is
	// DefaultAPI.
	API string
	// Header is added to (or replaces) the engine's own headers on every
	// answer the fake composes; replayed captures keep theirs.
	Header http.Header
	// World is the engine's containers. nil: the Fixture's captured ones,
	// or none.
	World *World
	// Swarm makes the engine a swarm manager with these services and tasks.
	// nil: /services and /tasks answer 503, as on an engine outside a swarm.
	Swarm *Swarm
	// RefuseEvents answers GET /events with 403, as a socket proxy that
	// forbids it does.
	RefuseEvents bool
	// Cases answer the requests marked with CaseHeader, by its value. A
	// marked request naming no case fails the test.
	Cases map[string]Case
	// NoRequestLog leaves Requests empty, for benchmarks: they count the
	// fake's allocations with the proxy's, and run long.
	NoRequestLog bool
}

// Request is one request as the engine received it.
type Request struct {
	Case     string // its CaseHeader, "" for unmarked requests
	Method   string
	Path     string
	RawQuery string
}

// Engine is a FAKE Docker Engine on a unix socket, serving until the test
// ends.
type Engine struct {
	// Host is the engine's address for a client: unix:///tmp/....
	Host string
	// API is the Api-Version it announces.
	API string

	tb     testing.TB
	opts   Options
	fx     *Fixture
	world  *World
	header http.Header   // the engine's own headers, on every composed answer
	stop   chan struct{} // closed at cleanup: held answers return

	hangNewest atomic.Bool
	inspects   atomic.Int64
	ended      chan string
	streams    chan *Stream

	mu   sync.Mutex
	seen []Request
}

// New starts a fake engine, stopped when the test ends. Start it before
// anything that uses it (the proxy under test): cleanups run last first, so
// the proxy is gone when the fake releases the answers it holds.
func New(tb testing.TB, o Options) *Engine {
	tb.Helper()
	e := &Engine{
		tb: tb, opts: o, fx: o.Fixture, world: o.World, stop: make(chan struct{}),
		ended: make(chan string, 64), streams: make(chan *Stream, 16),
	}
	if e.fx != nil {
		e.fx.require(tb, "ping-head", "ping-get", "version", "page-not-found", "events-default")
		e.API = e.fx.API
		e.header = e.fx.engineHeader()
		if e.world == nil {
			e.world = e.fx.World(tb)
		}
	} else {
		e.API = cmp.Or(o.API, DefaultAPI)
		e.header = http.Header{
			"Api-Version":         {e.API},
			"Docker-Experimental": {"false"},
			"Ostype":              {"linux"},
			"Server":              {"Docker/fake-engine (linux)"},
		}
	}
	for k, v := range o.Header {
		e.header[http.CanonicalHeaderKey(k)] = slices.Clone(v)
	}
	if e.world == nil {
		e.world = NewWorld()
	}

	sock := enginetest.TempSocket(tb)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatalf("fakeengine: %v", err)
	}
	srv := &http.Server{Handler: e, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() {
		close(e.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // every handler has returned
		_ = srv.Close()
	})
	e.Host = "unix://" + sock
	return e
}

// World returns the engine's containers.
func (e *Engine) World() *World { return e.world }

// Requests returns every request the engine received, in order (none with
// NoRequestLog).
func (e *Engine) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.seen)
}

// Inspects returns how many container inspect requests the engine answered
// (cases aside).
func (e *Engine) Inspects() int64 { return e.inspects.Load() }

// HangNewest, while on, holds every container list request with a limit
// (the index's catch-up: the newest containers) unanswered until its client
// gives up.
func (e *Engine) HangNewest(on bool) { e.hangNewest.Store(on) }

// Ended reports the case name of each request a [Hang] case held once its
// client gave up on it.
func (e *Engine) Ended() <-chan string { return e.ended }

func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get(CaseHeader)
	if !e.opts.NoRequestLog {
		e.mu.Lock()
		e.seen = append(e.seen, Request{Case: name, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery})
		e.mu.Unlock()
	}
	h := w.Header()
	for k, v := range e.header {
		h[k] = v
	}
	if name == "" {
		e.serve(w, r)
		return
	}
	c, ok := e.opts.Cases[name]
	if !ok {
		e.tb.Errorf("fakeengine: no case %q", name)
		w.WriteHeader(http.StatusTeapot)
		return
	}
	c(e, w, r)
}

// serve routes an unmarked request as the engine does.
func (e *Engine) serve(w http.ResponseWriter, r *http.Request) {
	path := trimVersion(r.URL.Path)
	get := r.Method == http.MethodGet
	rest, isContainer := strings.CutPrefix(path, "/containers/")
	ref, isInspect := strings.CutSuffix(rest, "/json")
	switch {
	case path == "/_ping" && (get || r.Method == http.MethodHead):
		e.ping(w, r)
	case path == "/version" && get:
		e.version(w, r)
	case path == "/events" && get:
		e.events(w, r)
	case path == "/containers/json" && get:
		e.list(w, r)
	case isContainer && isInspect && get:
		e.inspect(w, ref)
	case isContainer && r.Method == http.MethodPost:
		// An action reached the engine: Requests shows it.
		w.WriteHeader(http.StatusNoContent)
	case path == "/services" && get:
		e.services(w)
	case path == "/tasks" && get:
		e.tasks(w)
	default:
		e.pageNotFound(w, r)
	}
}

// trimVersion strips a leading /vX.Y from an API path.
func trimVersion(p string) string {
	rest, ok := strings.CutPrefix(p, "/v")
	if !ok {
		return p
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 || strings.Trim(rest[:i], "0123456789.") != "" || rest[0] == '.' {
		return p
	}
	return rest[i:]
}

func (e *Engine) ping(w http.ResponseWriter, r *http.Request) {
	if e.fx != nil {
		name := "ping-get"
		if r.Method == http.MethodHead {
			name = "ping-head"
		}
		e.fx.answers[name].Serve(e, w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		return
	}
	_, _ = w.Write([]byte("OK"))
}

func (e *Engine) version(w http.ResponseWriter, r *http.Request) {
	if e.fx != nil {
		e.fx.answers["version"].Serve(e, w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"ApiVersion": e.API, "Version": "fake"})
}

// pageNotFound is the engine router's answer to a route it does not have:
// without the engine's own headers, which its middleware adds.
func (e *Engine) pageNotFound(w http.ResponseWriter, r *http.Request) {
	if e.fx != nil {
		e.fx.answers["page-not-found"].Serve(e, w, r)
		return
	}
	clear(w.Header())
	writeJSON(w, http.StatusNotFound, message("page not found"))
}

// list answers GET /containers/json: all, limit and the id filter, read as
// the engine reads them.
func (e *Engine) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r.URL.RawQuery)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message(err.Error()))
		return
	}
	if q.limited && e.hangNewest.Load() {
		select {
		case <-r.Context().Done():
		case <-e.stop:
		}
		return
	}
	writeBody(w, e.world.list(q))
}

// inspect answers GET /containers/{ref}/json, resolving ref as the engine
// does: full ID, name, unique ID prefix.
func (e *Engine) inspect(w http.ResponseWriter, ref string) {
	e.inspects.Add(1)
	i, n := e.world.resolve(ref)
	switch {
	case n == 0:
		writeJSON(w, http.StatusNotFound, message("No such container: "+ref))
	case n > 1 && apiAtMost(e.API, 1, 42):
		// Engines up to 23.0 answered an ambiguous prefix as a server error.
		writeJSON(w, http.StatusInternalServerError, message("Multiple IDs found with provided prefix: "+ref))
	case n > 1:
		writeJSON(w, http.StatusBadRequest, message("multiple IDs found with provided prefix: "+ref))
	default:
		writeBody(w, e.world.inspect(i))
	}
}

// apiAtMost says whether API version v is at most major.minor.
func apiAtMost(v string, major, minor int) bool {
	ma, mi, _ := strings.Cut(v, ".")
	a, err1 := strconv.Atoi(ma)
	b, err2 := strconv.Atoi(mi)
	if err1 != nil || err2 != nil {
		return false
	}
	return a < major || a == major && b <= minor
}

// message is the engine's error body.
func message(msg string) any {
	return struct {
		Message string `json:"message"`
	}{msg}
}

// writeJSON writes v as the engine writes a short answer: encoding/json
// without HTML escaping, a newline, and a Content-Length.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b := encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeBody writes a JSON body as the engine's encoder does, in one Write
// with no declared length: net/http declares the length of a short body
// and chunks a long one.
func writeBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
