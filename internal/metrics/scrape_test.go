package metrics

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scraped is one scrape of a handler, parsed the way Prometheus parses it.
type scraped map[string]*dto.MetricFamily

// scrape fetches /metrics over a real HTTP server and parses the text
// exposition format.
func scrape(t *testing.T, m *Metrics) scraped {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: status %d, want 200: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// find returns the series of family name whose labels include want.
func (s scraped) find(t *testing.T, name string, want map[string]string) (*dto.Metric, bool) {
	t.Helper()
	fam, ok := s[name]
	if !ok {
		return nil, false
	}
	for _, m := range fam.GetMetric() {
		if hasLabels(m, want) {
			return m, true
		}
	}
	return nil, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := make(map[string]string, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		got[lp.GetName()] = lp.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// value is the counter or gauge value of one series; it fails the test when
// the series is absent.
func (s scraped) value(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	m, ok := s.find(t, name, labels)
	if !ok {
		t.Fatalf("no series %s%v in the scrape; series of that name: %v", name, labels, s.labelSets(name))
	}
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	t.Fatalf("series %s%v is neither a counter nor a gauge", name, labels)
	return 0
}

// histogram returns the sample count of a histogram series, and 0 when the
// series is absent.
func (s scraped) histogramCount(t *testing.T, name string, labels map[string]string) uint64 {
	t.Helper()
	m, ok := s.find(t, name, labels)
	if !ok {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

// labelSets lists the label sets of a family, for failure messages.
func (s scraped) labelSets(name string) []string {
	var out []string
	for _, m := range s[name].GetMetric() {
		ls := map[string]string{}
		for _, lp := range m.GetLabel() {
			ls[lp.GetName()] = lp.GetValue()
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(ls)) {
			parts = append(parts, k+"="+ls[k])
		}
		out = append(out, "{"+strings.Join(parts, ",")+"}")
	}
	return out
}

func (s scraped) series(name string) int { return len(s[name].GetMetric()) }
