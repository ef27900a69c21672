package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
)

// podmanWorld is a Podman service with visible and hidden containers and
// the proxy in front of it, built as main builds it.
type podmanWorld struct {
	pm      *enginetest.Engine
	key     string // CONTAINER_LABELS=<key>.app
	nameTok string // CONTAINER_NAMES=<nameTok>
	visible enginetest.Container
	byName  enginetest.Container // visible by its name alone
	running enginetest.Container // visible, started
	extra   []enginetest.Container
	hidden  enginetest.Container // started, with an env secret
	proxy   *testProxy
}

// visibleNames are the names `docker ps -a` must show through the proxy.
func (w *podmanWorld) visibleNames() []string {
	names := []string{w.visible.Name, w.byName.Name, w.running.Name}
	for _, c := range w.extra {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// TestPodman runs the proxy in front of Podman's Docker-compatible API
// (podman system service): what works, and that a hidden container is
// indistinguishable from a nonexistent one there too, in Podman's words.
func TestPodman(t *testing.T) {
	pm := enginetest.StartPodman(t)
	w := &podmanWorld{pm: pm, key: enginetest.UniqueName(t, "pk"), nameTok: enginetest.UniqueName(t, "pn")}
	app := map[string]string{w.key + ".app": "web"}
	w.visible = pm.Run(t, enginetest.RunSpec{Name: w.key + "-web", Labels: app, Env: []string{"VISIBLE_SECRET=visible-" + w.key}, NoStart: true})
	w.byName = pm.Run(t, enginetest.RunSpec{Name: w.nameTok + "-api", NoStart: true})
	w.running = pm.Run(t, enginetest.RunSpec{Name: w.key + "-run", Labels: app})
	w.hidden = pm.Run(t, enginetest.RunSpec{Name: w.key + "-db", Labels: map[string]string{"priv": w.key}, Env: []string{"DB_PASSWORD=hidden-" + w.key}})
	// Two visible containers whose IDs share a first digit, for an ID
	// prefix that is ambiguous among visible containers.
	for !w.ambiguousPrefixExists() {
		w.extra = append(w.extra, pm.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, w.key+"-x"), Labels: app, NoStart: true}))
	}
	w.proxy = startProxyEnv(t, pm.Host, map[string]string{
		"CONTAINER_NAMES":  w.nameTok,
		"CONTAINER_LABELS": w.key + ".app",
		"SCRUB_ENVS":       "true",
		"READ_ONLY":        "false",
		"POLL_INTERVAL":    "200ms",
	})

	t.Run("version", w.testVersion)
	t.Run("docker ps lists only visible containers", w.testList)
	t.Run("docker inspect scrubs envs", w.testInspect)
	t.Run("hidden answers like nonexistent in Podman's words", w.testHiddenLikeNonexistent)
	t.Run("ambiguous prefixes in Podman's words", w.testAmbiguous)
	t.Run("refs in queries and bodies", w.testRequestRefs)
	t.Run("hidden exec answers like nonexistent", w.testExec)
	t.Run("echoed refs", func(t *testing.T) {
		assertEchoesLikeNonexistent(t, w.proxy.Host, []string{w.hidden.Name, w.hidden.ID, w.hidden.ID[:12]}, w.key+".app")
	})
	t.Run("odd refs answer as Podman answers them", w.testOddRefs)
	t.Run("name conflicts name nothing hidden", w.testConflicts)
	t.Run("every API version is served as Podman serves it", w.testVersions)
	t.Run("events show only visible containers", w.testEvents)
	t.Run("the index follows Podman's events", w.testIndex)
	t.Run("start, logs and stop through the proxy", w.testStartLogsStop)
}

func (w *podmanWorld) ambiguousPrefixExists() bool {
	seen := map[byte]bool{}
	for _, c := range append([]enginetest.Container{w.visible, w.byName, w.running}, w.extra...) {
		if seen[c.ID[0]] {
			return true
		}
		seen[c.ID[0]] = true
	}
	return false
}

