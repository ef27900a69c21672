package proxy

// Robustness tests (attack catalog G) against in-process FAKE upstreams: a
// real engine never sends malformed JSON, gzip, a hung answer or a stream cut
// in the middle, so these answers are produced by fakeEngine, an httptest
// server that speaks just enough of the Engine API for the proxy's index
// (ping, list, events, inspect) and answers the test's own requests, marked
// with the X-Fake-Case header, with whatever the case asks for.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// fakeCaseHeader marks a test's request: the proxy forwards it unchanged and
// the fake answers it with the named case instead of its default behaviour.
// Requests without it (the index's SDK, the proxy's header learning) get the
// default engine behaviour.
const fakeCaseHeader = "X-Fake-Case"

// fakeMarker is planted in every bad upstream body: it must never reach a
// client.
const fakeMarker = "DPF-RAW-UPSTREAM-MARKER-9c41e7"

// fakeHangRef is a ref whose upstream inspect hangs.
const fakeHangRef = "fake-hang"

// fakeContainer is one container of the fake engine's default world.
type fakeContainer struct {
	ID     string
	Name   string // "/fake-web"
	Labels map[string]string
	Env    []string
	State  string // "" is running
}

// fakeID is a stable 64-hex container ID derived from a name.
func fakeID(name string) string {
	sum := sha256.Sum256([]byte("fake-container:" + name))
	return hex.EncodeToString(sum[:])
}

func newFakeContainer(name string, labels map[string]string, env ...string) fakeContainer {
	return fakeContainer{ID: fakeID(name), Name: name, Labels: labels, Env: env}
}

// The default world: CONTAINER_LABELS=fake.app shows fake-web and fake-tools
// and hides fake-db.
var (
	fakeWeb   = newFakeContainer("/fake-web", map[string]string{"fake.app": "web"}, "WEB_SECRET=web-"+fakeMarker)
	fakeTools = newFakeContainer("/fake-tools", map[string]string{"fake.app": "tools"})
	fakeDB    = newFakeContainer("/fake-db", map[string]string{"fake.priv": "yes"}, "DB_PASSWORD="+fakeMarker)
)

func fakeWorld() []fakeContainer { return []fakeContainer{fakeDB, fakeWeb, fakeTools} }

func fakeFilters() match.Criteria {
	return match.Criteria{Labels: []match.Label{{Key: "fake.app"}}}
}

// fakeCase answers one test request.
type fakeCase func(f *fakeEngine, w http.ResponseWriter, r *http.Request)

type fakeEngineOptions struct {
	api          string // Api-Version header; "" means 1.41
	cases        map[string]fakeCase
	refuseEvents bool // answer /events with 403, as a socket proxy might
	// services is the default answer to GET /services (nil: 503, not a
	// swarm manager).
	services []fakeService
}

// fakeService is one swarm service of the fake engine.
type fakeService struct {
	ID, Name string
	Labels   map[string]string
}

// fakeEngine is an in-process fake Docker Engine on 127.0.0.1.
type fakeEngine struct {
	t     *testing.T
	Host  string // tcp://127.0.0.1:port
	api   string
	world []fakeContainer
	opts  fakeEngineOptions
	stop  chan struct{} // closed at cleanup: hanging handlers return

	// hangNewest makes the index's catch-up (the list of the newest
	// containers, limit=N) hang until the client or the test gives up.
	hangNewest atomic.Bool

	mu   sync.Mutex
	seen []fakeRequest
	// ended receives the case name of a hanging request once the proxy
	// gave up on it (its request context ended).
	ended chan string
}

// fakeRequest is a test request as the fake received it from the proxy.
type fakeRequest struct {
	Case, Method, Path, RawQuery string
}

func newFakeEngine(t *testing.T, o fakeEngineOptions) *fakeEngine {
	t.Helper()
	if o.api == "" {
		o.api = "1.41"
	}
	f := &fakeEngine{t: t, api: o.api, world: fakeWorld(), opts: o, stop: make(chan struct{}), ended: make(chan string, 64)}
	srv := httptest.NewServer(f)
	// Registered before startProxy's cleanups, so it runs after them: the
	// index and the proxy are gone when the hanging handlers are released.
	t.Cleanup(func() {
		close(f.stop)
		srv.Close()
	})
	f.Host = "tcp://" + srv.Listener.Addr().String()
	return f
}

var fakeVersionPrefix = regexp.MustCompile(`^/v[0-9][0-9.]*/`)

