package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

type obs struct {
	route, decision string
	status          int
	d               time.Duration
}

func TestObserveRequest(t *testing.T) {
	tests := []struct {
		name string
		obs  []obs
		// want: requests_total values by (route, decision, status).
		want map[[3]string]float64
		// hop and stream: histogram sample counts by route.
		hop, stream map[string]uint64
	}{
		{
			name: "one allowed inspect",
			obs:  []obs{{"ContainerInspect", "allow", 200, 300 * time.Microsecond}},
			want: map[[3]string]float64{{"ContainerInspect", "allow", "2xx"}: 1},
			hop:  map[string]uint64{"ContainerInspect": 1},
		},
		{
			name: "hidden container denied twice, found once",
			obs: []obs{
				{"ContainerInspect", "deny", 404, 20 * time.Microsecond},
				{"ContainerInspect", "deny", 404, 30 * time.Microsecond},
				{"ContainerInspect", "allow", 200, time.Millisecond},
			},
			want: map[[3]string]float64{{"ContainerInspect", "deny", "4xx"}: 2, {"ContainerInspect", "allow", "2xx"}: 1},
			hop:  map[string]uint64{"ContainerInspect": 3},
		},
		{
			name: "status classes",
			obs: []obs{
				{"ContainerAttach", "allow", 101, time.Second},
				{"ContainerList", "filter", 200, time.Millisecond},
				{"ContainerList", "filter", 304, time.Millisecond},
				{"ContainerList", "filter", 502, time.Millisecond},
				{"ContainerList", "filter", 0, time.Millisecond},
				{"ContainerList", "filter", 600, time.Millisecond},
			},
			want: map[[3]string]float64{
				{"ContainerAttach", "allow", "1xx"}:  1,
				{"ContainerList", "filter", "2xx"}:   1,
				{"ContainerList", "filter", "3xx"}:   1,
				{"ContainerList", "filter", "5xx"}:   1,
				{"ContainerList", "filter", "other"}: 2,
			},
			hop:    map[string]uint64{"ContainerList": 5},
			stream: map[string]uint64{"ContainerAttach": 1},
		},
		{
			name: "long-running routes are timed apart",
			obs: []obs{
				{"SystemEvents", "filter", 200, time.Hour},
				{"ContainerLogs", "allow", 200, 2 * time.Millisecond},
			},
			want:   map[[3]string]float64{{"SystemEvents", "filter", "2xx"}: 1, {"ContainerLogs", "allow", "2xx"}: 1},
			stream: map[string]uint64{"SystemEvents": 1, "ContainerLogs": 1},
		},
		{
			name: "names outside the table are Unknown, decisions outside the set other",
			obs: []obs{
				{"NoSuchRoute", "allow", 404, time.Millisecond},
				{"", "allow", 404, time.Millisecond},
				{"Unknown", "deny", 403, time.Millisecond},
				{"Invalid", "deny", 400, time.Millisecond},
				{"ContainerTop", "maybe", 200, time.Millisecond},
			},
			want: map[[3]string]float64{
				{"Unknown", "allow", "4xx"}:      2,
				{"Unknown", "deny", "4xx"}:       1,
				{"Invalid", "deny", "4xx"}:       1,
				{"ContainerTop", "other", "2xx"}: 1,
			},
			hop: map[string]uint64{"Unknown": 3, "Invalid": 1, "ContainerTop": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			for _, o := range tt.obs {
				m.ObserveRequest(o.route, o.decision, o.status, o.d)
			}
			s := scrape(t, m)
			for k, want := range tt.want {
				got := s.value(t, "docker_proxy_filter_requests_total", map[string]string{"route": k[0], "decision": k[1], "status": k[2]})
				if got != want {
					t.Errorf("requests_total%v = %v, want %v", k, got, want)
				}
			}
			if got, want := s.series("docker_proxy_filter_requests_total"), len(tt.want); got != want {
				t.Errorf("requests_total has %d series, want %d: %v", got, want, s.labelSets("docker_proxy_filter_requests_total"))
			}
			for _, h := range []struct {
				name string
				want map[string]uint64
			}{{"docker_proxy_filter_request_duration_seconds", tt.hop}, {"docker_proxy_filter_stream_duration_seconds", tt.stream}} {
				for r, want := range h.want {
					if got := s.histogramCount(t, h.name, map[string]string{"route": r}); got != want {
						t.Errorf("%s{route=%q} count = %d, want %d", h.name, r, got, want)
					}
				}
				if got, want := s.series(h.name), len(h.want); got != want {
					t.Errorf("%s has %d series, want %d: %v", h.name, got, want, s.labelSets(h.name))
				}
			}
		})
	}
}

func TestRequestDurationBuckets(t *testing.T) {
	m := New()
	m.ObserveRequest("SystemPing", "allow", 200, 80*time.Microsecond)
	m.ObserveRequest("SystemPing", "allow", 200, 700*time.Microsecond)
	s := scrape(t, m)
	h, ok := s.find(t, "docker_proxy_filter_request_duration_seconds", map[string]string{"route": "SystemPing"})
	if !ok {
		t.Fatal("no request_duration_seconds{route=SystemPing}")
	}
	want := map[float64]uint64{0.0001: 1, 0.0005: 1, 0.001: 2, 60: 2}
	for _, b := range h.GetHistogram().GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("bucket le=%v: got %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if got, want := h.GetHistogram().GetSampleSum(), 0.00078; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("sum = %v, want %v", got, want)
	}
}

