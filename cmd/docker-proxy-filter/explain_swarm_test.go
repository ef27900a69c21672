package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestExplainSwarmServices runs `explain --json` on a real one-node swarm:
// a service chosen by its Spec.Labels is visible, its task container is
// visible as "task of visible service", another service and its task are
// hidden, and the built binary, run with the same environment, shows
// exactly the containers explain calls visible (the wiring issue 6 found:
// the binary once hid the tasks of a visible service).
func TestExplainSwarmServices(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private engine in swarm mode")
	}
	e := enginetest.StartPrivate(t)
	e.InitSwarm(t)
	ctx := context.Background()
	key := enginetest.UniqueName(t, "xs")
	webName, secretName := key+"-web", key+"-secret"
	web := e.Service(t, webName, map[string]string{key + ".app": "web"})
	secret := e.Service(t, secretName, map[string]string{key + ".priv": "x"})
	tasks := e.RunningTasks(t, web, secret)
	taskContainer := map[string]string{web: tasks[web].Status.ContainerStatus.ContainerID, secret: tasks[secret].Status.ContainerStatus.ContainerID}

	env := map[string]string{"PROXY_URL": e.Host, "CONTAINER_LABELS": key + ".app"}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"dpf", "explain", "--json"}, envMap(env), &out, &errOut); err != nil {
		t.Fatalf("explain --json: %v\n%s", err, errOut.String())
	}
	var entries []explainEntry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil {
		t.Fatalf("explain --json is not a JSON array: %v\n%s", err, out.String())
	}
	byKindID := map[string]explainEntry{}
	var visibleContainers []string
	for _, en := range entries {
		byKindID[en.Kind+" "+en.ID] = en
		if en.Kind == "container" && en.Visible {
			visibleContainers = append(visibleContainers, en.ID)
		}
	}
	for _, c := range []struct {
		kind, id string
		visible  bool
		reason   string
	}{
		{"service", web, true, `CONTAINER_LABELS item "` + key + `.app" matches label ` + key + `.app=web`},
		{"service", secret, false, "no filter matched"},
		{"container", taskContainer[web], true, `task of visible service "` + webName + `"`},
		{"container", taskContainer[secret], false, `task of hidden service "` + secretName + `"`},
	} {
		got, ok := byKindID[c.kind+" "+c.id]
		if !ok || got.Visible != c.visible || !strings.Contains(got.Reason, c.reason) {
			t.Errorf("%s %.12s: got %+v, want visible=%v with a reason containing %q", c.kind, c.id, got, c.visible, c.reason)
		}
	}

	addr, _ := startBinary(t, "PROXY_URL="+e.Host, "CONTAINER_LABELS="+key+".app")
	host := "tcp://" + addr
	shown := containersThrough(t, e, host)
	slices.Sort(visibleContainers)
	if !slices.Equal(shown, visibleContainers) || !slices.Contains(shown, taskContainer[web]) {
		t.Errorf("docker ps -a through the binary shows %v; explain says visible %v (the web task is %.12s)", shown, visibleContainers, taskContainer[web])
	}
	svc, svcErr, err := e.Docker(t, host, "service", "ls", "-q")
	if err != nil || strings.Join(strings.Fields(svc), ",") != web[:12] {
		t.Errorf("docker service ls through the binary = %q, %v %s; want only %.12s", svc, err, svcErr, web)
	}
}

// TestExplainWarnsOnce: a warning both the configuration and the report
// give (no filters: every container is visible) is printed once.
func TestExplainWarnsOnce(t *testing.T) {
	e := enginetest.Require(t)
	for _, args := range [][]string{{"dpf", "explain"}, {"dpf", "explain", "--json"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, envMap(map[string]string{"PROXY_URL": e.Host}), &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		// The warning itself; each container's reason says "no filters:
		// every container is visible" too.
		if n := strings.Count(out.String()+errOut.String(), "no CONTAINER_NAMES or CONTAINER_LABELS: every container is visible"); n != 1 {
			t.Errorf("%v printed the no-filters warning %d times, want once:\n%s%s", args, n, out.String(), errOut.String())
		}
	}
}

// containersThrough waits for a proxy at host to answer and returns the
// full IDs `docker ps -a` shows through it, sorted.
func containersThrough(t *testing.T, e *enginetest.Engine, host string) []string {
	t.Helper()
	enginetest.Eventually(t, 10*time.Second, "the proxy answers", func() bool {
		_, _, err := e.Docker(t, host, "version")
		return err == nil
	})
	ps, psErr, err := e.Docker(t, host, "ps", "-a", "-q", "--no-trunc")
	if err != nil {
		t.Fatalf("docker ps -a through the proxy: %v %s", err, psErr)
	}
	shown := strings.Fields(ps)
	slices.Sort(shown)
	return shown
}
