package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// nameScenario filters on a name prefix, so renames change visibility.
func nameScenario(t *testing.T) (*enginetest.Engine, string, *testProxy) {
	t.Helper()
	e := enginetest.Require(t)
	prefix := enginetest.UniqueName(t, "vis")
	p := startProxy(t, e.Host, proxyConfig{filters: match.Criteria{Names: []string{"/" + prefix}}})
	return e, prefix, p
}

func inspectStatus(t *testing.T, p *testProxy, ref string) int {
	t.Helper()
	return rawDo(t, p.Host, "GET", "/containers/"+ref+"/json", nil, nil).Status
}

func TestEngineNewContainerAppearsWithinASecond(t *testing.T) {
	e, prefix, p := nameScenario(t)
	c := e.Run(t, enginetest.RunSpec{Name: prefix + "-new"})
	created := time.Now()
	enginetest.Eventually(t, time.Second, "new container visible through the proxy", func() bool {
		return inspectStatus(t, p, c.Name) == http.StatusOK
	})
	t.Logf("visible %v after create returned", time.Since(created).Round(time.Millisecond))
	res, err := p.Client.ContainerList(context.Background(), client.ContainerListOptions{All: true})
	if err != nil || len(res.Items) != 1 || res.Items[0].ID != c.ID {
		t.Errorf("list through the proxy = %+v, %v; want just %s", res.Items, err, c.Name)
	}
}

func TestEngineRenameIsSeenLive(t *testing.T) {
	e, prefix, p := nameScenario(t)
	c := e.Run(t, enginetest.RunSpec{Name: prefix + "-a"})
	enginetest.Eventually(t, 2*time.Second, "visible before rename", func() bool { return inspectStatus(t, p, c.ID) == http.StatusOK })

	hiddenName := enginetest.UniqueName(t, "renamed")
	if _, err := e.Client.ContainerRename(context.Background(), c.ID, client.ContainerRenameOptions{NewName: hiddenName}); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, time.Second, "hidden by ID after rename to a non-matching name", func() bool {
		return inspectStatus(t, p, c.ID) == http.StatusNotFound
	})
	for _, ref := range []string{hiddenName, prefix + "-a", c.ID[:12]} {
		if got := inspectStatus(t, p, ref); got != http.StatusNotFound {
			t.Errorf("after rename, inspect %s = %d, want 404", ref, got)
		}
	}

	if _, err := e.Client.ContainerRename(context.Background(), c.ID, client.ContainerRenameOptions{NewName: prefix + "-b"}); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, time.Second, "visible again under its new matching name", func() bool {
		return inspectStatus(t, p, prefix+"-b") == http.StatusOK
	})
	if got := inspectStatus(t, p, prefix+"-a"); got != http.StatusNotFound {
		t.Errorf("old name after rename = %d, want 404", got)
	}
}

func TestEngineRecreateUnderTheSameNameIsSeenLive(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	name := enginetest.UniqueName(t, "app")
	p := startProxy(t, e.Host, proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key}}}})

	// A visible "app", allowed and cached...
	first := e.Run(t, enginetest.RunSpec{Name: name, Labels: map[string]string{key: "yes"}})
	enginetest.Eventually(t, 2*time.Second, "labelled app visible", func() bool { return inspectStatus(t, p, name) == http.StatusOK })

	// ...is replaced by an unlabelled container under the same name: the
	// name must now lead nowhere (a cache keyed by the ref would allow it).
	if _, err := e.Client.ContainerRemove(context.Background(), first.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	second := e.Run(t, enginetest.RunSpec{Name: name})
	enginetest.Eventually(t, time.Second, "recreated unlabelled app hidden", func() bool { return inspectStatus(t, p, name) == http.StatusNotFound })
	if got := inspectStatus(t, p, second.ID); got != http.StatusNotFound {
		t.Errorf("inspect of the unlabelled replacement by ID = %d, want 404", got)
	}
	if got := rawDo(t, p.Host, "POST", "/containers/"+name+"/stop?t=1", nil, nil).Status; got != http.StatusNotFound {
		t.Errorf("stop of the unlabelled replacement = %d, want 404", got)
	}
	if in := e.Inspect(t, second.ID); !in.State.Running {
		t.Error("the hidden replacement was stopped through the proxy")
	}

	// And the other way round: a labelled container takes the name back.
	if _, err := e.Client.ContainerRemove(context.Background(), second.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	third := e.Run(t, enginetest.RunSpec{Name: name, Labels: map[string]string{key: "again"}})
	enginetest.Eventually(t, time.Second, "labelled app visible again", func() bool {
		r := rawDo(t, p.Host, "GET", "/containers/"+name+"/json", nil, nil)
		return r.Status == http.StatusOK && len(r.Body) > 0 && strings.Contains(r.Body, third.ID)
	})
}