// ambiguousPrefix is an ID prefix shared by two visible containers.
func (w *podmanWorld) ambiguousPrefix() string {
	seen := map[byte]bool{}
	for _, c := range append([]enginetest.Container{w.visible, w.byName, w.running}, w.extra...) {
		if seen[c.ID[0]] {
			return c.ID[:1]
		}
		seen[c.ID[0]] = true
	}
	panic("no ambiguous prefix")
}

func (w *podmanWorld) testVersion(t *testing.T) {
	got := rawDo(t, w.proxy.Host, "GET", "/version", nil, nil)
	direct := rawDo(t, w.pm.Host, "GET", "/version", nil, nil)
	var v struct {
		Version, ApiVersion, MinAPIVersion string
		Components                         []struct{ Name, Version string }
	}
	if err := json.Unmarshal([]byte(got.Body), &v); err != nil || got.Status != http.StatusOK {
		t.Fatalf("/version through the proxy = %d %s", got.Status, got.Body)
	}
	if got.Body != direct.Body {
		t.Errorf("/version through the proxy differs from Podman's:\n%s\n%s", got.Body, direct.Body)
	}
	for _, h := range []string{"Api-Version", "Libpod-Api-Version", "Server"} {
		if got.Header.Get(h) != direct.Header.Get(h) || got.Header.Get(h) == "" {
			t.Errorf("%s through the proxy = %q, Podman's %q", h, got.Header.Get(h), direct.Header.Get(h))
		}
	}
	t.Logf("Podman %s: API %s (min %s), Server %q, components %v", v.Version, v.ApiVersion, v.MinAPIVersion, got.Header.Get("Server"), v.Components)
}

func (w *podmanWorld) testList(t *testing.T) {
	out, stderr, err := w.pm.Docker(t, w.proxy.Host, "ps", "-a", "--format", "{{.Names}}")
	if err != nil {
		t.Fatalf("docker ps -a through the proxy: %v\n%s", err, stderr)
	}
	got := strings.Fields(out)
	slices.Sort(got)
	if want := w.visibleNames(); !slices.Equal(got, want) {
		t.Errorf("docker ps -a through the proxy = %v, want %v", got, want)
	}
	out, _, err = w.pm.Docker(t, w.proxy.Host, "ps", "--format", "{{.Names}}")
	if err != nil || strings.TrimSpace(out) != w.running.Name {
		t.Errorf("docker ps through the proxy = %q, %v; want the running visible container %s", out, err, w.running.Name)
	}
	// The counts follow.
	var info struct{ Containers, ContainersRunning int }
	got2 := rawDo(t, w.proxy.Host, "GET", "/info", nil, nil)
	if err := json.Unmarshal([]byte(got2.Body), &info); err != nil || info.Containers != len(w.visibleNames()) || info.ContainersRunning != 1 {
		t.Errorf("/info through the proxy = %d, counts %+v; want %d containers, 1 running", got2.Status, info, len(w.visibleNames()))
	}
	for _, target := range []string{"/system/df", "/containers/json?all=1", "/info"} {
		if got := rawDo(t, w.proxy.Host, "GET", target, nil, nil); got.Status != http.StatusOK || strings.Contains(got.Body, w.hidden.ID[:12]) || strings.Contains(got.Body, w.hidden.Name) {
			t.Errorf("%s through the proxy = %d, or names the hidden container: %.300s", target, got.Status, got.Body)
		}
	}
}