func TestStreams(t *testing.T) {
	m := New()
	a := m.StreamOpened("SystemEvents")
	b := m.StreamOpened("SystemEvents")
	c := m.StreamOpened("ContainerLogs")
	s := scrape(t, m)
	for r, want := range map[string]float64{"SystemEvents": 2, "ContainerLogs": 1} {
		if got := s.value(t, "docker_proxy_filter_open_streams", map[string]string{"route": r}); got != want {
			t.Errorf("open_streams{route=%q} = %v, want %v", r, got, want)
		}
	}
	a.Close()
	c.Close()
	s = scrape(t, m)
	for r, want := range map[string]float64{"SystemEvents": 1, "ContainerLogs": 0} {
		if got := s.value(t, "docker_proxy_filter_open_streams", map[string]string{"route": r}); got != want {
			t.Errorf("after Close: open_streams{route=%q} = %v, want %v", r, got, want)
		}
	}
	b.Close()
}

func TestRouteTableCoversTheRoutes(t *testing.T) {
	rt := newRouteTable()
	for _, spec := range route.Table {
		if i := rt.lookup(spec.Name); rt.names[i] != spec.Name {
			t.Errorf("lookup(%q) = %q, want itself", spec.Name, rt.names[i])
		}
	}
	for _, name := range []string{"SystemEvents", "ContainerLogs", "ContainerAttach", "ExecStart", "ImageBuild"} {
		if !rt.long[rt.lookup(name)] {
			t.Errorf("%s is not long-running, want it timed in stream_duration_seconds", name)
		}
		if rt.lookup(name) == 0 {
			t.Errorf("%s is not in route.Table: the long-running list names a route that does not exist", name)
		}
	}
}

// TestCardinalityBounded feeds every route, garbage names, every decision and
// odd statuses, and checks the series stay within the fixed label sets.
func TestCardinalityBounded(t *testing.T) {
	m := New()
	names := append([]string{"Unknown", "Invalid", "garbage/1", "garbage/2", "../../etc"}, m.routes.names...)
	for _, n := range names {
		for _, d := range []string{"allow", "deny", "filter", "x", "y"} {
			for _, code := range []int{101, 200, 204, 301, 404, 418, 500, 599, 600, 999, -1} {
				m.ObserveRequest(n, d, code, time.Millisecond)
			}
		}
		m.StreamOpened(n).Close()
	}
	s := scrape(t, m)
	routes := len(m.routes.names)
	if got, max := s.series("docker_proxy_filter_requests_total"), routes*numDecisions*numClasses; got > max {
		t.Errorf("requests_total has %d series, want at most %d", got, max)
	}
	hop := s.series("docker_proxy_filter_request_duration_seconds")
	stream := s.series("docker_proxy_filter_stream_duration_seconds")
	if hop+stream != routes {
		t.Errorf("duration histograms have %d+%d series, want %d (one per route)", hop, stream, routes)
	}
	if got := s.series("docker_proxy_filter_open_streams"); got != routes {
		t.Errorf("open_streams has %d series, want %d", got, routes)
	}
}

func TestHandler(t *testing.T) {
	m := New()
	s := scrape(t, m)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "docker_proxy_filter_build_info"} {
		if _, ok := s[name]; !ok {
			t.Errorf("scrape has no %s", name)
		}
	}
	if got := s.value(t, "docker_proxy_filter_build_info", nil); got != 1 {
		t.Errorf("build_info = %v, want 1", got)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/metrics", 200},
		{"HEAD", "/metrics", 200},
		{"GET", "/", 404},
		{"GET", "/containers/json", 404},
		{"POST", "/metrics", 405},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

// TestPrivateRegistries: two instances never share a counter (tests run in
// parallel with their own Metrics).
func TestPrivateRegistries(t *testing.T) {
	a, b := New(), New()
	a.ObserveRequest("SystemPing", "allow", 200, time.Millisecond)
	s := scrape(t, b)
	if _, ok := s.find(t, "docker_proxy_filter_requests_total", map[string]string{"route": "SystemPing"}); ok {
		t.Error("a request observed on one instance shows in another's scrape")
	}
}

func TestNilIsNoop(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("ContainerInspect", "allow", 200, time.Millisecond)
	m.StreamOpened("SystemEvents").Close()
	m.SetContainers(1, 2)
	m.SetIndexState(StateLive)
	m.Resync(ResyncStart)
	m.UpstreamError(KindConnect)
	m.EventsDelivered(3)
	m.EventsDropped(4)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler: status %d, want 404", rec.Code)
	}
	if srv, err := m.Server(":0"); srv != nil || err == nil {
		t.Errorf("nil Server() = %v, %v; want nil and an error", srv, err)
	}
}