func (f *fakeEngine) engineHeaders(h http.Header) {
	h.Set("Api-Version", f.api)
	h.Set("Docker-Experimental", "false")
	h.Set("Ostype", "linux")
	h.Set("Server", "Docker/fake-engine (linux)")
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.engineHeaders(w.Header())
	if name := r.Header.Get(fakeCaseHeader); name != "" {
		f.mu.Lock()
		f.seen = append(f.seen, fakeRequest{Case: name, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery})
		f.mu.Unlock()
		c, ok := f.opts.cases[name]
		if !ok {
			f.t.Errorf("fake engine: no case %q", name)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		c(f, w, r)
		return
	}
	path := r.URL.Path
	if loc := fakeVersionPrefix.FindStringIndex(path); loc != nil {
		path = path[loc[1]-1:]
	}
	switch {
	case path == "/_ping":
		h := w.Header()
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		h.Set("Pragma", "no-cache")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		if r.Method == http.MethodHead {
			h.Set("Content-Length", "0")
			return
		}
		_, _ = io.WriteString(w, "OK")
	case path == "/events":
		if f.opts.refuseEvents {
			fakeJSON(w, http.StatusForbidden, map[string]string{"message": "fake socket proxy: /events is forbidden"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
	case path == "/containers/json":
		if r.URL.Query().Get("limit") != "" && f.hangNewest.Load() {
			select {
			case <-r.Context().Done():
			case <-f.stop:
			}
			return
		}
		f.writeList(w, f.world)
	case strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/json"):
		ref := strings.TrimSuffix(strings.TrimPrefix(path, "/containers/"), "/json")
		if ref == fakeHangRef {
			// The index's on-demand lookup of this ref never gets an answer.
			select {
			case <-r.Context().Done():
				f.ended <- fakeHangRef
			case <-f.stop:
			}
			return
		}
		c, status := fakeResolve(f.world, ref)
		switch status {
		case http.StatusOK:
			fakeJSON(w, http.StatusOK, fakeInspectDoc(c))
		case http.StatusNotFound:
			fakeJSON(w, status, map[string]string{"message": "No such container: " + ref})
		default:
			fakeJSON(w, status, map[string]string{"message": "multiple IDs found with provided prefix: " + ref})
		}
	case path == "/version":
		fakeJSON(w, http.StatusOK, map[string]string{"ApiVersion": f.api, "Version": "fake"})
	case path == "/services":
		if f.opts.services == nil {
			fakeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "This node is not a swarm manager."})
			return
		}
		type spec struct {
			Name   string
			Labels map[string]string
		}
		type service struct {
			ID   string
			Spec spec
		}
		list := []service{}
		for _, s := range f.opts.services {
			list = append(list, service{ID: s.ID, Spec: spec{Name: s.Name, Labels: s.Labels}})
		}
		fakeJSON(w, http.StatusOK, list)
	default:
		fakeJSON(w, http.StatusNotFound, map[string]string{"message": "page not found"})
	}
}

// fakeResolve resolves a ref as the engine does: full ID, name, unique prefix.
func fakeResolve(world []fakeContainer, ref string) (fakeContainer, int) {
	for _, c := range world {
		if c.ID == ref || c.Name == "/"+strings.TrimPrefix(ref, "/") {
			return c, http.StatusOK
		}
	}
	var found []fakeContainer
	for _, c := range world {
		if ref != "" && strings.HasPrefix(c.ID, ref) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return fakeContainer{}, http.StatusNotFound
	case 1:
		return found[0], http.StatusOK
	}
	return fakeContainer{}, http.StatusBadRequest
}

func fakeInspectDoc(c fakeContainer) map[string]any {
	return map[string]any{
		"Id":     c.ID,
		"Name":   c.Name,
		"Config": map[string]any{"Env": c.Env, "Labels": c.Labels, "Image": "fake:latest"},
	}
}

func (f *fakeEngine) writeList(w http.ResponseWriter, world []fakeContainer) {
	type summary struct {
		Id     string
		Names  []string
		Image  string
		Labels map[string]string
		State  string
	}
	list := make([]summary, 0, len(world))
	for _, c := range world {
		state := c.State
		if state == "" {
			state = "running"
		}
		list = append(list, summary{Id: c.ID, Names: []string{c.Name}, Image: "fake:latest", Labels: c.Labels, State: state})
	}
	fakeJSON(w, http.StatusOK, list)
}

// fakeJSON writes v the way the engine does: encoding/json plus "\n".
func fakeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fakeAnswer is a canned upstream answer.
type fakeAnswer struct {
	status   int    // 0: 200
	body     []byte // the body as it goes on the wire (already gzipped if gzip)
	chunked  bool   // stream in 64 KiB flushed pieces instead of Content-Length
	encoding string // Content-Encoding header, if any
	// cutAfter > 0: declare the whole body's length but send only this many
	// bytes, then drop the connection (an upstream dying mid-answer).
	cutAfter int
}

func (a fakeAnswer) serve(f *fakeEngine, w http.ResponseWriter, r *http.Request) {
	status := a.status
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if a.encoding != "" {
		h.Set("Content-Encoding", a.encoding)
	}
	if a.cutAfter > 0 {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			f.t.Errorf("fake engine: hijack: %v", err)
			return
		}
		defer conn.Close()
		h.Set("Content-Length", strconv.Itoa(len(a.body)))
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		_ = h.Write(buf)
		buf.WriteString("\r\n")
		_, _ = buf.Write(a.body[:a.cutAfter])
		_ = buf.Flush()
		return
	}
	if !a.chunked {
		h.Set("Content-Length", strconv.Itoa(len(a.body)))
		w.WriteHeader(status)
		_, _ = w.Write(a.body)
		return
	}
	w.WriteHeader(status)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for b := a.body; len(b) > 0; {
		n := min(len(b), 64<<10)
		if _, err := w.Write(b[:n]); err != nil {
			return
		}
		_ = rc.Flush()
		b = b[n:]
	}
}

func (a fakeAnswer) asCase() fakeCase { return a.serve }

// fakeGzip compresses b.
func fakeGzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// fakeElement is one container summary as the engine writes it; extra is
// appended inside the object (`,"Key":value`).
func fakeElement(id, name string, labels map[string]string, extra string) string {
	n, _ := json.Marshal([]string{name})
	l, _ := json.Marshal(labels)
	return `{"Id":"` + id + `","Names":` + string(n) + `,"Image":"fake:latest","Labels":` + string(l) + `,"State":"running"` + extra + `}`
}

// fakeList joins elements into the engine's list answer.
func fakeList(elems ...string) string { return "[" + strings.Join(elems, ",") + "]\n" }

// fakeResult is what a client of the proxy observed.
type fakeResult struct {
	Status  int
	Header  http.Header
	Body    []byte
	ReadErr error // error reading the body (a broken answer)
}

// fakeClient talks to the proxy like an SDK would, without transparent gzip
// decoding, so the test sees exactly what the proxy sent.
func fakeClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true},
	}
}

// fakeDo sends one request through the proxy, marked with the fake case.
func fakeDo(t *testing.T, p *testProxy, method, target, fcase string) fakeResult {
	t.Helper()
	res, err := fakeTry(p, method, target, fcase, 30*time.Second)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return res
}

// fakeTry is fakeDo that returns the request error instead of failing.
func fakeTry(p *testProxy, method, target, fcase string, timeout time.Duration) (fakeResult, error) {
	req, err := http.NewRequest(method, p.URL+target, nil)
	if err != nil {
		return fakeResult{}, err
	}
	if fcase != "" {
		req.Header.Set(fakeCaseHeader, fcase)
	}
	resp, err := fakeClient(timeout).Do(req)
	if err != nil {
		return fakeResult{}, err
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(resp.Body)
	return fakeResult{Status: resp.StatusCode, Header: resp.Header, Body: body, ReadErr: rerr}, nil
}

// assertFakeBadGateway checks the proxy's answer to an upstream answer it
// must not pass on: a 502 in the engine's error format, with the engine's
// headers, exact framing and nothing of the upstream body.
func assertFakeBadGateway(t *testing.T, got fakeResult, api string) {
	t.Helper()
	if got.Status != http.StatusBadGateway || got.ReadErr != nil {
		t.Fatalf("answer = %d (read error %v) %q, want 502", got.Status, got.ReadErr, fakeShort(got.Body))
	}
	if bytes.Contains(got.Body, []byte(fakeMarker)) {
		t.Errorf("502 body %q carries raw upstream bytes (marker %s)", got.Body, fakeMarker)
	}
	var msg map[string]any
	if err := json.Unmarshal(got.Body, &msg); err != nil || len(msg) != 1 || msg["message"] == "" || !bytes.HasSuffix(got.Body, []byte("}\n")) {
		t.Errorf(`502 body = %q, want the engine's {"message":"..."}\n`, got.Body)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("502 Content-Type = %q, want application/json", ct)
	}
	if v := got.Header.Get("Api-Version"); v != api {
		t.Errorf("502 Api-Version = %q, want the engine's %q", v, api)
	}
	if ce := got.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("502 Content-Encoding = %q, want none", ce)
	}
	if cl := got.Header.Get("Content-Length"); cl != strconv.Itoa(len(got.Body)) {
		t.Errorf("502 Content-Length = %q, body has %d bytes", cl, len(got.Body))
	}
}

