package proxy

import (
	"context"
	"io"
	"time"

	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestEngineLinuxServerProfiles runs the LinuxServer environment blocks of
// real clients (Homepage, autoheal, Dozzle with actions) through the proxy
// main builds, on a real engine: every request the client needs passes the
// category policy (and reads succeed), every request the block does not
// allow gets the 403 naming the variable to set and never reaches the
// engine, and container visibility still applies on top.
func TestEngineLinuxServerProfiles(t *testing.T) {
	e := enginetest.Require(t)
	for _, prof := range access.Profiles() {
		t.Run(prof.Name, func(t *testing.T) {
			key := enginetest.UniqueName(t, "k")
			c := e.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "emby"), Labels: map[string]string{key: "x"}})
			hidden := e.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "hid")})
			log := &upstreamLog{}
			env := map[string]string{"CONTAINER_LABELS": key}
			for k, v := range prof.Env {
				env[k] = v
			}
			p := startProxyEnv(t, upstreamHop(t, e.Host, hopOptions{log: log}), env)
			// Dozzle's SDK negotiates its version down to the engine's.
			ver, err := e.Client.ServerVersion(context.Background(), client.ServerVersionOptions{})
			if err != nil {
				t.Fatal(err)
			}
			bind := strings.NewReplacer(
				"4f1c3e8a9b2d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e", c.ID,
				"4f1c3e8a9b2d", c.ID[:12], "emby", c.Name, "/v1.51/", "/v"+ver.APIVersion+"/")

			for _, req := range prof.Allow {
				target := bind.Replace(req.Target)
				got := statusOf(t, p, req.Method, target)
				if got.Status == http.StatusForbidden {
					t.Errorf("%s %s (%s) = 403 %s, want it allowed", req.Method, target, req.Why, got.Body)
					continue
				}
				if (req.Method == "GET" || req.Method == "HEAD") && got.Status >= 300 && !swarmRead(target) {
					t.Errorf("%s %s (%s) = %d %.200s, want it served", req.Method, target, req.Why, got.Status, got.Body)
				}
			}
			for _, req := range prof.Deny {
				target := bind.Replace(req.Target)
				got := statusOf(t, p, req.Method, target)
				var msg struct{ Message string }
				_ = json.Unmarshal([]byte(got.Body), &msg)
				if got.Status != http.StatusForbidden || !strings.HasPrefix(msg.Message, "denied: set ") {
					t.Errorf("%s %s (%s) = %d %s, want 403 naming the variable to set", req.Method, target, req.Why, got.Status, got.Body)
				}
				path := strings.SplitN(target, "?", 2)[0]
				for _, seen := range log.mentioning(path) {
					if strings.HasPrefix(seen, req.Method+" ") {
						t.Errorf("the denied %s %s reached the engine: %s", req.Method, target, seen)
					}
				}
			}
			// Visibility on top: an allowed area shows no hidden container.
			if got := rawDo(t, p.Host, "GET", "/containers/"+hidden.Name+"/json", nil, nil); got.Status != http.StatusNotFound {
				t.Errorf("inspect of a hidden container under %s = %d, want 404", prof.Name, got.Status)
			}
		})
	}
}

// swarmRead reports whether a read is a swarm route, which an engine that
// is not a swarm manager answers 503.
func swarmRead(target string) bool {
	return strings.HasPrefix(target, "/services") || strings.HasPrefix(target, "/tasks")
}

// statusOf sends one request and returns its status and (for a short
// answer) its body; a stream (events, logs or stats that follow) is closed
// once its headers arrive.
func statusOf(t *testing.T, p *testProxy, method, target string) rawResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	got := rawResponse{Status: resp.StatusCode, Header: resp.Header}
	if resp.ContentLength >= 0 {
		b, _ := io.ReadAll(resp.Body)
		got.Body = string(b)
	}
	return got
}

