package proxy

// Tests against fixtureEngine, a FAKE upstream that replays answers captured
// from real engines (testdata/engine-29.7: API 1.55; testdata/engine-20.10:
// API 1.41), so the proxy meets API 1.55 shapes and headers that the local
// test engine (20.10) cannot produce. See testdata/*/README.txt for the
// containers at capture time: with CONTAINER_LABELS=homepage, web-a,
// stopped-c and net-vis are visible; db-b and net-hid are hidden.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// fixtureEngines are the captured engines, newest first.
var fixtureEngines = []string{"engine-29.7", "engine-20.10"}

// fixtureAnswer is one captured engine answer.
type fixtureAnswer struct {
	Status  int
	Header  http.Header // as captured, without Transfer-Encoding
	Body    []byte      // de-chunked
	Chunked bool
}

// readFixture parses testdata/<dir>/<name>.http.
func readFixture(t *testing.T, dir, name string) fixtureAnswer {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", dir, name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("%s/%s: no blank line after the headers", dir, name)
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(head, "\r\n\r\n"...))))
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		t.Fatalf("%s/%s: status line %q", dir, name, line)
	}
	status, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatalf("%s/%s: status line %q", dir, name, line)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("%s/%s: %v", dir, name, err)
	}
	h := http.Header(mh)
	a := fixtureAnswer{Status: status, Header: h, Body: body, Chunked: h.Get("Transfer-Encoding") == "chunked"}
	h.Del("Transfer-Encoding")
	return a
}

// withBody returns a copy of a with body b (Content-Length fixed if framed).
func (a fixtureAnswer) withBody(b []byte) fixtureAnswer {
	a.Header = a.Header.Clone()
	a.Body = b
	if !a.Chunked {
		a.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	return a
}

// replaced returns a with every old in its body replaced by new.
func (a fixtureAnswer) replaced(old, new string) fixtureAnswer {
	return a.withBody(bytes.ReplaceAll(a.Body, []byte(old), []byte(new)))
}

// raw is the answer as rawDo reports one, to compare with assertSameAnswer.
func (a fixtureAnswer) raw(method string) rawResponse {
	body := string(a.Body)
	if method == http.MethodHead {
		body = ""
	}
	return rawResponse{Status: a.Status, Header: a.Header, Body: body}
}

// serve replays the answer with its own framing.
func (a fixtureAnswer) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range a.Header {
		if k != "Content-Length" {
			h[k] = slices.Clone(v)
		}
	}
	if a.Chunked {
		w.WriteHeader(a.Status)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		_, _ = w.Write(a.Body)
		_ = rc.Flush()
		return
	}
	if cl := a.Header.Get("Content-Length"); cl != "" {
		h.Set("Content-Length", cl)
	}
	w.WriteHeader(a.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.Body)
	}
}

// fixtureContainer is a container of the captured list.
type fixtureContainer struct {
	ID, Name string
}

// fixtureEngine is a fake upstream on a unix socket that replays one
// engine's captured answers: the list for every list request, the captured
// inspect answers for web-a (visible) and db-b (hidden), the engine's
// not-found and ambiguous-prefix answers for other refs, ping, version, and
// an events stream that stays open.
type fixtureEngine struct {
	t    *testing.T
	dir  string
	Host string // unix:///...
	api  string
	ids  map[string]string // captured ID -> ID served (same length)

	answers map[string]fixtureAnswer // by fixture name, IDs rewritten
	world   []fixtureContainer       // from the list, in order
	stop    chan struct{}

	mu   sync.Mutex
	seen []string // "METHOD path" of every request
}

