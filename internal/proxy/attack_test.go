package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// Findings of the first outside attack, each on a real engine.

// Below API 1.24 the engine writes errors as plain text; they name hidden
// containers exactly as the JSON ones do.
func TestEnginePlainTextErrorsNeverNameHiddenContainers(t *testing.T) {
	s := newScenario(t, false)
	image := s.e.TestImage(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name, method, target, body string
	}{
		{"create onto a hidden name", "POST", "/v1.23/containers/create?name=" + s.hidden.Name,
			`{"Image":"` + image + `","Labels":{"` + s.key + `.app":"x"},"HostConfig":{"NetworkMode":"none"}}`},
		{"rename onto a hidden name", "POST", "/v1.23/containers/" + s.visible.Name + "/rename?name=" + s.hidden.Name, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			direct := rawDo(t, s.e.Host, tc.method, tc.target, readerOrNil(body), jsonHeader)
			if direct.Status != http.StatusConflict || !strings.HasPrefix(direct.Header.Get("Content-Type"), "text/plain") || !strings.Contains(direct.Body, s.hidden.ID) {
				t.Fatalf("engine: %d %q %s (test premise: a plain-text conflict naming the hidden ID)", direct.Status, direct.Header.Get("Content-Type"), direct.Body)
			}
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			got := rawDo(t, s.proxy.Host, tc.method, tc.target, readerOrNil(body), jsonHeader)
			if got.Status != http.StatusConflict || !strings.HasPrefix(got.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("through the proxy: %d %q %s, want the engine's plain-text 409", got.Status, got.Header.Get("Content-Type"), got.Body)
			}
			if strings.Contains(got.Body, s.hidden.ID[:12]) || strings.Contains(got.Body, s.hidden.Name) {
				t.Errorf("the plain-text error names the hidden container: %s", got.Body)
			}
			if !strings.Contains(got.Body, hiddenPlaceholder) {
				t.Errorf("the plain-text error = %q, want the hidden container replaced by %s", got.Body, hiddenPlaceholder)
			}
		})
	}
}

func readerOrNil(r *strings.Reader) interface{ Read([]byte) (int, error) } {
	if r == nil {
		return nil
	}
	return r
}

// With the upstream refusing /events (the article's own stack) the index
// relists every POLL_INTERVAL. A container recreated under its name between
// two polls is answered at once, not 404 until the next poll: the engine's
// 404 for the stale ID makes the proxy decide again.
func TestEnginePollingModeFollowsARecreatedContainerAtOnce(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	name := enginetest.UniqueName(t, "app")
	first := e.Run(t, enginetest.RunSpec{Name: name, Labels: map[string]string{key: "one"}})
	hop := upstreamHop(t, e.Host, hopOptions{refuseEvents: true})
	p := startProxy(t, hop, proxyConfig{filters: match.Filters{Labels: []match.Label{{Key: key}}}, waitPolling: true, pollInterval: "1h"})
	if got := rawDo(t, p.Host, "GET", "/containers/"+name+"/json", nil, nil); got.Status != http.StatusOK || !strings.Contains(got.Body, first.ID) {
		t.Fatalf("inspect %s = %d, want the first container", name, got.Status)
	}
	if _, err := e.Client.ContainerRemove(context.Background(), first.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	second := e.Run(t, enginetest.RunSpec{Name: name, Labels: map[string]string{key: "two"}})
	for _, target := range []string{"/containers/" + name + "/json", "/v1.41/containers/" + name + "/json"} {
		if got := rawDo(t, p.Host, "GET", target, nil, nil); got.Status != http.StatusOK || !strings.Contains(got.Body, second.ID) {
			t.Errorf("GET %s after the recreate = %d %.200s, want the new container at once", target, got.Status, got.Body)
		}
	}
	// A container gone for good still answers the engine's 404, with the
	// client's ref.
	if _, err := e.Client.ContainerRemove(context.Background(), second.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	got := rawDo(t, p.Host, "GET", "/containers/"+name+"/json", nil, nil)
	want := rawDo(t, e.Host, "GET", "/containers/"+name+"/json", nil, nil)
	assertSameAnswer(t, got, want)
}
