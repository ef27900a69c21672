package proxy

import (
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// scenario is a small world on the shared test engine: containers visible
// through the proxy (label <key>.app) and hidden ones, each hidden one with
// a secret that must never cross the proxy. Containers of other tests on the
// same engine carry no <key> label and are hidden too.
type scenario struct {
	e       *enginetest.Engine
	key     string
	visible enginetest.Container // running, labelled <key>.app=web
	stopped enginetest.Container // created only, labelled <key>.app=tools
	hidden  enginetest.Container // running, labelled <key>.priv=yes
	secret  string               // the hidden container's env secret
	proxy   *testProxy
	seen    *upstreamLog
}

// newScenario starts the containers and a proxy filtering on <key>.app.
func newScenario(t *testing.T, scrub bool) *scenario {
	t.Helper()
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	s := &scenario{e: e, key: key, secret: "hidden-secret-" + key}
	s.visible = e.Run(t, enginetest.RunSpec{Name: key + "-web", Labels: map[string]string{key + ".app": "web"}, Env: []string{"VISIBLE_SECRET=visible-" + key}})
	s.stopped = e.Run(t, enginetest.RunSpec{Name: key + "-tools", Labels: map[string]string{key + ".app": "tools"}, Env: []string{"TOOLS_SECRET=tools-" + key}, NoStart: true})
	s.hidden = e.Run(t, enginetest.RunSpec{Name: key + "-db", Labels: map[string]string{key + ".priv": "yes"}, Env: []string{"DB_PASSWORD=" + s.secret}})
	s.seen = &upstreamLog{}
	s.proxy = startProxyWith(t, e.Host, proxyConfig{
		filters:   match.Criteria{Labels: []match.Label{{Key: key + ".app"}}},
		scrubEnvs: scrub,
	}, s.seen)
	return s
}

// upstreamLog records every request the proxy's handler sends upstream, so a
// test can prove that a denied request never reached the engine.
type upstreamLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *upstreamLog) add(r *http.Request) {
	l.mu.Lock()
	l.paths = append(l.paths, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" body="+strconv.FormatInt(r.ContentLength, 10))
	l.mu.Unlock()
}

// mentioning returns the recorded requests that contain any of the needles.
func (l *upstreamLog) mentioning(needles ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, p := range l.paths {
		for _, n := range needles {
			if n != "" && strings.Contains(p, n) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// startProxyWith is startProxy behind a recording hop: every upstream
// request (the index's included) is logged before it reaches the engine, so
// a test can prove what never reached the engine.
func startProxyWith(t *testing.T, upstreamHost string, pc proxyConfig, log *upstreamLog) *testProxy {
	t.Helper()
	return startProxy(t, upstreamHop(t, upstreamHost, hopOptions{log: log}), pc)
}

// hopOptions shape an upstreamHop.
type hopOptions struct {
	log          *upstreamLog // records every request when set
	refuseEvents bool         // answers /events with 403, as a socket proxy may
	// before, when set, runs before each request is forwarded (to change
	// the engine between the proxy's decision and the engine's answer).
	before func(r *http.Request)
}

// upstreamHop serves a plain reverse proxy on loopback in front of the
// engine at upstreamHost and returns its DOCKER_HOST-style address.
func upstreamHop(t *testing.T, upstreamHost string, o hopOptions) string {
	t.Helper()
	ep, err := config.ParseUpstream(upstreamHost)
	if err != nil {
		t.Fatal(err)
	}
	host := upstream.URLHost(ep)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", host
			pr.Out.Host = ""
			// ReverseProxy drops query pairs it cannot parse before Rewrite;
			// a hop standing in for a socket proxy passes them as sent.
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
		},
		Transport:     upstream.NewTransport(ep),
		FlushInterval: -1,
		ErrorLog:      stdlog.New(io.Discard, "", 0),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.log != nil {
			o.log.add(r)
		}
		if o.before != nil {
			o.before(r)
		}
		if o.refuseEvents && strings.HasSuffix(r.URL.Path, "/events") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"socket proxy: /events is forbidden"}`+"\n")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return "tcp://" + srv.Listener.Addr().String()
}

// inspectState is what must not change on a hidden container.
type inspectState struct {
	Name            string
	Running, Paused bool
	StartedAt       string
	RestartCount    int
}

func (s *scenario) hiddenState(t *testing.T) inspectState {
	t.Helper()
	in := s.e.Inspect(t, s.hidden.ID)
	return inspectState{Name: in.Name, Running: in.State.Running, Paused: in.State.Paused, StartedAt: in.State.StartedAt, RestartCount: in.RestartCount}
}
