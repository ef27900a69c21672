package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// leak is one secret found in an answer whose request did not carry it.
type leak struct {
	req    leakRequest
	secret string
	where  string // a short excerpt around it
}

// leakRun is the outcome of sending a request set to one target.
type leakRun struct {
	requests int
	routes   map[*route.Spec]bool
	leaks    []leak
}

// TestLeakDifferential is the proof of the invariant: on a private engine
// holding visible and hidden containers (with networks, execs, a volume, a
// committed image and swarm services around them), every route of the table
// is exercised with valid and adversarial requests through the proxy, and
//
//	(a) no answer (status, headers, body, streams included) carries a hidden
//	    container's ID, name, label or env secret that its request did not;
//	(b) no hidden container, exec, network membership or service changed;
//	(c) answers about visible things equal the engine's own, modulo the
//	    documented filtering.
//
// A negative control sends the same reads through a plain pass-through
// proxy, where the detector must find leaks: the test can fail.
func TestLeakDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("the leak test builds a private engine world; skipped with -short")
	}
	e := enginetest.StartPrivate(t)
	w := newLeakWorld(t, e)
	reqs := w.leakRequests()
	var reads []leakRequest
	for _, r := range reqs {
		if !r.write {
			reads = append(reads, r)
		}
	}

	t.Run("negative control: a plain pass-through proxy leaks", func(t *testing.T) {
		pass := passThrough(t, e.Host)
		run := sendLeakRequests(t, pass, reads, w.secrets)
		t.Logf("pass-through: %d requests, %d leaks", run.requests, len(run.leaks))
		if len(run.leaks) == 0 {
			t.Fatal("the detector found no leak through a pass-through proxy: it cannot tell a leaking proxy from a safe one")
		}
	})

	before := w.snapshot(t)
	p := startProxy(t, e.Host, proxyConfig{
		filters:   match.Criteria{Labels: []match.Label{{Key: w.key + ".app"}}, Names: []string{"/" + w.key + "-named-"}},
		scrubEnvs: true,
	})

	t.Run("visible answers equal the engine's", func(t *testing.T) {
		w.compareVisible(t, p)
	})

	t.Run("renames during an events stream", func(t *testing.T) {
		// A container visible by its name alone is renamed away and back
		// while a client follows events: the hidden name never shows.
		secretName := w.key + "-renamed-away-quokka"
		back := w.key + "-named-y"
		done := make(chan []eventLine)
		go func() {
			done <- followEvents(t, p, "since="+fmt.Sprint(nowUnix()), func(ev eventLine) bool {
				return ev.Action == "rename" && ev.Actor.Attributes["name"] == back
			})
		}()
		time.Sleep(300 * time.Millisecond)
		for _, name := range []string{secretName, back} {
			if _, err := w.e.Client.ContainerRename(context.Background(), w.namedOnly.ID, client.ContainerRenameOptions{NewName: name}); err != nil {
				t.Fatal(err)
			}
		}
		for _, ev := range <-done {
			if strings.Contains(ev.raw, secretName) {
				t.Errorf("the events stream shows the hidden name: %s", ev.raw)
			}
		}
	})

	// Reads and writes, then a look at what reaches hidden containers
	// (before the destroys remove or prune the containers the writes
	// created), then the destroys.
	split := slices.IndexFunc(reqs, func(r leakRequest) bool { return r.destroy })
	if split < 0 {
		split = len(reqs)
	}
	run := sendLeakRequests(t, p.Host, reqs[:split], w.secrets)
	afterWrites := w.snapshot(t)
	for k := range afterWrites {
		if _, ok := before[k]; !ok && strings.HasPrefix(k, referencePrefix) {
			t.Errorf("a request reached a hidden container: %s", k)
		}
	}
	rest := sendLeakRequests(t, p.Host, reqs[split:], w.secrets)
	run.requests += rest.requests
	run.leaks = append(run.leaks, rest.leaks...)
	for spec := range rest.routes {
		run.routes[spec] = true
	}
	for _, l := range run.leaks {
		t.Errorf("LEAK %s %s: answer contains %q: …%s…", l.req.method, l.req.target, l.secret, l.where)
	}
	after := w.snapshot(t)
	for k, v := range before {
		if after[k] != v && !strings.HasPrefix(k, referencePrefix) {
			t.Errorf("hidden state changed: %s\n before: %s\n after:  %s", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && afterWrites[k] == "" && strings.HasPrefix(k, referencePrefix) {
			t.Errorf("a request reached a hidden container: %s", k)
		}
	}
	covered := 0
	for i := range route.Table {
		if run.routes[&route.Table[i]] {
			covered++
		}
	}
	t.Logf("leak test: %d requests over %d of the %d routes of the table, %d leaks found",
		run.requests, covered, len(route.Table), len(run.leaks))
	for i := range route.Table {
		if !run.routes[&route.Table[i]] {
			t.Errorf("route %s %s was not exercised", route.Table[i].Method, route.Table[i].Template)
		}
	}
}

// passThrough serves a plain httputil.ReverseProxy in front of the engine.
func passThrough(t *testing.T, engineHost string) string {
	t.Helper()
	sock := strings.TrimPrefix(engineHost, "unix://")
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "docker"
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}},
		FlushInterval: -1,
		ErrorLog:      nil,
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return "tcp://" + srv.Listener.Addr().String()
}

