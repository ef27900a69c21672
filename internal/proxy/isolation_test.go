package proxy

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

func TestEngineReadOnlyAllowsOnlyGetAndHead(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	c := e.Run(t, enginetest.RunSpec{Labels: map[string]string{key: "v"}})
	p := startProxy(t, e.Host, proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key}}}, readOnly: true})

	if got := rawDo(t, p.Host, "GET", "/containers/"+c.Name+"/json", nil, nil); got.Status != http.StatusOK {
		t.Errorf("GET inspect under READ_ONLY = %d, want 200", got.Status)
	}
	for _, req := range []struct{ method, target string }{
		{"POST", "/containers/" + c.Name + "/stop"},
		{"POST", "/containers/" + c.Name + "/kill"},
		{"DELETE", "/containers/" + c.Name + "?force=1"},
		{"POST", "/containers/create"},
		{"PUT", "/containers/" + c.Name + "/archive?path=/tmp"},
		{"GET", "/containers/" + c.Name + "/attach/ws?stream=1&stdin=1"},
		{"POST", "/v1.41/networks/create"},
		{"POST", "/containers/nonexistent-" + key + "/stop"},
	} {
		got := rawDo(t, p.Host, req.method, req.target, nil, nil)
		if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "READ_ONLY") {
			t.Errorf("%s %s under READ_ONLY = %d %s, want 403 naming READ_ONLY", req.method, req.target, got.Status, got.Body)
		}
	}
	if in := e.Inspect(t, c.ID); !in.State.Running {
		t.Error("a write went through READ_ONLY: the container is not running")
	}
	_, stderr, err := e.Docker(t, p.Host, "stop", c.Name)
	if err == nil || !strings.Contains(stderr, "READ_ONLY") {
		t.Errorf("docker stop under READ_ONLY: err %v, stderr %q; want a READ_ONLY refusal", err, stderr)
	}
}

func TestEngineUnknownRoutesAreRefused(t *testing.T) {
	s := newScenario(t, false)
	for _, req := range []struct{ method, target string }{
		{"GET", "/containers/" + s.visible.Name + "/nothing"},
		{"get", "/containers/" + s.hidden.Name + "/json"},
		{"TRACE", "/containers/" + s.hidden.Name + "/json"},
		{"PATCH", "/containers/" + s.hidden.Name},
		{"GET", "/v1.41/not-a-route"},
		{"GET", "/debug/vars"},
		{"GET", "/debug/pprof/goroutine"},
		{"POST", "/session"},
		{"POST", "/grpc"},
	} {
		got := rawDo(t, s.proxy.Host, req.method, req.target, nil, nil)
		if got.Status != http.StatusForbidden || !strings.HasPrefix(got.Body, `{"message":"docker-proxy-filter: `) {
			t.Errorf("%s %s = %d %s, want a JSON 403 saying why", req.method, req.target, got.Status, got.Body)
		}
	}
	if leaked := s.seen.mentioning(s.hidden.Name, "/debug", "/session", "/grpc", "/nothing"); len(leaked) > 0 {
		t.Errorf("refused routes reached the upstream: %q", leaked)
	}
}