func (w *podmanWorld) testInspect(t *testing.T) {
	out, stderr, err := w.pm.Docker(t, w.proxy.Host, "inspect", "--format", "{{.Id}} {{json .Config.Env}}", w.visible.Name)
	if err != nil || strings.TrimSpace(out) != w.visible.ID+" []" {
		t.Errorf("docker inspect %s through the proxy = %q %q %v, want its ID and an empty Env", w.visible.Name, out, stderr, err)
	}
	if env := w.pm.Inspect(t, w.visible.ID).Config.Env; !slices.Contains(env, "VISIBLE_SECRET=visible-"+w.key) {
		t.Fatalf("Podman's own inspect has Env %q (test premise: the secret is there)", env)
	}
	missing := w.key + "-xx" // the hidden name's length
	_, hiddenErr, err1 := w.pm.Docker(t, w.proxy.Host, "container", "inspect", w.hidden.Name)
	_, missingErr, err2 := w.pm.Docker(t, w.proxy.Host, "container", "inspect", missing)
	if err1 == nil || err2 == nil || strings.ReplaceAll(hiddenErr, w.hidden.Name, missing) != missingErr {
		t.Errorf("docker container inspect of the hidden container: %q (%v), of a nonexistent one: %q (%v); want the same", hiddenErr, err1, missingErr, err2)
	}
	_, direct, _ := w.pm.Docker(t, w.pm.Host, "container", "inspect", missing)
	if direct != missingErr {
		t.Errorf("docker container inspect of a nonexistent container: %q through the proxy, %q from Podman", missingErr, direct)
	}
}

// podmanContainerRoutes are the container routes, with what a client
// sends, compared between the proxy and Podman itself.
var podmanContainerRoutes = []struct{ method, target, body string }{
	{"GET", "/containers/{ref}/json", ""},
	{"GET", "/v1.41/containers/{ref}/json", ""},
	{"GET", "/containers/{ref}/logs?stdout=1", ""},
	{"GET", "/containers/{ref}/top", ""},
	{"GET", "/containers/{ref}/stats?stream=0", ""},
	{"GET", "/containers/{ref}/changes", ""},
	{"GET", "/containers/{ref}/export", ""},
	{"HEAD", "/containers/{ref}/archive?path=/", ""},
	{"GET", "/containers/{ref}/archive?path=/", ""},
	{"PUT", "/containers/{ref}/archive?path=/", "x"},
	{"POST", "/containers/{ref}/kill", ""},
	{"POST", "/containers/{ref}/pause", ""},
	{"POST", "/containers/{ref}/unpause", ""},
	{"POST", "/containers/{ref}/restart", ""},
	{"POST", "/containers/{ref}/start", ""},
	{"POST", "/containers/{ref}/stop", ""},
	{"POST", "/containers/{ref}/wait", ""},
	{"POST", "/containers/{ref}/resize?h=10&w=10", ""},
	{"POST", "/containers/{ref}/attach?stream=1&stdout=1", ""},
	{"POST", "/containers/{ref}/exec", `{"Cmd":["/app","echo"]}`},
	{"POST", "/containers/{ref}/rename?name=dpf-renamed", ""},
	{"POST", "/containers/{ref}/update", `{}`},
	{"POST", "/containers/{ref}/copy", `{"Resource":"/app"}`},
	{"GET", "/containers/{ref}/attach/ws", ""},
	{"GET", "/containers/{ref}/checkpoints", ""},
	{"DELETE", "/containers/{ref}", ""},
}