// fakeShort abbreviates a body for messages.
func fakeShort(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// fakeDiff describes where got and want first differ.
func fakeDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-40, 0)
	return fmt.Sprintf("got %d bytes, want %d; first difference at byte %d: got %q, want %q",
		len(got), len(want), i, got[lo:min(i+40, len(got))], want[lo:min(i+40, len(want))])
}

// TestFakeEngineMalformedListIsBadGateway: a list answer the proxy cannot
// filter becomes a clean 502, never a byte of the raw answer (catalog 42).
func TestFakeEngineMalformedListIsBadGateway(t *testing.T) {
	leak := `,"Leak":"` + fakeMarker + `"`
	vis := fakeElement(fakeWeb.ID, fakeWeb.Name, fakeWeb.Labels, leak)
	vis2 := fakeElement(fakeTools.ID, fakeTools.Name, fakeTools.Labels, leak)
	gz := func(s string) []byte { return fakeGzip([]byte(s)) }
	valid := fakeList(vis, vis2)
	cases := []struct {
		name   string
		answer fakeAnswer
	}{
		{"syntax error in an element", fakeAnswer{body: []byte(`[` + vis + `,{"Id":"x","Names":["/fake-x"],"Labels":{"fake.app":"x"}` + leak + ` "oops"}]` + "\n")}},
		{"syntax error chunked", fakeAnswer{chunked: true, body: []byte(`[` + vis + `,{"Id":` + fakeMarker + `}]` + "\n")}},
		{"truncated mid-element", fakeAnswer{body: []byte(`[` + vis + `,{"Id":"x","Names":["/fake-x"],"Labels":{"fake.app":"x"},"Leak":"` + fakeMarker)}},
		{"truncated mid-element chunked", fakeAnswer{chunked: true, body: []byte(`[` + vis + `,{"Id":"x","Names":["/fake-x"],"Leak":"` + fakeMarker)}},
		{"truncated after an element", fakeAnswer{body: []byte(`[` + vis)}},
		{"truncated after a comma", fakeAnswer{body: []byte(`[` + vis + `,`)}},
		{"open bracket only", fakeAnswer{body: []byte(`[`)}},
		{"empty body", fakeAnswer{body: nil}},
		{"whitespace only", fakeAnswer{body: []byte(" \n")}},
		{"null", fakeAnswer{body: []byte("null\n")}},
		{"empty object", fakeAnswer{body: []byte("{}\n")}},
		{"object instead of list", fakeAnswer{body: []byte(`{"Leak":"` + fakeMarker + `"}` + "\n")}},
		{"string instead of list", fakeAnswer{body: []byte(`"` + fakeMarker + `"`)}},
		{"trailing garbage", fakeAnswer{body: []byte(fakeList(vis) + fakeMarker)}},
		{"trailing garbage chunked", fakeAnswer{chunked: true, body: []byte(fakeList(vis) + fakeMarker)}},
		{"second array", fakeAnswer{body: []byte(`[` + vis + `][` + vis2 + `]`)}},
		{"element is a string", fakeAnswer{body: []byte(`[` + vis + `,"` + fakeMarker + `"]`)}},
		{"element is a number", fakeAnswer{body: []byte(`[` + vis + `,1]`)}},
		{"element is null", fakeAnswer{body: []byte(`[` + vis + `,null]`)}},
		{"element is an array", fakeAnswer{body: []byte(`[[` + vis + `]]`)}},
		{"unterminated string element", fakeAnswer{body: []byte(`[` + vis + `,"` + fakeMarker)}},
		{"Names not an array", fakeAnswer{body: []byte(`[{"Id":"x","Names":"/fake-web","Labels":{"fake.app":"web"}` + leak + `}]`)}},
		{"Labels value not a string", fakeAnswer{body: []byte(`[{"Id":"x","Names":["/fake-web"],"Labels":{"fake.app":1}` + leak + `}]`)}},
		{"Labels not an object", fakeAnswer{body: []byte(`[{"Id":"x","Names":["/fake-web"],"Labels":["fake.app"]` + leak + `}]`)}},
		{"gzip header on plain JSON", fakeAnswer{encoding: "gzip", body: []byte(valid)}},
		{"gzip stream truncated", fakeAnswer{encoding: "gzip", body: gz(valid)[:len(gz(valid))-12]}},
		{"gzip of malformed JSON", fakeAnswer{encoding: "gzip", body: gz(`[` + vis + `,"` + fakeMarker)}},
		{"gzip of trailing garbage", fakeAnswer{encoding: "gzip", chunked: true, body: gz(valid + fakeMarker)}},
		{"unsupported content encoding", fakeAnswer{encoding: "br", body: []byte(valid)}},
		{"double content encoding", fakeAnswer{encoding: "gzip, gzip", body: fakeGzip(gz(valid))}},
		{"connection dropped mid-body", fakeAnswer{body: []byte(valid), cutAfter: len(valid) / 2}},
	}
	fcases := map[string]fakeCase{"valid": fakeAnswer{body: []byte(valid)}.asCase()}
	for _, c := range cases {
		fcases[c.name] = c.answer.asCase()
	}
	f := newFakeEngine(t, fakeEngineOptions{cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/json?all=1", c.name)
			assertFakeBadGateway(t, got, f.api)
		})
	}
	// The proxy is not poisoned by bad answers: a good one still filters.
	got := fakeDo(t, p, "GET", "/v1.41/containers/json?all=1", "valid")
	if got.Status != http.StatusOK || string(got.Body) != valid {
		t.Errorf("valid list after bad ones = %d %q, want 200 %q", got.Status, fakeShort(got.Body), valid)
	}
}