// sendLeakRequests sends every request and scans every answer.
func sendLeakRequests(t *testing.T, host string, reqs []leakRequest, secrets []string) leakRun {
	t.Helper()
	run := leakRun{routes: map[*route.Spec]bool{}}
	for _, r := range reqs {
		run.requests++
		path := r.target
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		path = strings.TrimPrefix(path, "http://docker")
		if rt, err := route.Parse(r.method, path, path); err == nil && rt.Spec != nil {
			run.routes[rt.Spec] = true
		}
		answer := leakDo(t, host, r)
		asked := r.method + " " + r.target + " " + r.body
		for k, vs := range r.header {
			asked += k + ":" + strings.Join(vs, ",")
		}
		for _, s := range secrets {
			if i := strings.Index(answer, s); i >= 0 && !strings.Contains(asked, s) && !slices.Contains(r.allowed, s) {
				lo, hi := max(0, i-60), min(len(answer), i+len(s)+60)
				run.leaks = append(run.leaks, leak{req: r, secret: s, where: strings.ReplaceAll(answer[lo:hi], "\n", `\n`)})
			}
		}
	}
	return run
}

// leakDo sends one request verbatim and returns everything the client could
// observe: the status line, headers and as much body as arrives in time.
// Streams are read for half a second.
func leakDo(t *testing.T, host string, r leakRequest) string {
	t.Helper()
	network, addr := "tcp", strings.TrimPrefix(host, "tcp://")
	if p, ok := strings.CutPrefix(host, "unix://"); ok {
		network, addr = "unix", p
	}
	conn, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", host, err)
	}
	defer conn.Close()
	deadline := 20 * time.Second
	if r.stream {
		deadline = 500 * time.Millisecond
	}
	_ = conn.SetDeadline(time.Now().Add(deadline))
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n", r.method, r.target)
	keys := make([]string, 0, len(r.header))
	for k := range r.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.header[k] {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n%s", len(r.body), r.body)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return ""
	}
	// Decode the framing (a secret split across chunks must still be
	// found); what cannot be parsed is scanned raw.
	var raw strings.Builder
	br := bufio.NewReader(io.TeeReader(conn, &raw))
	resp, err := http.ReadResponse(br, &http.Request{Method: r.method})
	if err != nil {
		_, _ = io.Copy(io.Discard, br)
		return raw.String()
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%s %s\n", resp.Proto, resp.Status)
	_ = resp.Header.Write(&out)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		_, _ = io.Copy(&out, br) // the hijacked stream
	} else {
		_, _ = io.Copy(&out, resp.Body) // until the end, close or deadline
	}
	return out.String()
}