// podmanDo sends one request with a JSON body (if any).
func podmanDo(t *testing.T, host, method, target, body string) rawResponse {
	t.Helper()
	if body == "" {
		return rawDo(t, host, method, target, nil, nil)
	}
	return rawDo(t, host, method, target, strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
}

// assertPodmanAnswer compares an answer of the proxy with Podman's own:
// status, body and headers but Date and the value of X-Reference-Id (a
// pointer of the process that answers).
func assertPodmanAnswer(t *testing.T, got, want rawResponse) {
	t.Helper()
	strip := func(r rawResponse) rawResponse {
		r.Header = r.Header.Clone()
		if r.Header.Get("X-Reference-Id") != "" {
			r.Header.Set("X-Reference-Id", "<pointer>")
		}
		return r
	}
	assertSameAnswer(t, strip(got), strip(want))
}

func (w *podmanWorld) testHiddenLikeNonexistent(t *testing.T) {
	for _, ref := range []string{w.hidden.Name, w.hidden.ID, w.hidden.ID[:12]} {
		// Nothing has these: zeros for an ID, a name for a name.
		missing := strings.Repeat("0", len(ref))
		if !isLowerHex(ref) {
			missing = w.key + "-xx"
		}
		for _, rt := range podmanContainerRoutes {
			target := strings.ReplaceAll(rt.target, "{ref}", ref)
			t.Run(rt.method+" "+target, func(t *testing.T) {
				missingTarget := strings.ReplaceAll(rt.target, "{ref}", missing)
				got := podmanDo(t, w.proxy.Host, rt.method, target, rt.body)
				viaProxy := podmanDo(t, w.proxy.Host, rt.method, missingTarget, rt.body)
				podman := podmanDo(t, w.pm.Host, rt.method, missingTarget, rt.body)
				// Hidden and nonexistent through the proxy, and the
				// nonexistent one from Podman itself: one answer.
				assertPodmanAnswer(t, got, substitute(viaProxy, missing, ref))
				assertPodmanAnswer(t, viaProxy, podman)
			})
		}
	}
	if !w.pm.Exists(t, w.hidden.ID) || !w.pm.Inspect(t, w.hidden.ID).State.Running {
		t.Errorf("the hidden container was removed or stopped through the proxy")
	}
}

func (w *podmanWorld) testAmbiguous(t *testing.T) {
	prefix := w.ambiguousPrefix()
	for _, rt := range podmanContainerRoutes {
		if strings.HasSuffix(rt.target, "/changes") {
			// Podman resolves a changes ref among layers too: an ID
			// prefix may name one layer. Not emulated.
			continue
		}
		target := strings.ReplaceAll(rt.target, "{ref}", prefix)
		t.Run(rt.method+" "+target, func(t *testing.T) {
			got := podmanDo(t, w.proxy.Host, rt.method, target, rt.body)
			podman := podmanDo(t, w.pm.Host, rt.method, target, rt.body)
			assertPodmanAnswer(t, got, podman)
		})
	}
}

func (w *podmanWorld) testRequestRefs(t *testing.T) {
	image := w.pm.TestImage(t)
	ctx := context.Background()
	network := enginetest.UniqueName(t, "pnet")
	if _, err := w.pm.Client.NetworkCreate(ctx, network, client.NetworkCreateOptions{Driver: "bridge"}); err != nil {
		t.Fatalf("create network: %v", err)
	}
	t.Cleanup(func() { _, _ = w.pm.Client.NetworkRemove(context.Background(), network, client.NetworkRemoveOptions{}) })
	filter := func(key, ref string) string {
		return "/containers/json?all=1&filters=" + strings.NewReplacer(`"`, "%22", "{", "%7B", "}", "%7D", "[", "%5B", "]", "%5D", ":", "%3A").Replace(`{"`+key+`":["`+ref+`"]}`)
	}
	create := func(hostConfig string) string {
		return `{"Image":"` + image + `","Labels":{"` + w.key + `.app":"new"},"HostConfig":` + hostConfig + `}`
	}
	for _, ref := range []string{w.hidden.Name, w.hidden.ID[:12]} {
		missing := strings.Repeat("0", len(ref))
		if !isLowerHex(ref) {
			missing = w.key + "-xx"
		}
		for _, rq := range []struct{ name, method, target, body string }{
			{"list filter before", "GET", filter("before", "{ref}"), ""},
			{"list filter since", "GET", filter("since", "{ref}"), ""},
			{"network connect", "POST", "/networks/" + network + "/connect", `{"Container":"{ref}"}`},
			{"network disconnect", "POST", "/networks/" + network + "/disconnect", `{"Container":"{ref}"}`},
			{"network disconnect with force", "POST", "/networks/" + network + "/disconnect", `{"Container":"{ref}","Force":true}`},
			{"commit", "POST", "/commit?container={ref}&repo=dpf-commit", `{}`},
			{"create with VolumesFrom", "POST", "/containers/create", create(`{"NetworkMode":"none","VolumesFrom":["{ref}:ro"]}`)},
			{"create with a link", "POST", "/containers/create", create(`{"NetworkMode":"none","Links":["{ref}:db"]}`)},
			{"create joining a network namespace", "POST", "/containers/create", create(`{"NetworkMode":"container:{ref}"}`)},
			{"create joining a pid namespace", "POST", "/containers/create", create(`{"NetworkMode":"none","PidMode":"container:{ref}"}`)},
			{"create joining an ipc namespace", "POST", "/containers/create", create(`{"NetworkMode":"none","IpcMode":"container:{ref}"}`)},
		} {
			t.Run(rq.name+" "+ref, func(t *testing.T) {
				sub := func(s, r string) string { return strings.ReplaceAll(s, "{ref}", r) }
				got := podmanDo(t, w.proxy.Host, rq.method, sub(rq.target, ref), sub(rq.body, ref))
				viaProxy := podmanDo(t, w.proxy.Host, rq.method, sub(rq.target, missing), sub(rq.body, missing))
				podman := podmanDo(t, w.pm.Host, rq.method, sub(rq.target, missing), sub(rq.body, missing))
				if podman.Status < 400 {
					t.Fatalf("Podman accepted a request naming no container: %d %s", podman.Status, podman.Body)
				}
				assertPodmanAnswer(t, got, substitute(viaProxy, missing, ref))
				assertPodmanAnswer(t, viaProxy, podman)
			})
		}
	}
	// A visible ID prefix in a list filter is resolved as Podman does.
	got := rawDo(t, w.proxy.Host, "GET", filter("since", w.visible.ID[:12]), nil, nil)
	if got.Status != http.StatusOK {
		t.Errorf("list filter since=<visible ID prefix> through the proxy = %d %s, want 200 as from Podman", got.Status, got.Body)
	}
}

func (w *podmanWorld) testExec(t *testing.T) {
	ctx := context.Background()
	ex, err := w.pm.Client.ExecCreate(ctx, w.hidden.ID, client.ExecCreateOptions{Cmd: []string{"/app", "echo", "x"}})
	if err != nil {
		t.Fatalf("exec create on the hidden container: %v", err)
	}
	missing := strings.Repeat("0", len(ex.ID))
	for _, rt := range []struct{ method, target, body string }{
		{"GET", "/exec/{ref}/json", ""},
		{"POST", "/exec/{ref}/start", `{"Detach":true}`},
		{"POST", "/exec/{ref}/resize?h=10&w=10", ""},
	} {
		t.Run(rt.method+" "+rt.target, func(t *testing.T) {
			got := podmanDo(t, w.proxy.Host, rt.method, strings.ReplaceAll(rt.target, "{ref}", ex.ID), rt.body)
			podman := podmanDo(t, w.pm.Host, rt.method, strings.ReplaceAll(rt.target, "{ref}", missing), rt.body)
			assertPodmanAnswer(t, got, substitute(podman, missing, ex.ID))
		})
	}
	// A visible container's exec works through the proxy.
	out, stderr, err := w.pm.Docker(t, w.proxy.Host, "exec", w.running.Name, "/app", "echo", "through-the-proxy")
	if err != nil || strings.TrimSpace(out) != "through-the-proxy" {
		t.Errorf("docker exec on the visible container through the proxy = %q %q %v", out, stderr, err)
	}
}

func (w *podmanWorld) testVersions(t *testing.T) {
	// Podman serves any version, errors always as JSON; the proxy refuses
	// none (the SDK pinned to a newer version than 1.41 keeps working).
	for _, version := range []string{"/v1.20", "/v1.23", "/v1.24", "/v1.41", "/v1.45", "/v1.99"} {
		t.Run(version, func(t *testing.T) {
			got := rawDo(t, w.proxy.Host, "GET", version+"/containers/json?all=1", nil, nil)
			if got.Status != http.StatusOK || len(listIDs(t, got.Body)) != len(w.visibleNames()) {
				t.Errorf("%s list through the proxy = %d %.200s, want the %d visible containers", version, got.Status, got.Body, len(w.visibleNames()))
			}
			missing := w.key + "-xx"
			got = rawDo(t, w.proxy.Host, "GET", version+"/containers/"+w.hidden.Name+"/json", nil, nil)
			podman := rawDo(t, w.pm.Host, "GET", version+"/containers/"+missing+"/json", nil, nil)
			assertPodmanAnswer(t, got, substitute(podman, missing, w.hidden.Name))
		})
	}
}

func (w *podmanWorld) testEvents(t *testing.T) {
	since := time.Now().Add(-time.Second).Unix()
	cmd := w.pm.DockerCmd(t, w.proxy.Host, "events", "--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.ID}}")
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
	time.Sleep(500 * time.Millisecond) // let the stream open

	ctx := context.Background()
	hidden := w.pm.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "phid"), NoStart: true})
	visible := w.pm.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "pvis"), Labels: map[string]string{w.key + ".app": "ev"}, NoStart: true})
	for _, c := range []enginetest.Container{hidden, visible} {
		if _, err := w.pm.Client.ContainerRename(ctx, c.ID, client.ContainerRenameOptions{NewName: c.Name + "-b"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.pm.Client.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"create " + visible.Name + " " + visible.ID,
		"rename " + visible.Name + "-b " + visible.ID,
		"remove " + visible.Name + "-b " + visible.ID,
	}
	var seen []string
	deadline := time.After(20 * time.Second)
	for !slices.Contains(seen, want[len(want)-1]) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("docker events ended; saw %q", seen)
			}
			seen = append(seen, l)
		case <-deadline:
			t.Fatalf("the visible container's remove event did not arrive; saw %q", seen)
		}
	}
	check := func(what string, seen []string) {
		t.Helper()
		for _, l := range want {
			if !slices.Contains(seen, l) {
				t.Errorf("%s events lack %q; saw %q", what, l, seen)
			}
		}
		for _, l := range seen {
			if strings.Contains(l, hidden.ID) || strings.Contains(l, hidden.Name) {
				t.Errorf("%s events show the hidden container: %q", what, l)
			}
		}
	}
	check("live", seen)

	// A replay from Podman's events log decides the same. Podman 4.3
	// replays nothing when until is in the past (its own CLI does), so
	// the replay is a stream with since, ended by the client.
	replay := w.pm.DockerCmd(t, w.proxy.Host, "events", "--since", strconv.FormatInt(since, 10),
		"--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.ID}}")
	rout, err := replay.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := replay.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = replay.Process.Kill(); _ = replay.Wait() }()
	var replayed []string
	sc := bufio.NewScanner(rout)
	for !slices.Contains(replayed, want[len(want)-1]) && sc.Scan() {
		replayed = append(replayed, sc.Text())
	}
	check("replayed", replayed)
}