// fakeBigList builds a list of n elements of about size bytes each; every
// visibleEvery-th element is visible (label fake.app). It returns the
// element texts and which are visible.
func fakeBigList(n, size, visibleEvery int) (elems []string, visible []bool) {
	pad := strings.Repeat("x", size)
	for i := range n {
		label := `"fake.priv":"yes"`
		vis := i%visibleEvery == 0
		if vis {
			label = `"fake.app":"big"`
		}
		is := strconv.Itoa(i)
		// Escapes, odd spacing and number forms a re-encoder would change.
		elems = append(elems, `{"Id":"`+fmt.Sprintf("%064x", i+1)+`","Names":["/big-`+is+`"],"Image":"fake:latest","Labels":{`+
			label+`,"idx":"`+is+`"},"State":"running","Note":"caf\u00e9 \/ \"`+is+`\"","Num":1.50e+02, "Pad":"`+pad+`"}`)
		visible = append(visible, vis)
	}
	return elems, visible
}

func fakeKept(elems []string, visible []bool) []string {
	var kept []string
	for i, e := range elems {
		if visible[i] {
			kept = append(kept, e)
		}
	}
	return kept
}

// TestFakeEngineLargeListStreams: a 10,000+ element list (about 20 MB)
// passes, kept elements byte-identical; past the proxy's buffer it streams.
func TestFakeEngineLargeListStreams(t *testing.T) {
	elems, visible := fakeBigList(10000, 1400, 3)
	body := []byte(fakeList(elems...))
	kept := fakeKept(elems, visible)
	want := []byte(fakeList(kept...))
	f := newFakeEngine(t, fakeEngineOptions{cases: map[string]fakeCase{
		"big":              fakeAnswer{body: body}.asCase(),
		"big gzip chunked": fakeAnswer{body: fakeGzip(body), encoding: "gzip", chunked: true}.asCase(),
	}})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})
	t.Logf("upstream list: %d elements, %d bytes; %d kept, %d bytes", len(elems), len(body), len(kept), len(want))

	for _, name := range []string{"big", "big gzip chunked"} {
		t.Run(name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/json?all=1", name)
			if got.Status != http.StatusOK || got.ReadErr != nil {
				t.Fatalf("answer = %d (read error %v), want a complete 200", got.Status, got.ReadErr)
			}
			if !bytes.Equal(got.Body, want) {
				t.Fatalf("filtered list differs from the kept elements: %s", fakeDiff(got.Body, want))
			}
			if n := bytes.Count(got.Body, []byte(`"Names":["/big-`)); n != len(kept) {
				t.Errorf("answer holds %d elements, want %d", n, len(kept))
			}
			if cl := got.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(got.Body)) {
				t.Errorf("Content-Length = %s, body has %d bytes", cl, len(got.Body))
			}
			if ce := got.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding = %q on a decoded answer", ce)
			}
		})
	}
}

// TestFakeEngineLargeListMalformedTail: a big list that goes bad late must
// never reach the client as a complete, well-formed 200 (catalog 42): small
// kept output becomes a 502, output past the buffer is cut off.
func TestFakeEngineLargeListMalformedTail(t *testing.T) {
	// 4.5 MB, all kept: past the proxy's 4 MiB buffer, so it streams.
	allVis, _ := fakeBigList(2800, 1400, 1)
	fewVis, fewVisFlags := fakeBigList(2800, 1400, 10)
	leak := fakeElement("bad", "/fake-bad", map[string]string{"fake.app": "x"}, `,"Leak":"`+fakeMarker+`"`)
	head := func(elems []string) string { return "[" + strings.Join(elems, ",") }

	cases := []struct {
		name      string
		answer    fakeAnswer
		keptElems []string // the valid output the proxy may have streamed a prefix of
		streams   bool     // kept output exceeds the proxy's buffer
	}{
		{"syntax error at the tail, streamed", fakeAnswer{chunked: true, body: []byte(head(allVis) + `,{"Id":"` + fakeMarker + `" oops}]` + "\n")}, allVis, true},
		{"truncated tail element, streamed", fakeAnswer{body: []byte(head(allVis) + `,` + leak[:len(leak)-5])}, allVis, true},
		{"trailing garbage, streamed", fakeAnswer{chunked: true, body: []byte(fakeList(allVis...) + fakeMarker)}, allVis, true},
		{"connection dropped, streamed", fakeAnswer{body: []byte(fakeList(allVis...)), cutAfter: len(fakeList(allVis...)) - 1000}, allVis, true},
		{"gzip truncated, streamed", fakeAnswer{encoding: "gzip", body: func() []byte { z := fakeGzip([]byte(fakeList(allVis...))); return z[:len(z)-100] }()}, allVis, true},
		{"syntax error at the tail, buffered", fakeAnswer{chunked: true, body: []byte(head(fewVis) + `,{"Id":"` + fakeMarker + `" oops}]`)}, fakeKept(fewVis, fewVisFlags), false},
		{"truncated tail element, buffered", fakeAnswer{body: []byte(head(fewVis) + `,` + leak[:len(leak)-5])}, fakeKept(fewVis, fewVisFlags), false},
		{"connection dropped, buffered", fakeAnswer{body: []byte(fakeList(fewVis...)), cutAfter: len(fakeList(fewVis...)) - 1000}, fakeKept(fewVis, fewVisFlags), false},
	}
	fcases := map[string]fakeCase{}
	for _, c := range cases {
		fcases[c.name] = c.answer.asCase()
	}
	f := newFakeEngine(t, fakeEngineOptions{cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/json?all=1", c.name)
			if bytes.Contains(got.Body, []byte(fakeMarker)) {
				t.Errorf("answer carries raw bad upstream bytes (marker %s)", fakeMarker)
			}
			if !c.streams {
				assertFakeBadGateway(t, got, f.api)
				return
			}
			if got.Status == http.StatusOK && got.ReadErr == nil {
				t.Fatalf("client received a complete 200 answer (%d bytes, Content-Length %q) for a malformed upstream list; want the connection aborted",
					len(got.Body), got.Header.Get("Content-Length"))
			}
			if got.Status == http.StatusBadGateway {
				assertFakeBadGateway(t, got, f.api)
				return
			}
			// Aborted mid-stream: what did arrive is a prefix of the valid
			// kept elements, byte for byte.
			t.Logf("aborted after %d bytes: %v", len(got.Body), got.ReadErr)
			valid := []byte(fakeList(c.keptElems...))
			if !bytes.HasPrefix(valid, got.Body) {
				t.Errorf("streamed part is not a prefix of the kept elements: %s", fakeDiff(got.Body, valid))
			}
			if got.Header.Get("Content-Length") != "" {
				t.Errorf("streamed answer declares Content-Length %s", got.Header.Get("Content-Length"))
			}
		})
	}
}

