package proxy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// stubServices answers GET /services like a swarm manager with one visible
// and one hidden service; it stands in for a swarm with overlay networks,
// which this machine's engine (no bridge, no iptables) cannot run.
type stubServices struct{}

func (stubServices) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `[{"Spec":{"Name":"web-svc","Labels":{"homepage.x":"1"}}},{"Spec":{"Name":"secret-svc","Labels":{"private":"1"}}}]`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestVerboseNetworkInspectHidesHiddenServices(t *testing.T) {
	f := match.Filters{Labels: []match.Label{{Key: "homepage"}}}
	p := New(Options{Filters: &f, Transport: stubServices{}})
	body := []byte(`{"Name":"ov","Containers":{},"Services":{"secret-svc":{"VIP":"10.0.0.2","Tasks":[{"Name":"secret-svc.1.abc"}]},"web-svc":{"VIP":"10.0.0.3","Tasks":[]}},"Scope":"swarm"}` + "\n")
	got, err := p.filterNetworkServices(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Name":"ov","Containers":{},"Services":{"web-svc":{"VIP":"10.0.0.3","Tasks":[]}},"Scope":"swarm"}` + "\n"
	if string(got) != want {
		t.Errorf("filtered network = %s\nwant %s", got, want)
	}
	// No Services member, or an empty one: unchanged bytes.
	for _, b := range []string{`{"Name":"n","Containers":{}}`, `{"Name":"n","Services":{}}`, `{"Name":"n","Services":null}`} {
		if got, err := p.filterNetworkServices(context.Background(), []byte(b)); err != nil || string(got) != b {
			t.Errorf("filterNetworkServices(%s) = %s, %v; want it unchanged", b, got, err)
		}
	}
}