func (w *podmanWorld) testIndex(t *testing.T) {
	enginetest.Eventually(t, 10*time.Second, "the index follows Podman's events", func() bool { return w.proxy.Index.State() == index.Live })
	// Created behind the proxy's back: the index learns both from the
	// events stream, before any request names them, and forgets them when
	// Podman removes them (its event says "remove" where Docker's says
	// "destroy").
	before := w.proxy.Index.Len()
	visible := w.pm.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "pidx"), Labels: map[string]string{w.key + ".app": "idx"}, NoStart: true})
	hidden := w.pm.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "pidxh"), NoStart: true})
	enginetest.Eventually(t, 10*time.Second, "the index learns the new containers from Podman's events", func() bool {
		_, v, ok1 := w.proxy.Index.Seen(visible.ID)
		_, h, ok2 := w.proxy.Index.Seen(hidden.ID)
		return ok1 && ok2 && v && !h && w.proxy.Index.Len() == before+2
	})
	for _, c := range []enginetest.Container{visible, hidden} {
		if _, err := w.pm.Client.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	enginetest.Eventually(t, 10*time.Second, "the index forgets removed containers", func() bool { return w.proxy.Index.Len() == before })
	// And one created a moment ago is found at once.
	fresh := w.pm.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "pnew"), Labels: map[string]string{w.key + ".app": "new"}, NoStart: true})
	out, stderr, err := w.pm.Docker(t, w.proxy.Host, "inspect", "--format", "{{.Id}}", fresh.Name)
	if err != nil || strings.TrimSpace(out) != fresh.ID {
		t.Errorf("docker inspect of a container created a moment ago = %q %q %v, want %s", out, stderr, err, fresh.ID)
	}
	if _, err := w.pm.Client.ContainerRemove(context.Background(), fresh.ID, client.ContainerRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 10*time.Second, "a removed container answers like a nonexistent one", func() bool {
		return rawDo(t, w.proxy.Host, "GET", "/containers/"+fresh.Name+"/json", nil, nil).Status == http.StatusNotFound
	})
}