// TestFakeEngineGzipAnswersAreFiltered: a socket proxy in between may gzip
// answers; lists are filtered and inspect scrubbed all the same (catalog 41).
func TestFakeEngineGzipAnswersAreFiltered(t *testing.T) {
	list := fakeList(
		fakeElement(fakeDB.ID, fakeDB.Name, fakeDB.Labels, `,"Secret":"`+fakeMarker+`"`),
		fakeElement(fakeWeb.ID, fakeWeb.Name, fakeWeb.Labels, ""),
		fakeElement(fakeTools.ID, fakeTools.Name, fakeTools.Labels, `,"Note":"\u00e9"`),
	)
	wantList := fakeList(
		fakeElement(fakeWeb.ID, fakeWeb.Name, fakeWeb.Labels, ""),
		fakeElement(fakeTools.ID, fakeTools.Name, fakeTools.Labels, `,"Note":"\u00e9"`),
	)
	inspect := `{"Id":"` + fakeWeb.ID + `","Name":"/fake-web","Config":{"Hostname":"h","Env":["SECRET=` + fakeMarker + `"],"Labels":{"fake.app":"web"}},"HostConfig":{"Env":"kept"}}` + "\n"
	wantInspect := `{"Id":"` + fakeWeb.ID + `","Name":"/fake-web","Config":{"Hostname":"h","Env":[],"Labels":{"fake.app":"web"}},"HostConfig":{"Env":"kept"}}` + "\n"

	cases := []struct {
		name, target string
		answer       fakeAnswer
		scrub        bool
		want         string
		wantEncoding string // Content-Encoding of the proxy's answer
	}{
		{"list gzip", "/containers/json?all=1", fakeAnswer{encoding: "gzip", body: fakeGzip([]byte(list))}, false, wantList, ""},
		{"list gzip chunked", "/containers/json?all=1", fakeAnswer{encoding: "gzip", chunked: true, body: fakeGzip([]byte(list))}, false, wantList, ""},
		{"list x-gzip", "/containers/json", fakeAnswer{encoding: "x-gzip", body: fakeGzip([]byte(list))}, false, wantList, ""},
		{"list GZIP upper case", "/containers/json", fakeAnswer{encoding: "GZIP", body: fakeGzip([]byte(list))}, false, wantList, ""},
		{"list identity", "/containers/json", fakeAnswer{encoding: "identity", body: []byte(list)}, false, wantList, "identity"},
		{"inspect gzip scrubbed", "/containers/fake-web/json", fakeAnswer{encoding: "gzip", body: fakeGzip([]byte(inspect))}, true, wantInspect, ""},
		{"inspect gzip chunked scrubbed", "/containers/fake-web/json", fakeAnswer{encoding: "gzip", chunked: true, body: fakeGzip([]byte(inspect))}, true, wantInspect, ""},
		// Without SCRUB_ENVS the answer is still read (hidden IDs a visible
		// container names are replaced), so it is decoded too; its JSON is
		// unchanged.
		{"inspect gzip unscrubbed is decoded unchanged", "/containers/fake-web/json", fakeAnswer{encoding: "gzip", body: fakeGzip([]byte(inspect))}, false, inspect, ""},
	}
	for _, scrub := range []bool{false, true} {
		fcases := map[string]fakeCase{}
		for _, c := range cases {
			fcases[c.name] = c.answer.asCase()
		}
		f := newFakeEngine(t, fakeEngineOptions{cases: fcases})
		p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: scrub})
		for _, c := range cases {
			if c.scrub != scrub && strings.HasPrefix(c.name, "inspect") {
				continue
			}
			t.Run(fmt.Sprintf("%s/scrub=%v", c.name, scrub), func(t *testing.T) {
				got := fakeDo(t, p, "GET", c.target, c.name)
				if got.Status != http.StatusOK || got.ReadErr != nil || string(got.Body) != c.want {
					t.Errorf("answer = %d (read error %v) %q, want 200 %q", got.Status, got.ReadErr, fakeShort(got.Body), fakeShort([]byte(c.want)))
				}
				if ce := got.Header.Get("Content-Encoding"); ce != c.wantEncoding {
					t.Errorf("Content-Encoding = %q, want %q", ce, c.wantEncoding)
				}
				if cl := got.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(got.Body)) {
					t.Errorf("Content-Length = %s, body has %d bytes", cl, len(got.Body))
				}
			})
		}
	}
}