// newFixtureEngine serves testdata/<dir>. ids rewrites container IDs (each
// to another 64-hex ID) in every answer, to craft shared prefixes.
func newFixtureEngine(t *testing.T, dir string, ids map[string]string) *fixtureEngine {
	t.Helper()
	f := &fixtureEngine{t: t, dir: dir, ids: ids, answers: map[string]fixtureAnswer{}, stop: make(chan struct{})}
	names := []string{"ping-head", "ping-get", "version", "containers-list-all", "container-inspect-visible",
		"container-inspect-byname", "container-inspect-hidden", "container-inspect-missing", "events-default", "page-not-found"}
	if _, err := os.Stat(filepath.Join("testdata", dir, "container-inspect-ambiguous-prefix.http")); err == nil {
		names = append(names, "container-inspect-ambiguous-prefix")
	}
	for _, n := range names {
		a := readFixture(t, dir, n)
		for old, new := range ids {
			if len(old) != len(new) {
				t.Fatalf("ID rewrite %s -> %s changes the length", old, new)
			}
			a.Body = bytes.ReplaceAll(a.Body, []byte(old), []byte(new))
		}
		f.answers[n] = a
	}
	f.api = f.answers["ping-head"].Header.Get("Api-Version")
	var list []struct {
		Id    string
		Names []string
	}
	if err := json.Unmarshal(f.answers["containers-list-all"].Body, &list); err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		f.world = append(f.world, fixtureContainer{ID: c.Id, Name: upstream.PrimaryName(c.Names)})
	}

	sockDir, err := os.MkdirTemp("", "dpf-fx-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(sockDir, "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(f)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(func() {
		close(f.stop)
		srv.Close()
		os.RemoveAll(sockDir)
	})
	f.Host = "unix://" + sock
	return f
}

// container returns the captured container named (without slash) name.
func (f *fixtureEngine) container(name string) fixtureContainer {
	f.t.Helper()
	for _, c := range f.world {
		if c.Name == "/"+name {
			return c
		}
	}
	f.t.Fatalf("%s: no container %s in the captured list", f.dir, name)
	return fixtureContainer{}
}

func (f *fixtureEngine) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

