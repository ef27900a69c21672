package proxy

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
)

// A swarm with overlay networks cannot run on this machine's engine (no
// bridge, no iptables), so a verbose network inspect with services is
// checked against the FAKE engine.
func TestVerboseNetworkInspectHidesHiddenServices(t *testing.T) {
	f := newFakeEngine(t, fakeengine.Options{Swarm: &fakeengine.Swarm{Services: []fakeengine.Service{
		{ID: strings.Repeat("1", 25), Name: "web-svc", Labels: map[string]string{"fake.app": "1"}},
		{ID: strings.Repeat("2", 25), Name: "secret-svc", Labels: map[string]string{"private": "1"}},
	}}})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})
	h := p.sidecar.Handler
	body := []byte(`{"Name":"ov","Containers":{},"Services":{"secret-svc":{"VIP":"10.0.0.2","Tasks":[{"Name":"secret-svc.1.abc"}]},"web-svc":{"VIP":"10.0.0.3","Tasks":[]}},"Scope":"swarm"}` + "\n")
	got, err := h.filterNetworkServices(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Name":"ov","Containers":{},"Services":{"web-svc":{"VIP":"10.0.0.3","Tasks":[]}},"Scope":"swarm"}` + "\n"
	if string(got) != want {
		t.Errorf("filtered network = %s\nwant %s", got, want)
	}
	// No Services member, or an empty one: unchanged bytes.
	for _, b := range []string{`{"Name":"n","Containers":{}}`, `{"Name":"n","Services":{}}`, `{"Name":"n","Services":null}`} {
		if got, err := h.filterNetworkServices(context.Background(), []byte(b)); err != nil || string(got) != b {
			t.Errorf("filterNetworkServices(%s) = %s, %v; want it unchanged", b, got, err)
		}
	}
}

// fakeDiskUsageByType answers /system/df with whatever sections ?type= asks
// for, as an API >= 1.42 engine does (Engine 20.10 ignores type), and
// records the query it saw.
func fakeDiskUsageByType(seen *string) fakeengine.Case {
	return func(f *fakeengine.Engine, w http.ResponseWriter, r *http.Request) {
		*seen = r.URL.RawQuery
		types := r.URL.Query()["type"]
		want := func(t string) bool { return len(types) == 0 || slices.Contains(types, t) }
		var parts []string
		if want("image") {
			parts = append(parts, `"Images":[{"Id":"sha256:i1","Containers":2,"Size":10,"SharedSize":0}]`)
		}
		if want("container") {
			parts = append(parts, `"Containers":[{"Id":"`+fakeWeb.ID+`","ImageID":"sha256:i1","State":"running","Mounts":[]},{"Id":"`+fakeDB.ID+`","ImageID":"sha256:i1","State":"running","Mounts":[]}]`)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{"+strings.Join(parts, ",")+"}\n")
	}
}

func TestDiskUsageByTypeRecountsFromVisibleContainers(t *testing.T) {
	var seen string
	f := newFakeEngine(t, fakeengine.Options{API: "1.47", Cases: map[string]fakeengine.Case{"df": fakeDiskUsageByType(&seen)}})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/v1.47/system/df?type=image", nil)
	req.Header.Set(fakeengine.CaseHeader, "df")
	resp, err := p.HTTP.Do(req)
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

// The engine counts a restarting container as stopped in /info; a real
// engine cannot hold one in that state long enough to compare, so the FAKE
// engine lists one.
func TestInfoCountsRestartingContainersAsStopped(t *testing.T) {
	info := func(f *fakeengine.Engine, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ID":"x","Containers":9,"ContainersRunning":5,"ContainersPaused":1,"ContainersStopped":3,"Images":1}`+"\n")
	}
	restarting := newFakeContainer("/fake-flappy", map[string]string{"fake.app": "flappy"})
	restarting.State = "restarting"
	paused := newFakeContainer("/fake-paused", map[string]string{"fake.app": "p"})
	paused.State = "paused"
	f := newFakeEngine(t, fakeengine.Options{
		World: fakeengine.NewWorld(append(fakeWorld(), restarting, paused)...),
		Cases: map[string]fakeengine.Case{"info": info},
	})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})
	got := fakeDo(t, p, "GET", "/info", "info")
	want := `{"ID":"x","Containers":4,"ContainersRunning":2,"ContainersPaused":1,"ContainersStopped":1,"Images":1}` + "\n"
	if got.Status != http.StatusOK || string(got.Body) != want {
		t.Errorf("/info = %d %s, want %s", got.Status, got.Body, want)
	}
}