// TestFakeEngineScrubEnvsOddInspectAnswers: SCRUB_ENVS on inspect answers a
// real engine would not send (catalog 41).
func TestFakeEngineScrubEnvsOddInspectAnswers(t *testing.T) {
	id := fakeWeb.ID
	secret := `["S=` + fakeMarker + `"]`
	cases := []struct {
		name   string
		answer fakeAnswer
		want   string // "" means a 502
		status int    // of the answer; 0 means 200
	}{
		{"truncated", fakeAnswer{body: []byte(`{"Id":"` + id + `","Config":{"Env":` + secret)}, "", 0},
		{"truncated chunked", fakeAnswer{chunked: true, body: []byte(`{"Id":"` + id + `","Config":{"Env":["S=` + fakeMarker)}, "", 0},
		{"syntax error", fakeAnswer{body: []byte(`{"Id":"` + id + `","Config":{"Env":` + secret + ` "x"}}`)}, "", 0},
		{"trailing garbage", fakeAnswer{body: []byte(`{"Config":{"Env":` + secret + `}}` + "\n" + fakeMarker)}, "", 0},
		{"two objects", fakeAnswer{body: []byte(`{"Config":{"Env":[]}}{"Config":{"Env":` + secret + `}}`)}, "", 0},
		{"array", fakeAnswer{body: []byte(`[{"Config":{"Env":` + secret + `}}]`)}, "", 0},
		{"null", fakeAnswer{body: []byte("null\n")}, "", 0},
		{"empty", fakeAnswer{body: nil}, "", 0},
		{"not gzip", fakeAnswer{encoding: "gzip", body: []byte(`{"Config":{"Env":` + secret + `}}`)}, "", 0},
		{"connection dropped", fakeAnswer{body: []byte(`{"Config":{"Env":` + secret + `},"Pad":"` + strings.Repeat("p", 4000) + `"}`), cutAfter: 100}, "", 0},

		{"Config null passes unchanged", fakeAnswer{body: []byte(`{"Id":"` + id + `","Config":null,"Env":["TOP=level"]}` + "\n")}, `{"Id":"` + id + `","Config":null,"Env":["TOP=level"]}` + "\n", 0},
		{"no Config passes unchanged", fakeAnswer{body: []byte(`{"Id":"` + id + `"}` + "\n")}, `{"Id":"` + id + `"}` + "\n", 0},
		{"Config a string passes unchanged", fakeAnswer{body: []byte(`{"Config":"Env"}`)}, `{"Config":"Env"}`, 0},
		{"lower-case config and ENV", fakeAnswer{body: []byte(`{"Id":"x","config":{"Image":"i","ENV":` + secret + `,"Tty":false}}` + "\n")}, `{"Id":"x","config":{"Image":"i","ENV":[],"Tty":false}}` + "\n", 0},
		{"escaped keys", fakeAnswer{body: []byte(`{"Con\u0066ig":{"\u0045nv":` + secret + `}}`)}, `{"Con\u0066ig":{"\u0045nv":[]}}`, 0},
		{"duplicate Config and Env", fakeAnswer{body: []byte(`{"Config":{"Env":` + secret + `,"env":` + secret + `},"CONFIG":{"Env":` + secret + `}}`)}, `{"Config":{"Env":[],"env":[]},"CONFIG":{"Env":[]}}`, 0},
		{"Env not an array", fakeAnswer{body: []byte(`{"Config":{"Env":"S=` + fakeMarker + `"}}`)}, `{"Config":{"Env":[]}}`, 0},
		{"Env object", fakeAnswer{body: []byte(`{"Config":{"Env":{"S":"` + fakeMarker + `"}}}`)}, `{"Config":{"Env":[]}}`, 0},
		{"nested Env untouched", fakeAnswer{body: []byte(`{"Config":{"Labels":{"Env":"keep"},"Env":` + secret + `},"Mounts":[{"Env":"keep"}]}`)}, `{"Config":{"Labels":{"Env":"keep"},"Env":[]},"Mounts":[{"Env":"keep"}]}`, 0},
		{"whitespace kept", fakeAnswer{chunked: true, body: []byte("{ \"Config\" : { \"Env\" : " + secret + " , \"X\" : 1 } }\n")}, "{ \"Config\" : { \"Env\" : [] , \"X\" : 1 } }\n", 0},
		{"error answer passes unchanged", fakeAnswer{status: 500, body: []byte(`{"message":"boom"}` + "\n")}, `{"message":"boom"}` + "\n", 500},
	}
	fcases := map[string]fakeCase{}
	for _, c := range cases {
		fcases[c.name] = c.answer.asCase()
	}
	f := newFakeEngine(t, fakeEngineOptions{cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/fake-web/json", c.name)
			if c.want == "" {
				assertFakeBadGateway(t, got, f.api)
				return
			}
			status := fakeOr(c.status, http.StatusOK)
			if got.Status != status || got.ReadErr != nil || string(got.Body) != c.want {
				t.Errorf("answer = %d (read error %v) %q, want %d %q", got.Status, got.ReadErr, got.Body, status, c.want)
			}
			if cl := got.Header.Get("Content-Length"); cl != strconv.Itoa(len(got.Body)) {
				t.Errorf("Content-Length = %q, body has %d bytes", cl, len(got.Body))
			}
		})
	}
	// The index's view and the request path agree: the fake saw the full ID.
	for _, r := range f.requests() {
		if r.Path != "/containers/"+id+"/json" {
			t.Errorf("inspect forwarded as %s %s, want the full ID path", r.Method, r.Path)
		}
	}
}

func fakeOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// requests returns the test requests the fake received.
func (f *fakeEngine) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

// hangCase accepts a request and answers nothing more (after an optional
// head and partial body) until the proxy gives up on it.
func hangCase(name string, head bool, partial string) fakeCase {
	return func(f *fakeEngine, w http.ResponseWriter, r *http.Request) {
		if head {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			if partial != "" {
				_, _ = io.WriteString(w, partial)
			}
			_ = http.NewResponseController(w).Flush()
		}
		select {
		case <-r.Context().Done():
			f.ended <- name
		case <-f.stop:
		}
	}
}

// TestFakeEngineHungUpstream: an upstream that accepts a request and never
// answers holds only that request; the client's cancellation reaches the
// upstream and the proxy keeps serving (catalog 45).
func TestFakeEngineHungUpstream(t *testing.T) {
	cases := []struct {
		name, method, target string
	}{
		{"version, no head", "GET", "/version"},
		{"info, head only", "GET", "/info"},
		{"inspect, no head", "GET", "/containers/fake-web/json"},
		{"inspect scrubbed, head only", "GET", "/containers/fake-web/json"},
		{"inspect scrubbed, partial body", "GET", "/containers/fake-web/json"},
		{"logs follow, head only", "GET", "/containers/fake-web/logs?follow=1&stdout=1"},
		{"stop, no head", "POST", "/containers/fake-tools/stop?t=600"},
		{"list, no head", "GET", "/containers/json?all=1"},
		{"list, head only", "GET", "/containers/json?all=1"},
		{"list, partial body", "GET", "/containers/json?all=1"},
	}
	fcases := map[string]fakeCase{}
	for _, c := range cases {
		var partial string
		if strings.Contains(c.name, "partial") {
			partial = `[` + fakeElement(fakeWeb.ID, fakeWeb.Name, fakeWeb.Labels, "") + `,{"Id":`
			if strings.HasPrefix(c.name, "inspect") {
				partial = `{"Id":"` + fakeWeb.ID + `","Config":{"Env":["S=`
			}
		}
		fcases[c.name] = hangCase(c.name, !strings.Contains(c.name, "no head"), partial)
	}
	f := newFakeEngine(t, fakeEngineOptions{cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			res, err := fakeTry(p, c.method, c.target, c.name, 150*time.Millisecond)
			if err == nil && res.ReadErr == nil {
				t.Fatalf("answer = %d %q from a hung upstream, want the client's timeout", res.Status, res.Body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("client timeout took %v", d)
			}
			select {
			case name := <-f.ended:
				if name != c.name {
					t.Errorf("upstream request %q ended, want %q", name, c.name)
				}
			case <-time.After(3 * time.Second):
				t.Errorf("the upstream request was not cancelled after the client gave up")
			}
			// The proxy still serves others.
			ping := fakeDo(t, p, "GET", "/_ping", "")
			if ping.Status != http.StatusOK || string(ping.Body) != "OK" {
				t.Errorf("/_ping after the hang = %d %q, want 200 OK", ping.Status, ping.Body)
			}
		})
	}
	// The index's catch-up for an unknown ref hangs upstream: the client
	// gives up, and requests the index answers alone are not held up.
	t.Run("index lookup hangs", func(t *testing.T) {
		f.hangNewest.Store(true)
		defer f.hangNewest.Store(false)
		if _, err := fakeTry(p, "GET", "/containers/never-seen/json", "", 150*time.Millisecond); err == nil {
			t.Fatal("inspect never-seen answered while the index's catch-up hangs")
		}
		start := time.Now()
		for _, ref := range []string{"fake-web", fakeTools.ID[:12]} {
			got := fakeDo(t, p, "GET", "/containers/"+ref+"/json", "")
			if got.Status != http.StatusOK {
				t.Errorf("inspect %s while a lookup hangs = %d %q, want 200", ref, got.Status, got.Body)
			}
		}
		if got := fakeDo(t, p, "GET", "/containers/json", ""); got.Status != http.StatusOK {
			t.Errorf("list while a lookup hangs = %d %q, want 200", got.Status, got.Body)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("requests took %v while an unrelated lookup hangs", d)
		}
	})
	// Many concurrent hung requests do not block the proxy either.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _ = fakeTry(p, "GET", "/version", "version, no head", 500*time.Millisecond) })
	}
	time.Sleep(100 * time.Millisecond)
	res, err := fakeTry(p, "GET", "/containers/json", "", 5*time.Second)
	if err != nil || res.Status != http.StatusOK {
		t.Errorf("list while 20 requests hang = %v %v, want 200", res.Status, err)
	}
	wg.Wait()
}