func (f *fixtureEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen = append(f.seen, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	path := r.URL.Path
	if loc := fakeVersionPrefix.FindStringIndex(path); loc != nil {
		path = path[loc[1]-1:]
	}
	switch {
	case path == "/_ping" && r.Method == http.MethodHead:
		f.answers["ping-head"].serve(w, r)
	case path == "/_ping" && r.Method == http.MethodGet:
		f.answers["ping-get"].serve(w, r)
	case path == "/version" && r.Method == http.MethodGet:
		f.answers["version"].serve(w, r)
	case path == "/events" && r.Method == http.MethodGet:
		a := f.answers["events-default"]
		for k, v := range a.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(a.Status)
		_ = http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
	case path == "/containers/json" && r.Method == http.MethodGet:
		f.answers["containers-list-all"].serve(w, r)
	case strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/json") && r.Method == http.MethodGet:
		f.inspect(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/containers/"), "/json"))
	case strings.HasPrefix(path, "/containers/") && r.Method == http.MethodPost:
		// An action reached the engine; tests check f.requests().
		h := w.Header()
		for _, k := range []string{"Api-Version", "Docker-Experimental", "Ostype", "Server"} {
			h.Set(k, f.answers["version"].Header.Get(k))
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		f.answers["page-not-found"].serve(w, r)
	}
}

// inspect answers GET /containers/{ref}/json the way the captured engine
// resolves refs: full ID, name, unique ID prefix.
func (f *fixtureEngine) inspect(w http.ResponseWriter, r *http.Request, ref string) {
	var found []fixtureContainer
	for _, c := range f.world {
		if c.ID == ref || c.Name == "/"+strings.TrimPrefix(ref, "/") {
			found = []fixtureContainer{c}
			break
		}
		if strings.HasPrefix(c.ID, ref) {
			found = append(found, c)
		}
	}
	missing := f.answers["container-inspect-missing"]
	switch {
	case len(found) == 0:
		missing.replaced("No such container: nope", "No such container: "+ref).serve(w, r)
	case len(found) > 1:
		if a, ok := f.answers["container-inspect-ambiguous-prefix"]; ok {
			a.withBody(errorBody("multiple IDs found with provided prefix: "+ref)).serve(w, r)
			return
		}
		// Engines before 23.0 (API <= 1.42): a server error, capitalised.
		a := missing.withBody(errorBody("Multiple IDs found with provided prefix: " + ref))
		a.Status = http.StatusInternalServerError
		a.serve(w, r)
	case found[0].Name == "/web-a" && found[0].ID == ref:
		f.answers["container-inspect-visible"].serve(w, r)
	case found[0].Name == "/web-a":
		f.answers["container-inspect-byname"].serve(w, r)
	case found[0].Name == "/db-b":
		f.answers["container-inspect-hidden"].serve(w, r)
	default:
		// Not captured: a minimal inspect with the captured engine's headers.
		labels := map[string]string{"private": "yes"}
		if found[0].Name != "/net-hid" {
			labels = map[string]string{"homepage.group": "x"}
		}
		b, _ := json.Marshal(map[string]any{"Id": found[0].ID, "Name": found[0].Name, "Config": map[string]any{"Env": []string{}, "Labels": labels}})
		f.answers["container-inspect-visible"].withBody(append(b, '\n')).serve(w, r)
	}
}

// startFixtureProxy runs the proxy with CONTAINER_LABELS=homepage (read
// through config.Load, as in production) in front of the fixture engine,
// and makes sure it has learnt the engine's headers.
func startFixtureProxy(t *testing.T, f *fixtureEngine, scrub bool) *testProxy {
	t.Helper()
	env := map[string]string{"PROXY_URL": f.Host, "CONTAINER_LABELS": "homepage"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, f.Host, proxyConfig{filters: cfg.Criteria, scrubEnvs: scrub})
	if got := rawDo(t, p.Host, "GET", "/_ping", nil, nil); got.Status != http.StatusOK {
		t.Fatalf("GET /_ping through the proxy = %d %q", got.Status, got.Body)
	}
	return p
}

// fixtureElements splits the captured list into its raw elements.
func fixtureElements(t *testing.T, body []byte) []json.RawMessage {
	t.Helper()
	var els []json.RawMessage
	if err := json.Unmarshal(body, &els); err != nil {
		t.Fatal(err)
	}
	return els
}

func TestFixtureEngineListKeepsVisibleElements(t *testing.T) {
	for _, dir := range fixtureEngines {
		t.Run(dir, func(t *testing.T) {
			f := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, false)
			captured := f.answers["containers-list-all"]

			var kept []string
			var keptNames []string
			for _, el := range fixtureElements(t, captured.Body) {
				var c struct{ Names []string }
				_ = json.Unmarshal(el, &c)
				if n := upstream.PrimaryName(c.Names); n == "/web-a" || n == "/stopped-c" || n == "/net-vis" {
					kept = append(kept, string(el))
					keptNames = append(keptNames, n)
				}
			}
			want := "[" + strings.Join(kept, ",") + "]\n"
			for _, el := range kept {
				if !bytes.Contains(captured.Body, []byte(el)) {
					t.Fatalf("element %.80s... is not verbatim in the capture", el)
				}
			}

			for _, target := range []string{"/containers/json?all=1", "/v" + f.api + "/containers/json?all=true", "/v1.40/containers/json?all=1&size=0"} {
				got := rawDo(t, p.Host, "GET", target, nil, nil)
				if got.Status != http.StatusOK || got.Body != want {
					t.Errorf("GET %s = %d %q, want 200 with exactly the visible elements %q", target, got.Status, got.Body, want)
				}
				for _, k := range []string{"Api-Version", "Content-Type", "Docker-Experimental", "Ostype", "Server"} {
					if g, w := got.Header.Get(k), captured.Header.Get(k); g != w {
						t.Errorf("GET %s: header %s = %q, want the engine's %q", target, k, g, w)
					}
				}
				if cl := got.Header.Get("Content-Length"); cl != strconv.Itoa(len(got.Body)) {
					t.Errorf("GET %s: Content-Length = %q, body has %d bytes", target, cl, len(got.Body))
				}
			}

			// A Go SDK client reads the same three containers.
			res, err := p.Client.ContainerList(context.Background(), client.ContainerListOptions{All: true})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range res.Items {
				names = append(names, upstream.PrimaryName(c.Names))
			}
			if !slices.Equal(names, keptNames) {
				t.Errorf("SDK list names = %q, want %q", names, keptNames)
			}
		})
	}
}

func TestFixtureEngineInspectScrubsOnlyEnv(t *testing.T) {
	for _, dir := range fixtureEngines {
		t.Run(dir, func(t *testing.T) {
			f := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, true)
			plain := startFixtureProxy(t, f, false)
			web := f.container("web-a")
			visible := f.answers["container-inspect-visible"]

			var doc struct{ Config struct{ Env []string } }
			if err := json.Unmarshal(visible.Body, &doc); err != nil || len(doc.Config.Env) == 0 {
				t.Fatalf("captured inspect has no Env (%v)", err)
			}
			env, _ := json.Marshal(doc.Config.Env)
			if n := bytes.Count(visible.Body, []byte(`"Env":`+string(env))); n != 1 {
				t.Fatalf("captured Env %s found %d times in the inspect answer, want 1", env, n)
			}
			wantBody := bytes.Replace(visible.Body, []byte(`"Env":`+string(env)), []byte(`"Env":[]`), 1)

			for _, ref := range []string{"web-a", web.ID, web.ID[:12]} {
				got := rawDo(t, p.Host, "GET", "/containers/"+ref+"/json", nil, nil)
				if got.Status != http.StatusOK || got.Body != string(wantBody) {
					t.Errorf("scrubbed inspect %s = %d, body differs from the capture with Env [] only:\n got: %s\nwant: %s", ref, got.Status, got.Body, wantBody)
				}
				for _, secret := range doc.Config.Env {
					if strings.Contains(got.Body, secret) {
						t.Errorf("scrubbed inspect %s carries %q", ref, secret)
					}
				}
				want := visible.withBody(wantBody)
				want.Header.Set("Content-Length", strconv.Itoa(len(wantBody)))
				assertSameAnswer(t, got, want.raw("GET"))

				// Without SCRUB_ENVS the captured answer passes byte for byte.
				// The proxy reads every inspect answer (to replace hidden
				// containers' IDs a visible one may name), so it goes out
				// with a Content-Length where the engine streamed it.
				got = rawDo(t, plain.Host, "GET", "/containers/"+ref+"/json", nil, nil)
				want = visible.withBody(visible.Body)
				want.Header.Set("Content-Length", strconv.Itoa(len(visible.Body)))
				assertSameAnswer(t, got, want.raw("GET"))
			}
			// The upstream was asked by full ID only.
			for _, r := range f.requests() {
				if strings.Contains(r, "/containers/web-a/") || strings.Contains(r, "/containers/"+web.ID[:12]+"/") {
					t.Errorf("upstream request %q names web-a by a ref, not its full ID", r)
				}
			}
		})
	}
}

func TestFixtureEnginePingAndVersionPassEveryHeader(t *testing.T) {
	for _, dir := range fixtureEngines {
		t.Run(dir, func(t *testing.T) {
			f := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, true)
			for _, c := range []struct{ method, target, fixture string }{
				{"HEAD", "/_ping", "ping-head"},
				{"GET", "/_ping", "ping-get"},
				{"GET", "/v1.40/_ping", "ping-get"}, // within every captured engine's range
				{"GET", "/version", "version"},
			} {
				t.Run(c.method+" "+c.target, func(t *testing.T) {
					want := f.answers[c.fixture]
					if dir == "engine-29.7" && strings.HasPrefix(c.fixture, "ping") {
						for _, k := range []string{"Api-Version", "Builder-Version", "Swarm", "Cache-Control", "Pragma", "Server", "Ostype", "Docker-Experimental"} {
							if want.Header.Get(k) == "" {
								t.Fatalf("fixture %s lacks %s", c.fixture, k)
							}
						}
					}
					got := rawDo(t, p.Host, c.method, c.target, nil, nil)
					assertSameAnswer(t, got, want.raw(c.method))
				})
			}
		})
	}
}