func (w *podmanWorld) testStartLogsStop(t *testing.T) {
	c := w.pm.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "pstart"), Labels: map[string]string{w.key + ".app": "start"}, NoStart: true})
	if _, stderr, err := w.pm.Docker(t, w.proxy.Host, "start", c.Name); err != nil {
		t.Fatalf("docker start through the proxy: %v %s", err, stderr)
	}
	w.pm.WaitLog(t, c.ID, "tick 2", 30*time.Second)
	out, stderr, err := w.pm.Docker(t, w.proxy.Host, "logs", c.Name)
	if err != nil || !strings.Contains(out, "tick 1") {
		t.Errorf("docker logs through the proxy = %q %q %v", out, stderr, err)
	}
	if _, stderr, err := w.pm.Docker(t, w.proxy.Host, "stop", "-t", "5", c.Name); err != nil {
		t.Errorf("docker stop through the proxy: %v %s", err, stderr)
	}
	if st := w.pm.Inspect(t, c.ID).State; st.Running || st.ExitCode != 0 {
		t.Errorf("after docker stop: running %v, exit code %d; want stopped by SIGTERM (0)", st.Running, st.ExitCode)
	}
	if _, _, err := w.pm.Docker(t, w.proxy.Host, "start", w.hidden.Name); err == nil {
		t.Errorf("docker start of the hidden container through the proxy succeeded")
	}
}