func TestEngineExecRoutesFollowTheirContainer(t *testing.T) {
	s := newScenario(t, false)
	ctx := context.Background()
	newExec := func(containerID string) string {
		t.Helper()
		res, err := s.e.Client.ExecCreate(ctx, containerID, client.ExecCreateOptions{Cmd: []string{"/app", "echo", "x"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	hiddenExec, visibleExec := newExec(s.hidden.ID), newExec(s.visible.ID)
	missing := strings.Repeat("ab", 32)

	got := rawDo(t, s.proxy.Host, "GET", "/exec/"+visibleExec+"/json", nil, nil)
	if got.Status != http.StatusOK || !strings.Contains(got.Body, s.visible.ID) {
		t.Errorf("inspect of a visible container's exec = %d %s", got.Status, got.Body)
	}
	for _, req := range []struct{ method, target string }{
		{"GET", "/exec/EXEC/json"},
		{"POST", "/exec/EXEC/resize?h=10&w=10"},
		{"POST", "/v1.41/exec/EXEC/start"},
	} {
		want := rawDo(t, s.e.Host, req.method, strings.Replace(req.target, "EXEC", missing, 1), strings.NewReader(`{"Detach":true}`), jsonHeader)
		want = substitute(want, missing, hiddenExec)
		got := rawDo(t, s.proxy.Host, req.method, strings.Replace(req.target, "EXEC", hiddenExec, 1), strings.NewReader(`{"Detach":true}`), jsonHeader)
		assertSameAnswer(t, got, want)
	}
	// The proxy may look the exec up (a read); nothing else may reach it.
	for _, req := range s.seen.mentioning(hiddenExec) {
		if !regexp.MustCompile(`^GET (/v[0-9.]+)?/exec/` + hiddenExec + `/json\? body=0$`).MatchString(req) {
			t.Errorf("a request on a hidden container's exec reached the upstream: %q", req)
		}
	}
	in, err := s.e.Client.ExecInspect(ctx, hiddenExec, client.ExecInspectOptions{})
	if err != nil || in.Running || in.PID != 0 {
		t.Errorf("the hidden container's exec was started: %+v, %v", in, err)
	}
}

func TestEngineTopCannotPrintEnvironments(t *testing.T) {
	s := newScenario(t, true)
	got := rawDo(t, s.proxy.Host, "GET", "/containers/"+s.visible.Name+"/top", nil, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("top = %d %s", got.Status, got.Body)
	}
	for _, args := range []string{"e", "auxe", "aux%20eww", "-ef%20e", "-o%20pid%20e"} {
		got := rawDo(t, s.proxy.Host, "GET", "/containers/"+s.visible.Name+"/top?ps_args="+args, nil, nil)
		if got.Status != http.StatusForbidden || strings.Contains(got.Body, "VISIBLE_SECRET") {
			t.Errorf("top ps_args=%s with SCRUB_ENVS = %d %s, want 403", args, got.Status, got.Body)
		}
	}
	// Without the e modifier ps runs; the engine's answer carries no env.
	got = rawDo(t, s.proxy.Host, "GET", "/containers/"+s.visible.Name+"/top?ps_args=-o%20pid,user,args", nil, nil)
	if got.Status != http.StatusOK || strings.Contains(got.Body, "VISIBLE_SECRET") {
		t.Errorf("top ps_args=-o pid,user,args = %d %s, want 200 without the env", got.Status, got.Body)
	}
}

func TestEngineErrorsNeverNameHiddenContainers(t *testing.T) {
	s := newScenario(t, false)
	// Renaming a visible container onto a hidden container's name: the
	// engine's conflict names the hidden container's full ID.
	direct := rawDo(t, s.e.Host, "POST", "/containers/"+s.visible.ID+"/rename?name="+s.hidden.Name, nil, nil)
	if direct.Status != http.StatusConflict || !strings.Contains(direct.Body, s.hidden.ID) {
		t.Fatalf("engine rename conflict = %d %s (test premise: it names the hidden ID)", direct.Status, direct.Body)
	}
	got := rawDo(t, s.proxy.Host, "POST", "/containers/"+s.visible.Name+"/rename?name="+s.hidden.Name, nil, nil)
	if got.Status != http.StatusConflict {
		t.Errorf("rename conflict through the proxy = %d %s, want 409", got.Status, got.Body)
	}
	if strings.Contains(got.Body, s.hidden.ID[:12]) {
		t.Errorf("conflict message names the hidden container: %s", got.Body)
	}
	if in := s.e.Inspect(t, s.visible.ID); in.Name != "/"+s.visible.Name {
		t.Errorf("visible container renamed to %s", in.Name)
	}
}

func TestEngineEventsShowOnlyVisibleContainers(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	p := startProxy(t, e.Host, proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key}}}})
	since := time.Now().Add(-time.Second).Unix()

	cmd := e.DockerCmd(t, p.Host, "events", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(300 * time.Millisecond) // let the stream open

	hidden := e.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "hid")})
	visible := e.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "vis"), Labels: map[string]string{key: "x"}})
	var seen []string
	deadline := time.After(10 * time.Second)
	for !slices.ContainsFunc(seen, func(l string) bool { return strings.Contains(l, "start "+visible.Name) }) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("docker events ended; saw %q", seen)
			}
			seen = append(seen, l)
		case <-deadline:
			t.Fatalf("the visible container's start event did not arrive; saw %q", seen)
		}
	}
	for _, l := range seen {
		if strings.Contains(l, hidden.Name) {
			t.Errorf("live events show the hidden container: %q", l)
		}
	}

	// The replay of the same period is filtered alike.
	replay := rawDo(t, p.Host, "GET", fmt.Sprintf("/events?since=%d&until=%d", since, time.Now().Unix()+1), nil, nil)
	if !strings.Contains(replay.Body, visible.ID) || strings.Contains(replay.Body, hidden.ID) || strings.Contains(replay.Body, hidden.Name) {
		t.Errorf("replayed events: visible %v, hidden %v; want only the visible container", strings.Contains(replay.Body, visible.ID), strings.Contains(replay.Body, hidden.ID))
	}
}
