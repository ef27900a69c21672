package proxy

// Tests against a FAKE engine replaying answers captured from real engines
// (fakeengine.Fixture; engine-29.7: API 1.55, engine-20.10: API 1.41), so
// the proxy meets API 1.55 shapes and headers that the local test engine
// (20.10) cannot produce. See internal/fakeengine/testdata/*/README.txt for
// the containers at capture time: with CONTAINER_LABELS=homepage, web-a,
// stopped-c and net-vis are visible; db-b and net-hid are hidden.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// fixtureEngines are the captured engines, newest first.
var fixtureEngines = []string{"engine-29.7", "engine-20.10"}

// newFixtureEngine serves the captures of engine, with container IDs
// rewritten by ids (each to another ID of the same length) to craft shared
// prefixes.
func newFixtureEngine(t *testing.T, engine string, ids map[string]string) (*fakeengine.Engine, *fakeengine.Fixture) {
	t.Helper()
	fx := fakeengine.LoadFixture(t, engine).WithIDs(t, ids)
	return fakeengine.New(t, fakeengine.Options{Fixture: fx}), fx
}

// fixtureRaw is a captured answer as rawDo reports one, to compare with
// assertSameAnswer.
func fixtureRaw(a fakeengine.Answer, method string) rawResponse {
	body := string(a.Body)
	if method == http.MethodHead {
		body = ""
	}
	return rawResponse{Status: a.Status, Header: a.Header, Body: body}
}

// startFixtureProxy runs the proxy with CONTAINER_LABELS=homepage (read
// through config.Load, as in production) in front of the fixture engine,
// and makes sure it has learnt the engine's headers.
func startFixtureProxy(t *testing.T, f *fakeengine.Engine, scrub bool) *testProxy {
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
			f, fx := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, false)
			captured := fx.Answer(t, "containers-list-all")

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

			for _, target := range []string{"/containers/json?all=1", "/v" + f.API + "/containers/json?all=true", "/v1.40/containers/json?all=1&size=0"} {
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
			f, fx := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, true)
			plain := startFixtureProxy(t, f, false)
			web := f.World().Container(t, "web-a")
			visible := fx.Answer(t, "container-inspect-visible")

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
				want := visible.WithBody(wantBody)
				want.Header.Set("Content-Length", strconv.Itoa(len(wantBody)))
				assertSameAnswer(t, got, fixtureRaw(want, "GET"))

				// Without SCRUB_ENVS the captured answer passes byte for byte.
				// The proxy reads every inspect answer (to replace hidden
				// containers' IDs a visible one may name), so it goes out
				// with a Content-Length where the engine streamed it.
				got = rawDo(t, plain.Host, "GET", "/containers/"+ref+"/json", nil, nil)
				want = visible.WithBody(visible.Body)
				want.Header.Set("Content-Length", strconv.Itoa(len(visible.Body)))
				assertSameAnswer(t, got, fixtureRaw(want, "GET"))
			}
			// The upstream was asked by full ID only.
			for _, r := range f.Requests() {
				if strings.Contains(r.Path, "/containers/web-a/") || strings.Contains(r.Path, "/containers/"+web.ID[:12]+"/") {
					t.Errorf("upstream request %s %s names web-a by a ref, not its full ID", r.Method, r.Path)
				}
			}
		})
	}
}