// fixtureMissing is the captured engine's answer for a missing container
// ref, with message msg and status.
func fixtureMissing(f *fixtureEngine, status int, msg string) rawResponse {
	a := f.answers["container-inspect-missing"].withBody(errorBody(msg))
	a.Status = status
	return a.raw("GET")
}

func TestFixtureEngineHiddenAnswersLikeMissing(t *testing.T) {
	for _, dir := range fixtureEngines {
		t.Run(dir, func(t *testing.T) {
			f := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, true)
			db, hid := f.container("db-b"), f.container("net-hid")

			// The captured engine's own answer for a nonexistent container.
			nope := rawDo(t, p.Host, "GET", "/containers/nope/json", nil, nil)
			assertSameAnswer(t, nope, f.answers["container-inspect-missing"].raw("GET"))

			for _, ref := range []string{"db-b", db.ID, db.ID[:12], db.ID[:4], "net-hid", hid.ID} {
				t.Run("inspect "+ref, func(t *testing.T) {
					got := rawDo(t, p.Host, "GET", "/containers/"+ref+"/json", nil, nil)
					assertSameAnswer(t, got, fixtureMissing(f, http.StatusNotFound, "No such container: "+ref))
				})
			}
			if got := rawDo(t, p.Host, "GET", "/containers/db-b/json", nil, nil); got.Body != `{"message":"No such container: db-b"}`+"\n" {
				t.Errorf("inspect db-b body = %q", got.Body)
			}

			kill := "cannot kill container: "
			if dir == "engine-20.10" {
				kill = "Cannot kill container: "
			}
			for _, ref := range []string{"db-b", db.ID, "nope"} {
				t.Run("kill "+ref, func(t *testing.T) {
					got := rawDo(t, p.Host, "POST", "/containers/"+ref+"/kill", nil, nil)
					assertSameAnswer(t, got, fixtureMissing(f, http.StatusNotFound, kill+ref+": No such container: "+ref))
				})
			}
			for _, r := range f.requests() {
				if strings.HasPrefix(r, "POST ") {
					t.Errorf("upstream received %q for a hidden or missing container", r)
				}
			}
		})
	}
}