func (w *podmanWorld) testOddRefs(t *testing.T) {
	for _, target := range []string{
		"/containers/a%3Cb%26%22%C3%A9%01/json", // HTML-escaped and %q-quoted
		"/containers/%20/json",
		"/containers/x/y/json", // no Podman route has a slash in a ref
		"/containers/x/logs/json",
		"/v1.23/containers/x/y/json",
	} {
		t.Run(target, func(t *testing.T) {
			assertPodmanAnswer(t, rawDo(t, w.proxy.Host, "GET", target, nil, nil), rawDo(t, w.pm.Host, "GET", target, nil, nil))
		})
	}
}

func (w *podmanWorld) testConflicts(t *testing.T) {
	image := w.pm.TestImage(t)
	for _, rq := range []struct{ name, method, target, body string }{
		{"rename", "POST", "/containers/" + w.visible.Name + "/rename?name=" + w.hidden.Name, ""},
		{"create", "POST", "/containers/create?name=" + w.hidden.Name, `{"Image":"` + image + `","Labels":{"` + w.key + `.app":"x"},"HostConfig":{"NetworkMode":"none"}}`},
	} {
		t.Run(rq.name, func(t *testing.T) {
			direct := podmanDo(t, w.pm.Host, rq.method, strings.ReplaceAll(rq.target, w.visible.Name, w.visible.ID), rq.body)
			got := podmanDo(t, w.proxy.Host, rq.method, rq.target, rq.body)
			pe, ok := decodePodmanError([]byte(got.Body))
			if got.Status != direct.Status || !ok || got.Header.Get("X-Reference-Id") == "" {
				t.Errorf("through the proxy: %d %s, want Podman's %d in its shape", got.Status, got.Body, direct.Status)
			}
			if strings.Contains(got.Body, w.hidden.ID[:12]) || strings.Contains(got.Body, w.hidden.Name) || !strings.Contains(pe.Message, hiddenPlaceholder) {
				t.Errorf("the conflict names the hidden container: %s (Podman's: %s)", got.Body, direct.Body)
			}
		})
	}
}