// TestFakeEngineEventsStreamEndsWithUpstream: when the upstream ends an
// events stream mid-way (engine restart), the client's stream ends too, and
// what was sent before arrives at once (catalog 44, 46).
func TestFakeEngineEventsStreamEndsWithUpstream(t *testing.T) {
	ev := func(i int) string {
		return fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":"%s","Attributes":{"fake.app":"web","name":"fake-web"}},"scope":"local","time":%d,"timeNano":%d000000000}`+"\n", fakeWeb.ID, 1700000000+i, 1700000000+i)
	}
	// The upstream writes the second event only once the client has read
	// the first: a proxy that held the stream back would deadlock the test
	// until its timeout.
	firstRead := map[string]chan struct{}{"ends": make(chan struct{}), "breaks": make(chan struct{})}
	stream := func(abrupt bool, firstRead chan struct{}) fakeCase {
		return func(f *fakeEngine, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			rc := http.NewResponseController(w)
			_, _ = io.WriteString(w, ev(1))
			_ = rc.Flush()
			select {
			case <-firstRead:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, ev(2))
			_ = rc.Flush()
			if abrupt {
				if conn, _, err := rc.Hijack(); err == nil {
					conn.Close() // no terminating chunk: the engine died
				}
			}
		}
	}
	f := newFakeEngine(t, fakeEngineOptions{cases: map[string]fakeCase{
		"ends":   stream(false, firstRead["ends"]),
		"breaks": stream(true, firstRead["breaks"]),
	}})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})

	for _, name := range []string{"ends", "breaks"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D", nil)
			req.Header.Set(fakeCaseHeader, name)
			start := time.Now()
			resp, err := fakeClient(0).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			first, err := br.ReadString('\n')
			if err != nil || first != ev(1) {
				t.Fatalf("first event = %q, %v; want %q (flushed while the upstream stream is still open)", first, err, ev(1))
			}
			close(firstRead[name])
			rest, err := io.ReadAll(br)
			if ctx.Err() != nil {
				t.Fatalf("client stream still open %v after the upstream ended it", time.Since(start))
			}
			if string(rest) != ev(2) {
				t.Errorf("rest of the stream = %q, want %q", rest, ev(2))
			}
			if name == "ends" && err != nil {
				t.Errorf("cleanly ended upstream stream ended with %v at the client", err)
			}
			t.Logf("stream ended after %v with %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}

// fakeRawAnswer is an answer read off the wire: the header as sent and
// every body byte sent before the connection closed.
type fakeRawAnswer struct {
	Status   int
	Header   http.Header
	Chunked  bool
	Raw      []byte // body bytes exactly as sent (still chunk-framed if chunked)
	Body     []byte // Raw decoded from its chunk framing
	ChunkErr error
}

// fakeRawExchange sends one request with Connection: close and reads the
// proxy's answer to the end of the connection, so a Content-Length that does
// not match the body actually sent shows.
func fakeRawExchange(t *testing.T, p *testProxy, method, target, fcase string) fakeRawAnswer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.Host, "tcp://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n%s: %s\r\n\r\n", method, target, fakeCaseHeader, fcase)
	all, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, target, err)
	}
	headEnd := bytes.Index(all, []byte("\r\n\r\n"))
	if headEnd < 0 {
		t.Fatalf("%s %s: no complete header in %q", method, target, all)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all[:headEnd+4])), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	a := fakeRawAnswer{Status: resp.StatusCode, Header: resp.Header, Raw: all[headEnd+4:]}
	a.Chunked = slices.Contains(resp.TransferEncoding, "chunked")
	a.Body = a.Raw
	if a.Chunked {
		a.Body, a.ChunkErr = io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(a.Raw)))
	}
	return a
}