// TestEngineAllowStartDoesNotRewriteHostConfig: below API 1.24 the engine
// applies a start body as the container's new HostConfig (binds,
// privileges, namespaces), which is a change of the container, not a start.
// ALLOW_START alone must not let it through (an outside attack bound a
// host directory into a visible container with it); CONTAINERS=1 and
// POST=1 do, and a short body the engine ignores still starts.
func TestEngineAllowStartDoesNotRewriteHostConfig(t *testing.T) {
	e := enginetest.Require(t)
	if !e.ServesAPI(t, "1.23") {
		t.Skip("this engine no longer serves API 1.23, where a start body is a HostConfig (Engine 25 and later refuse the version)")
	}
	key := enginetest.UniqueName(t, "k")
	hostDir := t.TempDir()
	binds := `{"Binds":["` + hostDir + `:/host"]}`
	header := http.Header{"Content-Type": {"application/json"}}
	boundDirs := func(id string) []string { return e.Inspect(t, id).HostConfig.Binds }

	startOnly := startProxyEnv(t, e.Host, map[string]string{"CONTAINER_LABELS": key, "ALLOW_START": "1"})
	c := e.Run(t, enginetest.RunSpec{Labels: map[string]string{key: "x"}, NoStart: true, Cmd: []string{"sleep", "60"}})
	got := rawDo(t, startOnly.Host, "POST", "/v1.23/containers/"+c.Name+"/start", strings.NewReader(binds), header)
	if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "set CONTAINERS=1 and POST=1 to allow POST /containers/{id}/start with a HostConfig body") {
		t.Errorf("ALLOW_START=1, v1.23 start with Binds = %d %s; want 403 naming CONTAINERS=1 and POST=1", got.Status, got.Body)
	}
	if b := boundDirs(c.ID); len(b) != 0 || e.Inspect(t, c.ID).State.Running {
		t.Errorf("the denied start reached the engine: Binds %v, running %v", b, e.Inspect(t, c.ID).State.Running)
	}
	// Chunked (unknown length) is applied by the engine too.
	chunked, err := http.NewRequest("POST", startOnly.URL+"/v1.23/containers/"+c.Name+"/start", io.MultiReader(strings.NewReader(binds)))
	if err != nil {
		t.Fatal(err)
	}
	chunked.Header.Set("Content-Type", "application/json")
	resp, err := startOnly.HTTP.Do(chunked) // a reader of unknown length goes chunked
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(boundDirs(c.ID)) != 0 {
		t.Errorf("ALLOW_START=1, chunked v1.23 start body = %d, Binds %v; want 403 and no change", resp.StatusCode, boundDirs(c.ID))
	}
	// What a start is allowed: no body, or one the engine ignores.
	if got := rawDo(t, startOnly.Host, "POST", "/v1.23/containers/"+c.Name+"/start", strings.NewReader("{}"), header); got.Status != http.StatusNoContent {
		t.Errorf("ALLOW_START=1, v1.23 start with {} = %d %s; want 204", got.Status, got.Body)
	}
	if b := boundDirs(c.ID); len(b) != 0 {
		t.Errorf("an ignored body changed Binds: %v", b)
	}

	// With CONTAINERS=1 and POST=1 (what a create needs) it passes, and the
	// engine does apply it: the rule guards something real.
	full := startProxyEnv(t, e.Host, map[string]string{"CONTAINER_LABELS": key, "CONTAINERS": "1", "POST": "1"})
	c2 := e.Run(t, enginetest.RunSpec{Labels: map[string]string{key: "y"}, NoStart: true, Cmd: []string{"sleep", "60"}})
	if got := rawDo(t, full.Host, "POST", "/v1.23/containers/"+c2.Name+"/start", strings.NewReader(binds), header); got.Status != http.StatusNoContent {
		t.Errorf("CONTAINERS=1 POST=1, v1.23 start with Binds = %d %s; want 204", got.Status, got.Body)
	}
	if b := boundDirs(c2.ID); len(b) != 1 {
		t.Errorf("the engine did not apply the v1.23 start body (Binds %v): the threat this test guards against is gone, revisit it", b)
	}
}
