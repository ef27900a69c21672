package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
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

// stubIndex knows a fixed set of containers; it stands in for the live
// index where a test drives the handler with a stub upstream.
type stubIndex map[string]bool // full ID -> visible

func (s stubIndex) Resolve(_ context.Context, ref string) (index.Decision, error) {
	if s[ref] {
		return index.Decision{Outcome: index.Found, ID: ref}, nil
	}
	return index.Decision{Outcome: index.Missing}, nil
}
func (s stubIndex) Known(id string) (string, bool, bool) { v, ok := s[id]; return "", v, ok }
func (s stubIndex) HiddenID(p string) bool {
	for id, v := range s {
		if !v && len(p) >= 12 && strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}
func (s stubIndex) HiddenName(string) bool { return false }

// dfUpstream answers /system/df with whatever sections ?type= asks for,
// as an API >= 1.42 engine does, and records the query it saw.
type dfUpstream struct{ query *string }

func (u dfUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	*u.query = r.URL.RawQuery
	types := r.URL.Query()["type"]
	want := func(t string) bool { return len(types) == 0 || slices.Contains(types, t) }
	var parts []string
	if want("image") {
		parts = append(parts, `"Images":[{"Id":"sha256:i1","Containers":2,"Size":10,"SharedSize":0}]`)
	}
	if want("container") {
		parts = append(parts, `"Containers":[{"Id":"`+strings.Repeat("a", 64)+`","ImageID":"sha256:i1","State":"running","Mounts":[]},{"Id":"`+strings.Repeat("b", 64)+`","ImageID":"sha256:i1","State":"running","Mounts":[]}]`)
	}
	body := "{" + strings.Join(parts, ",") + "}\n"
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "Api-Version": {"1.47"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestDiskUsageByTypeRecountsFromVisibleContainers(t *testing.T) {
	var seen string
	p := New(Options{Index: stubIndex{strings.Repeat("a", 64): true, strings.Repeat("b", 64): false}, Transport: dfUpstream{&seen}})
	srv := httptest.NewServer(p)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1.47/system/df?type=image")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("df?type=image = %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(seen, "type=container") {
		t.Errorf("upstream query %q lacks type=container, needed to recount", seen)
	}
	if want := `{"Images":[{"Id":"sha256:i1","Containers":1,"Size":10,"SharedSize":0}]}` + "\n"; string(body) != want {
		t.Errorf("df?type=image = %s, want %s (one visible container, no container section)", body, want)
	}
}
