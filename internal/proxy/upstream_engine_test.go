package proxy

// What reaches the engine of a list request, and the index behind a socket
// proxy that refuses /events, on the real engine: both once ran on a fake
// engine, which could only repeat its author's idea of the engine (it
// refused a bad limit with 400; Engine 20.10 answers 500).

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// TestEngineListLimitLeftToTheProxy: limit is taken out of the upstream
// query and applied to visible containers; anything the engine would refuse
// reaches it unchanged so that it refuses it.
func TestEngineListLimitLeftToTheProxy(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	// Created oldest first, so the engine lists db, web, db2, tools, web2:
	// hidden containers before, between and after visible ones.
	var visibleNames []string
	for _, c := range []struct{ name, label string }{
		{"web2", ".app"}, {"tools", ".app"}, {"db2", ".priv"}, {"web", ".app"}, {"db", ".priv"},
	} {
		ct := e.Run(t, enginetest.RunSpec{Name: key + "-" + c.name, Labels: map[string]string{key + c.label: c.name}})
		if c.label == ".app" {
			visibleNames = append([]string{"/" + ct.Name}, visibleNames...)
		}
	}
	pc := proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key + ".app"}}}}
	p := startProxy(t, e.Host, pc)
	// A second proxy, behind a hop that records what it sends upstream. The
	// hop (an httputil.ReverseProxy) drops query parameters it cannot parse,
	// so the answers are read from the first, whose engine gets every byte.
	seen := &upstreamLog{}
	recorded := startProxyWith(t, e.Host, pc, seen)
	listQueries := func() []string {
		var out []string
		for _, r := range seen.mentioning("GET /containers/json?") {
			q, _, _ := strings.Cut(strings.TrimPrefix(r, "GET /containers/json?"), " body=")
			out = append(out, q)
		}
		return out
	}

	cases := []struct {
		query     string
		wantQuery string // as the upstream received it
		refused   bool   // by the engine, whose answer the client gets unchanged
		wantNames int    // number of visible names, in order
	}{
		{"all=1&limit=1", "all=1", false, 1},
		{"limit=2&all=1", "all=1", false, 2},
		{"limit=3", "", false, 3},
		{"limit=10", "", false, 3},
		{"limit=0", "", false, 3},
		{"limit=-1", "", false, 3},
		{"all=1&limit=", "all=1", false, 3},
		{"limit=%2B1", "", false, 1},
		{"lim%69t=1&all=1", "all=1", false, 1},
		{"all=1&limit=2&limit=1", "all=1", false, 2},
		{"limit=1&limit=abc", "", false, 1},
		{"filters=%7B%22status%22%3A%5B%22running%22%5D%7D&limit=1&size=1", "filters=%7B%22status%22%3A%5B%22running%22%5D%7D&size=1", false, 1},
		{"limit=abc", "limit=abc", true, 0},
		{"all=1&limit=abc&limit=1", "all=1&limit=abc&limit=1", true, 0},
		{"limit=1.5", "limit=1.5", true, 0},
		{"limit=99999999999999999999", "limit=99999999999999999999", true, 0},
		{"limit=%zz", "limit=%zz", true, 0},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			before := len(listQueries())
			fakeDo(t, recorded, "GET", "/containers/json?"+c.query, "")
			queries := listQueries()
			if len(queries) != before+1 {
				t.Fatalf("upstream received %d list requests, want 1", len(queries)-before)
			}
			if q := queries[before]; q != c.wantQuery {
				t.Errorf("upstream query = %q, want %q", q, c.wantQuery)
			}
			got := fakeDo(t, p, "GET", "/containers/json?"+c.query, "")
			if c.refused {
				direct := rawDo(t, e.Host, "GET", "/containers/json?"+c.query, nil, nil)
				if direct.Status < 400 {
					t.Fatalf("the engine answers %s with %d (test premise: it refuses it)", c.query, direct.Status)
				}
				if got.Status != direct.Status || string(got.Body) != direct.Body {
					t.Errorf("refusal = %d %q, want the engine's %d %q unchanged", got.Status, got.Body, direct.Status, direct.Body)
				}
				return
			}
			if got.Status != 200 {
				t.Fatalf("answer = %d %q, want 200", got.Status, got.Body)
			}
			var list []struct{ Names []string }
			if err := json.Unmarshal(got.Body, &list); err != nil {
				t.Fatalf("answer %q: %v", got.Body, err)
			}
			var names []string
			for _, c := range list {
				names = append(names, c.Names...)
			}
			if want := visibleNames[:c.wantNames]; !slices.Equal(names, want) {
				t.Errorf("names = %q, want %q", names, want)
			}
		})
	}
}

// TestEnginePollingIndexHidesAndFilters: behind a socket proxy that refuses
// /events, the index polls, and the proxy still hides and filters.
func TestEnginePollingIndexHidesAndFilters(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	// Created oldest first, so the engine lists db, web, tools.
	tools := e.Run(t, enginetest.RunSpec{Name: key + "-tools", Labels: map[string]string{key + ".app": "tools"}})
	web := e.Run(t, enginetest.RunSpec{Name: key + "-web", Labels: map[string]string{key + ".app": "web"}})
	db := e.Run(t, enginetest.RunSpec{Name: key + "-db", Labels: map[string]string{key + ".priv": "yes"}})
	hop := upstreamHop(t, e.Host, hopOptions{refuseEvents: true})
	p := startProxy(t, hop, proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key + ".app"}}}, waitPolling: true})

	got := fakeDo(t, p, "GET", "/containers/json?all=1", "")
	var list []struct{ Names []string }
	if err := json.Unmarshal(got.Body, &list); err != nil || got.Status != 200 {
		t.Fatalf("list = %d %q (%v), want 200", got.Status, got.Body, err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Names...)
	}
	if want := []string{"/" + web.Name, "/" + tools.Name}; !slices.Equal(names, want) {
		t.Errorf("listed names = %q, want %q", names, want)
	}
	for _, c := range []struct {
		ref  string
		want int
	}{
		{web.Name, 200}, {web.ID[:12], 200}, {db.Name, 404}, {db.ID, 404}, {db.ID[:12], 404}, {key + "-nope", 404},
	} {
		got := fakeDo(t, p, "GET", "/containers/"+c.ref+"/json", "")
		if got.Status != c.want {
			t.Errorf("inspect %s = %d %q, want %d", c.ref, got.Status, got.Body, c.want)
		}
		if c.want == 404 && string(got.Body) != string(errorBody(noSuchContainer(c.ref))) {
			t.Errorf("inspect %s body = %q, want the engine's No such container", c.ref, got.Body)
		}
	}
}
