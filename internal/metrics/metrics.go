// Package metrics exposes what the proxy does in the Prometheus exposition
// format, the one users' Prometheus (and every compatible agent) scrapes.
//
// It exists so an operator can see, without reading audit logs, how much a
// client asks, how much is denied or filtered, how fast the proxy hop is,
// whether the live index follows the engine, and whether the upstream fails.
//
// Each *Metrics owns a private prometheus.Registry (never the global default
// one), so tests and several instances in one process never share counters.
// The hot-path methods (ObserveRequest, StreamOpened) allocate nothing once a
// label combination has been seen: label children are resolved once and kept
// in lock-free caches indexed by the route table.
//
// A nil *Metrics is a valid receiver whose methods do nothing: main passes
// nil when METRICS_LISTEN is unset, and tests pass nil, with no branches at
// the call sites.
//
// Every label has a bounded set of values, fixed in this package, so a
// misbehaving client or upstream cannot grow the number of series: see the
// README draft (docs-draft-observe.md) for the list of metrics.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dpf-dev/docker-proxy-filter/internal/version"
)

// namespace prefixes every metric of this package.
const namespace = "docker_proxy_filter"

// Metrics is the set of the proxy's metrics. Methods are safe for concurrent
// use; a nil *Metrics ignores every call.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests        *prometheus.CounterVec
	durations       *prometheus.HistogramVec
	streamDurations *prometheus.HistogramVec
	openStreams     *prometheus.GaugeVec
	routes          routeTable
	// Lazily filled caches of label children, indexed by routeTable indexes
	// (see requests.go): a series appears in the scrape once it is used.
	requestCache  []cell[prometheus.Counter]
	durationCache []cell[prometheus.Observer]
	streamCache   []cell[prometheus.Gauge]

	containers      [2]prometheus.Gauge // visible, hidden
	indexState      *stateCollector
	resyncs         map[string]prometheus.Counter
	upstreamErrors  map[string]prometheus.Counter
	eventsDelivered prometheus.Counter
	eventsDropped   prometheus.Counter
}

// New returns the metrics, registered on a registry of their own together
// with the Go runtime and process collectors (go_*, process_*) and a
// docker_proxy_filter_build_info series for this binary.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg, routes: newRouteTable()}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.registerRequests()
	m.registerIndex()
	m.registerUpstream()

	build := version.Get()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "Always 1; its labels name the running build.",
		ConstLabels: prometheus.Labels{"version": build.Version, "commit": build.ShortCommit(), "goversion": build.GoVersion},
	})
	info.Set(1)
	reg.MustRegister(info)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// One failing collector (say, /proc unreadable) must not blank the
		// whole scrape.
		ErrorHandling: promhttp.ContinueOnError,
		// Bounds a scrape the same way Prometheus does on its side.
		MaxRequestsInFlight: 4,
	}))
	m.handler = mux
	return m
}

// Handler serves GET /metrics (and 404 elsewhere), for the metrics listener
// (METRICS_LISTEN): it is never mounted on the proxy's own port, since the
// proxy's clients must see an engine and nothing else. A nil *Metrics serves
// 404 everywhere.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// CheckListen validates METRICS_LISTEN (host:port) against the proxy's own
// TCP listen address (LISTEN, e.g. ":2375"; "" or a unix socket path when the
// proxy does not listen on TCP). The metrics must never share the proxy's
// port: the proxy's clients must see an engine and nothing else, and the
// scrape must not be reachable by them as an extra API. An empty raw value
// means metrics are off and is valid.
func CheckListen(raw, proxyTCPAddr string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(raw)
	if err != nil || strings.Contains(host, "/") {
		return fmt.Errorf("METRICS_LISTEN=%q: want host:port, e.g. 127.0.0.1:9102 or :9102", raw)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("METRICS_LISTEN=%q: want a port number between 1 and 65535", raw)
	}
	if _, proxyPort, err := net.SplitHostPort(proxyTCPAddr); err == nil && proxyPort == port {
		return fmt.Errorf("METRICS_LISTEN=%q: port %s is the proxy's own port (LISTEN=%q); metrics need a port of their own", raw, port, proxyTCPAddr)
	}
	return nil
}

// errNilMetrics is returned by Server for a nil *Metrics.
var errNilMetrics = errors.New("metrics are off")

// Server returns the HTTP server for METRICS_LISTEN, with the timeouts a
// listener reachable from a network needs. Run it with ListenAndServe and
// stop it with Shutdown alongside the proxy's own server.
func (m *Metrics) Server(addr string) (*http.Server, error) {
	if m == nil {
		return nil, errNilMetrics
	}
	return &http.Server{
		Addr:              addr,
		Handler:           m.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}, nil
}
