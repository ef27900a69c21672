package visibility

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// listerStub is a swarm service list held in memory, counting the calls, so
// the rule's cache can be observed. The rule against a real swarm is proven
// by the engine tests of internal/proxy (TestSwarm*) and the leak test.
type listerStub struct {
	mu       sync.Mutex
	services []upstream.Service
	err      error
	calls    int
}

func (l *listerStub) Services(context.Context) ([]upstream.Service, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.services, true, l.err
}

func (l *listerStub) callCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

func criteria(t *testing.T, names []string, labels ...string) *match.Criteria {
	t.Helper()
	c := &match.Criteria{Names: names}
	for _, item := range labels {
		l, ok := match.ParseLabel(item)
		if !ok {
			t.Fatalf("bad label item %q", item)
		}
		c.Labels = append(c.Labels, l)
	}
	return c
}

const (
	visibleSvc = "aaaaaaaaaaaaaaaaaaaaaaaaa"
	hiddenSvc  = "bbbbbbbbbbbbbbbbbbbbbbbbb"
)

func swarmStub() *listerStub {
	return &listerStub{services: []upstream.Service{
		{ID: visibleSvc, Name: "web", Labels: map[string]string{"homepage.group": "x"}},
		{ID: hiddenSvc, Name: "secret-db", Labels: map[string]string{"tier": "db"}},
	}}
}

func TestNoCriteriaShowEverything(t *testing.T) {
	v := New(nil, swarmStub())
	if !v.Container("/anything", nil) || !v.Service("secret-db", nil) || !v.ServiceID(context.Background(), hiddenSvc) {
		t.Fatal("with no criteria every container and service is visible")
	}
	if v.HiddenService(context.Background(), "secret-db") {
		t.Fatal("with no criteria nothing is hidden, so nothing is redacted")
	}
}

func TestContainerByNameOrLabel(t *testing.T) {
	v := New(criteria(t, []string{"web"}, "homepage"), nil)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{"/web-1", nil, true},
		{"/db", map[string]string{"homepage.group": "tools"}, true},
		{"/db", map[string]string{"tier": "db"}, false},
		{"/db", nil, false},
		// A task label alone shows nothing without a service lister.
		{"/db", map[string]string{ServiceLabel: visibleSvc}, false},
	} {
		if got := v.Container(c.name, c.labels); got != c.want {
			t.Errorf("Container(%q, %v) = %v, want %v", c.name, c.labels, got, c.want)
		}
		if got := v.ByName(c.name) || v.ByLabels(c.labels); got != c.want {
			t.Errorf("ByName||ByLabels(%q, %v) = %v, want %v: the parts disagree with the whole", c.name, c.labels, got, c.want)
		}
	}
}

func TestTaskContainerFollowsItsService(t *testing.T) {
	lister := swarmStub()
	v := New(criteria(t, nil, "homepage"), lister)
	ctx := context.Background()
	if !v.Container("/web.1.x", map[string]string{ServiceLabel: visibleSvc}) {
		t.Error("a task container of a visible service (by Spec.Labels) must be visible")
	}
	if v.Container("/secret-db.1.x", map[string]string{ServiceLabel: hiddenSvc}) {
		t.Error("a task container of a hidden service must be hidden")
	}
	if !v.Container("/secret-db.1.x", map[string]string{ServiceLabel: hiddenSvc, "homepage": ""}) {
		t.Error("a task container visible by its own label must stay visible")
	}
	if !v.Task(ctx, hiddenSvc, "c1", func(string) bool { return true }) || v.Task(ctx, hiddenSvc, "", func(string) bool { return true }) {
		t.Error("Task: a hidden service's task is visible only through a visible container")
	}
	if n := lister.callCount(); n != 1 {
		t.Errorf("known service IDs within the cache's life asked the upstream %d times, want 1", n)
	}
	if v.ServiceID(ctx, "cccccccccccccccccccccccc") {
		t.Error("an unknown service ID must not be visible")
	}
	if n := lister.callCount(); n != 2 {
		t.Errorf("an unknown service ID must refresh the cache once: %d calls, want 2", n)
	}
}

func TestServiceByNameWithSlash(t *testing.T) {
	v := New(criteria(t, []string{"/web"}), nil)
	if !v.Service("web", nil) {
		t.Error("a service name is matched with a leading slash, like a container's")
	}
	if v.Service("secret-web", nil) {
		t.Error(`"/web" must not match "secret-web"`)
	}
}

func TestHiddenServiceForRedaction(t *testing.T) {
	v := New(criteria(t, nil, "homepage"), swarmStub())
	ctx := context.Background()
	for word, want := range map[string]bool{
		"secret-db":        true,
		hiddenSvc[:12]:     true,
		hiddenSvc:          true,
		hiddenSvc[:11]:     false, // shorter than a short ID: too common to redact
		"web":              false,
		visibleSvc[:12]:    false,
		"":                 false,
		"secret-db-backup": false,
	} {
		if got := v.HiddenService(ctx, word); got != want {
			t.Errorf("HiddenService(%q) = %v, want %v", word, got, want)
		}
	}
}

func TestListerErrorKeepsWhatIsKnown(t *testing.T) {
	lister := swarmStub()
	v := New(criteria(t, nil, "homepage"), lister)
	ctx := context.Background()
	if !v.ServiceID(ctx, visibleSvc) {
		t.Fatal("visible service not visible")
	}
	lister.mu.Lock()
	lister.err = errors.New("upstream down")
	lister.mu.Unlock()
	v.RefreshServices(ctx)
	if !v.ServiceID(ctx, visibleSvc) || v.ServiceID(ctx, hiddenSvc) {
		t.Error("a failed refresh must keep the known verdicts")
	}
	if v.ServiceID(ctx, "dddddddddddddddddddddddd") {
		t.Error("an unknown service must stay invisible while the upstream fails")
	}
}

func TestEventLabelsDropWhatTheEngineAdds(t *testing.T) {
	got := EventLabels(map[string]string{
		"name": "/web", "image": "app:1", "exitCode": "0", "execID": "x",
		"homepage.group": "tools", "tier": "db",
	})
	if len(got) != 2 || got["homepage.group"] != "tools" || got["tier"] != "db" {
		t.Fatalf("EventLabels = %v, want only the two labels", got)
	}
	v := New(criteria(t, nil, "exitCode"), nil)
	if v.ByLabels(EventLabels(map[string]string{"exitCode": "1"})) {
		t.Error("a label criterion must never match an attribute the engine added")
	}
}
