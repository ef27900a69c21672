package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Route label values besides the operation names of route.Table. Any other
// name given to ObserveRequest or StreamOpened is counted as RouteUnknown, so
// the label can never grow beyond the table.
const (
	// RouteUnknown: no route of the engine matches the method and path.
	RouteUnknown = "Unknown"
	// RouteInvalid: the path was refused before routing (unclean path).
	RouteInvalid = "Invalid"
)

// Decision label values: the audit line's decisions. Anything else is counted
// as "other" (a bug worth seeing, and a bounded label).
const (
	DecisionAllow  = "allow"
	DecisionDeny   = "deny"
	DecisionFilter = "filter"
)

const (
	numDecisions = 4 // allow, deny, filter, other
	// Status is reported by class (1xx..5xx, other): exact codes pass
	// through from the upstream and are not bounded by the proxy, while the
	// class with the decision already says who answered and how; the exact
	// code of each request is in its audit line.
	numClasses = 6
)

// Histogram buckets, in seconds. A request the proxy decides alone takes
// tens of microseconds and a forwarded one a millisecond or so; stops and
// restarts wait for the container (10 s by default).
func requestBuckets() []float64 {
	return []float64{
		0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
		0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
	}
}

// Long-running routes (events, logs -f, attach, exports, pulls) last as long
// as the client wants, from a second to days: they get their own buckets so
// they neither drown the hop latency nor vanish past its last bucket.
func streamBuckets() []float64 {
	return []float64{0.1, 1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}
}

// longRunning reports whether a route's duration is set by the client or the
// size of the data rather than by the proxy hop. Its requests are timed in
// stream_duration_seconds, whether or not this one streamed (logs without
// follow): the route decides, so a series never changes histogram.
func longRunning(name string) bool {
	switch name {
	case "SystemEvents", "ContainerLogs", "ContainerStats", "ContainerAttach", "ContainerAttachWebsocket",
		"ContainerWait", "ExecStart", "ServiceLogs", "TaskLogs",
		"ContainerExport", "ContainerArchive", "PutContainerArchive",
		"ImageGet", "ImageGetAll", "ImageLoad", "ImageCreate", "ImagePush", "ImageBuild",
		"PluginPull", "PluginPush", "PluginUpgrade", "Session", "GRPC":
		return true
	}
	return false
}

// routeTable maps route label values to dense indexes for the caches. It is
// built once in New and read-only afterwards.
type routeTable struct {
	index map[string]int
	names []string
	long  []bool
}

func newRouteTable() routeTable {
	t := routeTable{index: make(map[string]int, len(route.Table)+2)}
	add := func(name string) {
		if _, dup := t.index[name]; dup {
			return // several templates share a name (DebugPprof, NetworkList)
		}
		t.index[name] = len(t.names)
		t.names = append(t.names, name)
		t.long = append(t.long, longRunning(name))
	}
	add(RouteUnknown) // index 0: the fallback
	add(RouteInvalid)
	for _, spec := range route.Table {
		add(spec.Name)
	}
	return t
}

func (t *routeTable) lookup(name string) int {
	return t.index[name] // 0, RouteUnknown, when absent
}

func decisionIndex(d string) int {
	switch d {
	case DecisionAllow:
		return 0
	case DecisionDeny:
		return 1
	case DecisionFilter:
		return 2
	}
	return 3
}

func decisionLabel(i int) string {
	switch i {
	case 0:
		return DecisionAllow
	case 1:
		return DecisionDeny
	case 2:
		return DecisionFilter
	}
	return "other"
}

func statusClass(code int) int {
	if code < 100 || code > 599 {
		return 5
	}
	return code/100 - 1
}

func classLabel(i int) string {
	switch i {
	case 0:
		return "1xx"
	case 1:
		return "2xx"
	case 2:
		return "3xx"
	case 3:
		return "4xx"
	case 4:
		return "5xx"
	}
	return "other"
}

// cell caches one label child. Two goroutines may both resolve it the first
// time; the vector hands both the same child, so either store is right.
type cell[T any] struct{ p atomic.Pointer[T] }

func (m *Metrics) registerRequests() {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "requests_total",
		Help: "Client requests by route (Engine API operation), decision (allow, deny, filter) and status class.",
	}, []string{"route", "decision", "status"})
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "request_duration_seconds",
		Help:    "Time from receiving a request to the end of its answer, for routes that do not stream.",
		Buckets: requestBuckets(),
	}, []string{"route"})
	m.streamDurations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "stream_duration_seconds",
		Help:    "Time from receiving a request to the end of its answer, for long-running routes (events, logs, stats, attach, exec start, exports, pulls, builds).",
		Buckets: streamBuckets(),
	}, []string{"route"})
	m.openStreams = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "open_streams",
		Help: "Streams (events, logs -f, stats, attach and exec sessions) open now, by route.",
	}, []string{"route"})
	m.reg.MustRegister(m.requests, m.durations, m.streamDurations, m.openStreams)

	n := len(m.routes.names)
	m.requestCache = make([]cell[prometheus.Counter], n*numDecisions*numClasses)
	m.durationCache = make([]cell[prometheus.Observer], n)
	m.streamCache = make([]cell[prometheus.Gauge], n)
}

// ObserveRequest counts one finished request and records its duration. Call
// it once per request, where the audit line is written: route is the audit
// line's route (route.Route.Name(), RouteInvalid or RouteUnknown), decision
// its decision, status the status sent to the client (101 for an upgrade).
func (m *Metrics) ObserveRequest(route, decision string, status int, d time.Duration) {
	if m == nil {
		return
	}
	r := m.routes.lookup(route)
	m.requestCounter(r, decisionIndex(decision), statusClass(status)).Inc()
	m.durationObserver(r).Observe(d.Seconds())
}

func (m *Metrics) requestCounter(r, d, s int) prometheus.Counter {
	c := &m.requestCache[(r*numDecisions+d)*numClasses+s]
	if p := c.p.Load(); p != nil {
		return *p
	}
	v := m.requests.WithLabelValues(m.routes.names[r], decisionLabel(d), classLabel(s))
	c.p.Store(&v)
	return v
}

func (m *Metrics) durationObserver(r int) prometheus.Observer {
	c := &m.durationCache[r]
	if p := c.p.Load(); p != nil {
		return *p
	}
	vec := m.durations
	if m.routes.long[r] {
		vec = m.streamDurations
	}
	v := vec.WithLabelValues(m.routes.names[r])
	c.p.Store(&v)
	return v
}

// Stream is one open stream, counted in open_streams until Close.
type Stream struct{ g prometheus.Gauge }

// StreamOpened counts a stream as open: events, a followed log, a stats
// stream, an attach or exec session (after the 101). Call Close exactly once
// when it ends, typically with defer:
//
//	defer m.StreamOpened(a.op).Close()
func (m *Metrics) StreamOpened(route string) Stream {
	if m == nil {
		return Stream{}
	}
	r := m.routes.lookup(route)
	c := &m.streamCache[r]
	p := c.p.Load()
	if p == nil {
		v := m.openStreams.WithLabelValues(m.routes.names[r])
		c.p.Store(&v)
		p = &v
	}
	(*p).Inc()
	return Stream{g: *p}
}

// Close counts the stream as ended. The zero Stream (from a nil *Metrics)
// does nothing.
func (s Stream) Close() {
	if s.g != nil {
		s.g.Dec()
	}
}
