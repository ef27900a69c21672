package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// testProxy is the proxy (live index + handler) serving on loopback in front
// of a real or fake upstream.
type testProxy struct {
	Host   string // DOCKER_HOST for clients of the proxy: tcp://127.0.0.1:port
	URL    string // http://127.0.0.1:port
	Client *client.Client
	Index  *index.Index
	HTTP   *http.Client
	// sidecar is the assembly under test, for tests that look inside.
	sidecar *Sidecar
}

type proxyConfig struct {
	filters   match.Criteria
	scrubEnvs bool
	readOnly  bool // the product's default is true; tests opt in
	capacity  int
	// waitPolling waits for the index to poll (an upstream that refuses
	// /events) rather than to be live.
	waitPolling bool
	// pollInterval is POLL_INTERVAL; "" means 200ms.
	pollInterval string
	// bodyTimeout is BODY_TIMEOUT; "" means the default.
	bodyTimeout string
}

// startProxy runs the proxy in front of upstreamHost ("unix:///..." or
// "tcp://...") and waits until its index is live.
func startProxy(t *testing.T, upstreamHost string, pc proxyConfig) *testProxy {
	t.Helper()
	env := filtersEnv(pc.filters)
	env["SCRUB_ENVS"] = strconv.FormatBool(pc.scrubEnvs)
	env["READ_ONLY"] = strconv.FormatBool(pc.readOnly)
	env["POLL_INTERVAL"] = "200ms"
	if pc.pollInterval != "" {
		env["POLL_INTERVAL"] = pc.pollInterval
	}
	if pc.bodyTimeout != "" {
		env["BODY_TIMEOUT"] = pc.bodyTimeout
	}
	if pc.capacity > 0 {
		env["INDEX_CAPACITY"] = strconv.Itoa(pc.capacity)
	}
	return startProxyWait(t, upstreamHost, env, pc.waitPolling)
}

// startProxyEnv runs the proxy configured by env (PROXY_URL aside) in front
// of upstreamHost and waits until its index is live.
func startProxyEnv(t *testing.T, upstreamHost string, env map[string]string) *testProxy {
	t.Helper()
	return startProxyWait(t, upstreamHost, env, false)
}

func startProxyWait(t *testing.T, upstreamHost string, env map[string]string, waitPolling bool) *testProxy {
	t.Helper()
	s := startSidecar(t, upstreamHost, env, testLogger(t))
	h, idx := s.Handler, s.Index
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	want := index.Live
	if waitPolling {
		want = index.Polling
	}
	enginetest.Eventually(t, 10*time.Second, "proxy index "+want.String(), func() bool { return idx.State() == want })
	// Wait until the proxy has asked for the engine's API range, so version
	// checks are in force from the first request.
	for deadline := time.Now().Add(5 * time.Second); !h.headers.learnt.Load() && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	host := "tcp://" + srv.Listener.Addr().String()
	c, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testProxy{Host: host, URL: srv.URL, Client: c, Index: idx, HTTP: srv.Client(), sidecar: s}
}

// startSidecar builds the proxy exactly as main does, from environment
// variables (PROXY_URL=upstreamHost plus env) through config.Load and
// NewSidecar, and runs it until the test ends.
func startSidecar(tb testing.TB, upstreamHost string, env map[string]string, logger *slog.Logger) *Sidecar {
	tb.Helper()
	full := map[string]string{"PROXY_URL": upstreamHost}
	for k, v := range env {
		full[k] = v
	}
	cfg, err := config.Load(func(k string) string { return full[k] })
	if err != nil {
		tb.Fatalf("test configuration: %v", err)
	}
	s, err := NewSidecar(cfg, logger)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	return s
}

// filtersEnv renders filters as the CONTAINER_NAMES and CONTAINER_LABELS a
// user would set.
func filtersEnv(f match.Criteria) map[string]string {
	labels := make([]string, len(f.Labels))
	for i, l := range f.Labels {
		labels[i] = l.String()
	}
	return map[string]string{
		"CONTAINER_NAMES":  strings.Join(f.Names, ","),
		"CONTAINER_LABELS": strings.Join(labels, ","),
	}
}

// rawResponse is an HTTP answer reduced to what a client can observe.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
}

// rawDo sends one request to a DOCKER_HOST-style address exactly as given:
// the request line is written by hand, so dot segments, double slashes and
// escapes reach the server verbatim, and no redirect is followed.
func rawDo(t *testing.T, host, method, target string, body io.Reader, header http.Header) rawResponse {
	t.Helper()
	network, addr := "tcp", strings.TrimPrefix(host, "tcp://")
	if path, ok := strings.CutPrefix(host, "unix://"); ok {
		network, addr = "unix", path
	}
	conn, err := net.DialTimeout(network, addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", host, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var payload []byte
	if body != nil {
		if payload, err = io.ReadAll(body); err != nil {
			t.Fatal(err)
		}
	}
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n", method, target)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
	}
	if body != nil {
		fmt.Fprintf(&req, "Content-Length: %d\r\n", len(payload))
	}
	req.WriteString("\r\n")
	// One write: the server may answer and close before reading a body.
	if _, err := conn.Write(append([]byte(req.String()), payload...)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && len(b) == 0 && resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// comparableHeader is the part of a header a client can compare between two
// answers: everything but Date.
func comparableHeader(h http.Header) http.Header {
	c := h.Clone()
	c.Del("Date")
	return c
}

// testLogger sends the proxy's logs to the test log, so a failure shows the
// audit lines of the requests that led to it. Lines written after the test
// ended (a stream closing late) are dropped rather than panicking.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
