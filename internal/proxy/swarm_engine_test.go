package proxy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// TestEngineSwarmServicesResolveLikeContainers: services and tasks are
// resolved among the visible ones (full ID, name, unique ID prefix), a
// hidden one answers exactly like a missing one, errors never name a hidden
// service, and the tasks of a visible service, and their containers, are
// visible through the proxy main builds.
func TestEngineSwarmServicesResolveLikeContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private engine in swarm mode")
	}
	e := enginetest.StartPrivate(t)
	e.InitSwarm(t)
	key := enginetest.UniqueName(t, "k")
	visibleName, hiddenName := key+"-web", key+"-secret"
	visible := e.Service(t, visibleName, map[string]string{key + ".app": "web"})
	hidden := e.Service(t, hiddenName, map[string]string{key + ".priv": "x"})
	visibleTaskContainer := e.RunningTasks(t, visible, hidden)[visible].Status.ContainerStatus.ContainerID

	p := startProxy(t, e.Host, proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key + ".app"}}}})
	missing := "nosuchsvc" + key[len(key)-6:]

	t.Run("a hidden service answers like a missing one", func(t *testing.T) {
		for _, ref := range []string{hidden, hidden[:12], hiddenName} {
			got := rawDo(t, p.Host, "GET", "/services/"+ref, nil, nil)
			want := substitute(rawDo(t, e.Host, "GET", "/services/"+missing, nil, nil), missing, ref)
			assertSameAnswer(t, got, want)
		}
	})
	t.Run("visible services resolve by ID, name and prefix", func(t *testing.T) {
		for _, ref := range []string{visible, visibleName, visible[:12]} {
			got := rawDo(t, p.Host, "GET", "/services/"+ref, nil, nil)
			if got.Status != http.StatusOK || !strings.Contains(got.Body, visible) {
				t.Errorf("GET /services/%s = %d, want the visible service", ref, got.Status)
			}
		}
	})
	t.Run("task filters name services as decided", func(t *testing.T) {
		q := url.QueryEscape(`{"service":["` + hiddenName + `"]}`)
		got := rawDo(t, p.Host, "GET", "/tasks?filters="+q, nil, nil)
		if got.Status != http.StatusNotFound || strings.Contains(got.Body, hidden) {
			t.Errorf("tasks of a hidden service = %d %s, want 404", got.Status, got.Body)
		}
		q = url.QueryEscape(`{"service":["` + visibleName + `"]}`)
		got = rawDo(t, p.Host, "GET", "/tasks?filters="+q, nil, nil)
		var tasks []struct{ ServiceID string }
		if got.Status != http.StatusOK || json.Unmarshal([]byte(got.Body), &tasks) != nil || len(tasks) != 1 || tasks[0].ServiceID != visible {
			t.Errorf("tasks of the visible service = %d %s, want its one task", got.Status, got.Body)
		}
	})
	t.Run("a name conflict with a hidden service does not name it", func(t *testing.T) {
		body := `{"Name":"` + hiddenName + `","Labels":{"` + key + `.app":"x"},"TaskTemplate":{"ContainerSpec":{"Image":"` + e.TestImage(t) + `"}}}`
		versions := []string{""}
		if e.ServesAPI(t, "1.23") {
			versions = append(versions, "/v1.23") // plain-text errors
		}
		for _, version := range versions {
			got := rawDo(t, p.Host, "POST", version+"/services/create", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
			if got.Status != http.StatusConflict {
				t.Errorf("%s create onto a hidden service's name = %d %s, want 409", version, got.Status, got.Body)
			}
			if strings.Contains(got.Body, hiddenName) || !strings.Contains(got.Body, hiddenPlaceholder) {
				t.Errorf("%s the conflict names the hidden service: %s", version, got.Body)
			}
		}
	})
	t.Run("the visible service's task container is visible", func(t *testing.T) {
		// Its container matches no filter itself: it is visible through
		// its service, in the list and the counts as in inspect.
		got := rawDo(t, p.Host, "GET", "/containers/json", nil, nil)
		if !strings.Contains(got.Body, visibleTaskContainer) {
			t.Errorf("the visible service's task container is missing from the list")
		}
		if got := rawDo(t, p.Host, "GET", "/containers/"+visibleTaskContainer+"/json", nil, nil); got.Status != http.StatusOK {
			t.Errorf("inspect of the visible task container = %d", got.Status)
		}
		var info struct{ Containers int }
		if got := rawDo(t, p.Host, "GET", "/info", nil, nil); json.Unmarshal([]byte(got.Body), &info) != nil || info.Containers != 1 {
			t.Errorf("/info counts %d containers, want 1 (the visible task's)", info.Containers)
		}
	})
}