// TestFakeEngineContentLengthMatchesFilteredBody: every answer the proxy
// rewrites declares the length of what it actually sends (catalog 47).
func TestFakeEngineContentLengthMatchesFilteredBody(t *testing.T) {
	hidden := fakeElement(fakeDB.ID, fakeDB.Name, fakeDB.Labels, `,"Secret":"`+fakeMarker+`"`)
	web := fakeElement(fakeWeb.ID, fakeWeb.Name, fakeWeb.Labels, "")
	tools := fakeElement(fakeTools.ID, fakeTools.Name, fakeTools.Labels, "")
	list := fakeList(hidden, web, hidden, tools, hidden)
	inspect := `{"Id":"` + fakeWeb.ID + `","Config":{"Env":["A=` + strings.Repeat("s", 500) + `"]}}` + "\n"
	scrubbed := `{"Id":"` + fakeWeb.ID + `","Config":{"Env":[]}}` + "\n"
	gone := `{"message":"No such container: ` + fakeWeb.ID + `"}` + "\n"

	cases := []struct {
		name, target string
		answer       fakeAnswer
		want         string
		status       int
	}{
		{"list, upstream Content-Length", "/containers/json?all=1", fakeAnswer{body: []byte(list)}, fakeList(web, tools), 200},
		{"list, upstream chunked", "/containers/json?all=1", fakeAnswer{chunked: true, body: []byte(list)}, fakeList(web, tools), 200},
		{"list, gzip", "/containers/json?all=1", fakeAnswer{encoding: "gzip", body: fakeGzip([]byte(list))}, fakeList(web, tools), 200},
		{"list, limit", "/containers/json?all=1&limit=1", fakeAnswer{body: []byte(list)}, fakeList(web), 200},
		{"list, nothing kept", "/containers/json?all=1", fakeAnswer{body: []byte(fakeList(hidden, hidden))}, "[]\n", 200},
		{"inspect scrubbed", "/containers/fake-web/json", fakeAnswer{body: []byte(inspect)}, scrubbed, 200},
		{"inspect scrubbed, chunked", "/containers/fake-web/json", fakeAnswer{chunked: true, body: []byte(inspect)}, scrubbed, 200},
		{"inspect scrubbed, gzip", "/containers/fake-web/json", fakeAnswer{encoding: "gzip", body: fakeGzip([]byte(inspect))}, scrubbed, 200},
		// The container went away between the decision and the forward:
		// the engine's message names the full ID, the client asked by name.
		{"inspect of a container just removed", "/containers/fake-web/json", fakeAnswer{status: 404, body: []byte(gone)}, `{"message":"No such container: fake-web"}` + "\n", 404},
		{"kill of a container just removed", "/containers/fake-web/kill", fakeAnswer{status: 404, body: []byte(gone)}, `{"message":"No such container: fake-web"}` + "\n", 404},
	}
	fcases := map[string]fakeCase{}
	for _, c := range cases {
		fcases[c.name] = c.answer.asCase()
	}
	f := newFakeEngine(t, fakeEngineOptions{cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "GET"
			if strings.HasSuffix(c.target, "/kill") {
				method = "POST"
			}
			got := fakeRawExchange(t, p, method, c.target, c.name)
			if got.Status != c.status || string(got.Body) != c.want {
				t.Errorf("answer = %d %q, want %d %q", got.Status, got.Body, c.status, c.want)
			}
			cl := got.Header.Get("Content-Length")
			switch {
			case got.Chunked && cl != "":
				t.Errorf("answer is chunked and declares Content-Length %s", cl)
			case got.Chunked:
				if got.ChunkErr != nil {
					t.Errorf("chunked body broken: %v", got.ChunkErr)
				}
			case cl != strconv.Itoa(len(got.Raw)):
				t.Errorf("Content-Length = %q, body actually sent has %d bytes", cl, len(got.Raw))
			}
			if ce := got.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding = %q on a rewritten answer", ce)
			}
		})
	}
}

// fakeDecoded returns an answer's body decoded from gzip if it says so.
func fakeDecoded(t *testing.T, got fakeResult) []byte {
	t.Helper()
	switch ce := strings.ToLower(got.Header.Get("Content-Encoding")); ce {
	case "":
		return got.Body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(got.Body))
		if err != nil {
			t.Fatalf("answer says gzip but is not: %v", err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("answer says gzip but is not: %v", err)
		}
		return b
	default:
		t.Fatalf("answer has Content-Encoding %q", ce)
		return nil
	}
}

// TestFakeEngineGzipErrorAnswersAreRewritten: the proxy rewrites engine error
// answers (a removed container's full ID back to the client's ref; a hidden
// container's name and ID out of a conflict message). A socket proxy that
// gzips answers must not get them past those rewrites: the client decodes
// the gzip and would read the engine's raw message.
//
// BUG (left failing on purpose) for the gzip rows: restoreRef (containers.go)
// and redactError (redact.go) read resp.Body raw; a gzip body does not
// unmarshal as JSON, so it passes unchanged, still gzip, and the hidden
// container's ID and name in a 409 conflict reach the client. Fix: read error
// bodies through upstream.PlainBody(resp) (which decodes gzip and drops
// Content-Encoding) in both, and in redactError refuse (502) an error body
// whose encoding upstream.PlainBody rejects rather than passing it on.
func TestFakeEngineGzipErrorAnswersAreRewritten(t *testing.T) {
	conflict := `{"message":"Error when allocating new name: Conflict. The container name \"/fake-db\" is already in use by container \"` + fakeDB.ID + `\". You have to remove (or rename) that container to be able to reuse that name."}` + "\n"
	gone := `{"message":"No such container: ` + fakeWeb.ID + `"}` + "\n"
	type row struct {
		name, method, target string
		answer               fakeAnswer
		status               int
		check                func(t *testing.T, msg string)
	}
	var rows []row
	for _, enc := range []string{"", "gzip"} {
		wrap := func(status int, s string) fakeAnswer {
			if enc == "" {
				return fakeAnswer{status: status, body: []byte(s)}
			}
			return fakeAnswer{status: status, body: fakeGzip([]byte(s)), encoding: enc}
		}
		suffix := " (plain)"
		if enc != "" {
			suffix = " (" + enc + ")"
		}
		rows = append(rows,
			row{"rename onto a hidden container's name" + suffix, "POST", "/containers/fake-web/rename?name=fake-db", wrap(http.StatusConflict, conflict), http.StatusConflict,
				func(t *testing.T, msg string) {
					if strings.Contains(msg, fakeDB.ID[:12]) || strings.Contains(msg, "fake-db") {
						t.Errorf("conflict message %q names the hidden container (%s, %s)", msg, fakeDB.Name, fakeDB.ID[:12])
					}
				}},
			row{"inspect of a container removed meanwhile" + suffix, "GET", "/containers/fake-web/json", wrap(http.StatusNotFound, gone), http.StatusNotFound,
				func(t *testing.T, msg string) {
					if want := "No such container: fake-web"; msg != want {
						t.Errorf("message = %q, want %q (the ref the client asked for)", msg, want)
					}
				}},
		)
	}
	fcases := map[string]fakeCase{}
	for _, r := range rows {
		fcases[r.name] = r.answer.asCase()
	}
	f := newFakeEngine(t, fakeEngineOptions{cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got := fakeDo(t, p, r.method, r.target, r.name)
			if got.Status != r.status {
				t.Fatalf("answer = %d %q, want %d", got.Status, got.Body, r.status)
			}
			var msg struct{ Message string }
			body := fakeDecoded(t, got)
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatalf("answer %q is not an engine error: %v", body, err)
			}
			r.check(t, msg.Message)
			if cl := got.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(got.Body)) {
				t.Errorf("Content-Length = %s, body has %d bytes", cl, len(got.Body))
			}
		})
	}
}