// fixtureSwapPrefix returns id with its first n characters taken from
// other, so the two share an n-character prefix.
func fixtureSwapPrefix(id, other string, n int) string { return other[:n] + id[n:] }

func TestFixtureEngineAmbiguousPrefix(t *testing.T) {
	type prefixCase struct {
		name   string
		prefix string
		status int
		msg    string // error message; "" for a 200
		wantID string // Id of the inspected container for a 200
	}
	for _, dir := range fixtureEngines {
		t.Run(dir, func(t *testing.T) {
			plain := newFixtureEngine(t, dir, nil)
			web, stopped := plain.container("web-a"), plain.container("stopped-c")
			db, hid, vis := plain.container("db-b"), plain.container("net-hid"), plain.container("net-vis")
			// web-a shares 12 characters with stopped-c (both visible),
			// db-b shares 12 with net-hid (both hidden), and net-vis shares
			// 6 with net-hid (visible with hidden).
			webID := fixtureSwapPrefix(web.ID, stopped.ID, 12)
			dbID := fixtureSwapPrefix(db.ID, hid.ID, 12)
			visID := fixtureSwapPrefix(vis.ID, hid.ID, 6)
			f := newFixtureEngine(t, dir, map[string]string{web.ID: webID, db.ID: dbID, vis.ID: visID})
			p := startFixtureProxy(t, f, false)

			both := stopped.ID[:12]
			ambiguousStatus, ambiguous := http.StatusBadRequest, "multiple IDs found with provided prefix: "
			if dir == "engine-20.10" {
				ambiguousStatus, ambiguous = http.StatusInternalServerError, "Multiple IDs found with provided prefix: "
			}
			cases := []prefixCase{
				{"ambiguous among visible", both, ambiguousStatus, ambiguous + both, ""},
				{"ambiguous among visible, short", both[:3], ambiguousStatus, ambiguous + both[:3], ""},
				{"unique among visible once hidden are left out", hid.ID[:6], http.StatusOK, "", visID},
				{"shared only by hidden containers", hid.ID[:8], http.StatusNotFound, "No such container: " + hid.ID[:8], ""},
				{"unique visible", stopped.ID[:13], http.StatusOK, "", stopped.ID},
			}
			if dir == "engine-29.7" {
				// The proxy's answer must be the engine's captured one.
				got := rawDo(t, p.Host, "GET", "/containers/"+both+"/json", nil, nil)
				assertSameAnswer(t, got, f.answers["container-inspect-ambiguous-prefix"].withBody(errorBody(ambiguous+both)).raw("GET"))
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got := rawDo(t, p.Host, "GET", "/containers/"+c.prefix+"/json", nil, nil)
					if c.msg != "" {
						// For "shared only by hidden containers" the index asks
						// the upstream, which finds the prefix ambiguous: 400 on
						// API 1.55, 500 "Multiple IDs..." on 1.41; both must
						// end as the 404 of an engine without those containers.
						assertSameAnswer(t, got, fixtureMissing(f, c.status, c.msg))
						return
					}
					var doc struct{ Id string }
					if err := json.Unmarshal([]byte(got.Body), &doc); got.Status != http.StatusOK || err != nil || doc.Id != c.wantID {
						t.Errorf("inspect %s = %d %.120q, want 200 for %s", c.prefix, got.Status, got.Body, c.wantID)
					}
				})
			}
		})
	}
}