func TestFixtureEnginePingAndVersionPassEveryHeader(t *testing.T) {
	for _, dir := range fixtureEngines {
		t.Run(dir, func(t *testing.T) {
			f, fx := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, true)
			for _, c := range []struct{ method, target, fixture string }{
				{"HEAD", "/_ping", "ping-head"},
				{"GET", "/_ping", "ping-get"},
				{"GET", "/v1.40/_ping", "ping-get"}, // within every captured engine's range
				{"GET", "/version", "version"},
			} {
				t.Run(c.method+" "+c.target, func(t *testing.T) {
					want := fx.Answer(t, c.fixture)
					if dir == "engine-29.7" && strings.HasPrefix(c.fixture, "ping") {
						for _, k := range []string{"Api-Version", "Builder-Version", "Swarm", "Cache-Control", "Pragma", "Server", "Ostype", "Docker-Experimental"} {
							if want.Header.Get(k) == "" {
								t.Fatalf("fixture %s lacks %s", c.fixture, k)
							}
						}
					}
					got := rawDo(t, p.Host, c.method, c.target, nil, nil)
					assertSameAnswer(t, got, fixtureRaw(want, c.method))
				})
			}
		})
	}
}

// fixtureMissing is the captured engine's answer for a missing container
// ref, with message msg and status.
func fixtureMissing(t *testing.T, fx *fakeengine.Fixture, status int, msg string) rawResponse {
	t.Helper()
	a := fx.Answer(t, "container-inspect-missing").WithBody(errorBody(msg))
	a.Status = status
	return fixtureRaw(a, "GET")
}

func TestFixtureEngineHiddenAnswersLikeMissing(t *testing.T) {
	for _, dir := range fixtureEngines {
		t.Run(dir, func(t *testing.T) {
			f, fx := newFixtureEngine(t, dir, nil)
			p := startFixtureProxy(t, f, true)
			db, hid := f.World().Container(t, "db-b"), f.World().Container(t, "net-hid")

			// The captured engine's own answer for a nonexistent container.
			nope := rawDo(t, p.Host, "GET", "/containers/nope/json", nil, nil)
			assertSameAnswer(t, nope, fixtureRaw(fx.Answer(t, "container-inspect-missing"), "GET"))

			for _, ref := range []string{"db-b", db.ID, db.ID[:12], db.ID[:4], "net-hid", hid.ID} {
				t.Run("inspect "+ref, func(t *testing.T) {
					got := rawDo(t, p.Host, "GET", "/containers/"+ref+"/json", nil, nil)
					assertSameAnswer(t, got, fixtureMissing(t, fx, http.StatusNotFound, "No such container: "+ref))
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
					assertSameAnswer(t, got, fixtureMissing(t, fx, http.StatusNotFound, kill+ref+": No such container: "+ref))
				})
			}
			for _, r := range f.Requests() {
				if r.Method == http.MethodPost {
					t.Errorf("upstream received %s %s for a hidden or missing container", r.Method, r.Path)
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
			captured := fakeengine.LoadFixture(t, dir).World(t)
			web, stopped := captured.Container(t, "web-a"), captured.Container(t, "stopped-c")
			db, hid, vis := captured.Container(t, "db-b"), captured.Container(t, "net-hid"), captured.Container(t, "net-vis")
			// web-a shares 12 characters with stopped-c (both visible),
			// db-b shares 12 with net-hid (both hidden), and net-vis shares
			// 6 with net-hid (visible with hidden).
			webID := fixtureSwapPrefix(web.ID, stopped.ID, 12)
			dbID := fixtureSwapPrefix(db.ID, hid.ID, 12)
			visID := fixtureSwapPrefix(vis.ID, hid.ID, 6)
			f, fx := newFixtureEngine(t, dir, map[string]string{web.ID: webID, db.ID: dbID, vis.ID: visID})
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
				assertSameAnswer(t, got, fixtureRaw(fx.Answer(t, "container-inspect-ambiguous-prefix").WithBody(errorBody(ambiguous+both)), "GET"))
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got := rawDo(t, p.Host, "GET", "/containers/"+c.prefix+"/json", nil, nil)
					if c.msg != "" {
						// For "shared only by hidden containers" the index asks
						// the upstream, which finds the prefix ambiguous: 400 on
						// API 1.55, 500 "Multiple IDs..." on 1.41; both must
						// end as the 404 of an engine without those containers.
						assertSameAnswer(t, got, fixtureMissing(t, fx, c.status, c.msg))
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
