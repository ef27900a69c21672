package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// listIDs decodes a container list answer into its IDs, in order.
func listIDs(t *testing.T, body string) []string {
	t.Helper()
	var list []struct{ Id string }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("list answer is not a JSON array of containers: %v\n%s", err, body)
	}
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.Id
	}
	return ids
}

func TestEngineListShowsOnlyVisibleContainers(t *testing.T) {
	s := newScenario(t, false)

	// The real docker CLI sees the visible containers, and nothing else on
	// the engine.
	out, _, err := s.e.Docker(t, s.proxy.Host, "ps", "-a", "--format", "{{.Names}}")
	if err != nil {
		t.Fatalf("docker ps through the proxy: %v", err)
	}
	got := strings.Fields(out)
	slices.Sort(got)
	want := []string{s.stopped.Name, s.visible.Name}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("docker ps -a through the proxy = %v, want %v", got, want)
	}

	// Each kept element is byte-identical to the engine's own (Status
	// strings tick every second, so retry until both answers line up).
	enginetest.Eventually(t, 10*time.Second, "proxy list elements equal the engine's", func() bool {
		viaProxy := rawDo(t, s.proxy.Host, "GET", "/containers/json?all=1", nil, nil)
		direct := rawDo(t, s.e.Host, "GET", "/containers/json?all=1", nil, nil)
		var p, d []json.RawMessage
		if json.Unmarshal([]byte(viaProxy.Body), &p) != nil || json.Unmarshal([]byte(direct.Body), &d) != nil {
			t.Fatalf("list answers are not JSON arrays:\n%s\n%s", viaProxy.Body, direct.Body)
		}
		var want []json.RawMessage
		for _, el := range d {
			if strings.Contains(string(el), `"`+s.key+`.app"`) {
				want = append(want, el)
			}
		}
		if len(p) != len(want) {
			t.Fatalf("proxy list has %d elements, want %d", len(p), len(want))
		}
		for i := range p {
			if string(p[i]) != string(want[i]) {
				return false
			}
		}
		return true
	})

	// The SDK agrees, including with filters passed through.
	res, err := s.proxy.Client.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("status", "created"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].ID != s.stopped.ID {
		t.Errorf("SDK list with status=created through the proxy = %d items, want just %s", len(res.Items), s.stopped.Name)
	}
}

func TestEngineListLimitAppliesAfterFiltering(t *testing.T) {
	s := newScenario(t, false)
	// The newest container on the engine is hidden: the engine's own limit=1
	// would pick it, the proxy must pick the newest visible one.
	newest := s.e.Run(t, enginetest.RunSpec{Labels: map[string]string{s.key + ".priv": "late"}, NoStart: true})

	direct := listIDs(t, rawDo(t, s.e.Host, "GET", "/containers/json?all=1&limit=1", nil, nil).Body)
	if len(direct) != 1 || direct[0] != newest.ID {
		t.Fatalf("engine limit=1 = %v, want the newest container %s (test premise)", direct, newest.ID)
	}
	out, _, err := s.e.Docker(t, s.proxy.Host, "ps", "-a", "-n", "1", "--format", "{{.Names}}")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out); got != s.stopped.Name {
		t.Errorf("docker ps -a -n 1 through the proxy = %q, want the newest visible container %q", got, s.stopped.Name)
	}
	viaProxy := listIDs(t, rawDo(t, s.proxy.Host, "GET", "/v1.41/containers/json?all=1&limit=2", nil, nil).Body)
	if want := []string{s.stopped.ID, s.visible.ID}; !slices.Equal(viaProxy, want) {
		t.Errorf("limit=2 through the proxy = %v, want %v", viaProxy, want)
	}
}

func TestEngineInspectResolvesLikeTheEngine(t *testing.T) {
	s := newScenario(t, false)
	for _, ref := range []string{s.visible.ID, s.visible.Name, "/" + s.visible.Name, s.visible.ID[:12], s.visible.ID[:5]} {
		t.Run("visible "+ref, func(t *testing.T) {
			res, err := s.proxy.Client.ContainerInspect(context.Background(), ref, client.ContainerInspectOptions{})
			if err != nil {
				t.Fatalf("inspect %q through the proxy: %v", ref, err)
			}
			if res.Container.ID != s.visible.ID {
				t.Errorf("inspect %q = %s, want %s", ref, res.Container.ID, s.visible.ID)
			}
		})
	}
	out, _, err := s.e.Docker(t, s.proxy.Host, "inspect", "--format", "{{.Id}}", s.visible.Name)
	if err != nil || strings.TrimSpace(out) != s.visible.ID {
		t.Errorf("docker inspect %s through the proxy = %q, %v; want %s", s.visible.Name, out, err, s.visible.ID)
	}
	_, stderr, err := s.e.Docker(t, s.proxy.Host, "container", "inspect", s.hidden.Name)
	if err == nil || !strings.Contains(stderr, "No such container: "+s.hidden.Name) {
		t.Errorf("docker container inspect of a hidden container: err %v, stderr %q; want No such container", err, stderr)
	}
}

func TestEngineHiddenAnswersLikeNonexistent(t *testing.T) {
	s := newScenario(t, false)
	missing := enginetest.UniqueName(t, "missing")
	for _, ref := range []string{s.hidden.Name, s.hidden.ID, s.hidden.ID[:12]} {
		for _, version := range []string{"", "/v1.41"} {
			target := version + "/containers/" + url.PathEscape(ref) + "/json"
			t.Run(target, func(t *testing.T) {
				got := rawDo(t, s.proxy.Host, "GET", target, nil, nil)
				want := rawDo(t, s.e.Host, "GET", strings.Replace(target, url.PathEscape(ref), missing, 1), nil, nil)
				want = substitute(want, missing, jsonEscape(ref))
				assertSameAnswer(t, got, want)
			})
		}
	}
}

// substitute replaces old by new in an answer's body, keeping its framing
// headers consistent, so an engine answer about one ref can stand for the
// answer about another.
func substitute(r rawResponse, old, new string) rawResponse {
	n := strings.Count(r.Body, old)
	r.Body = strings.ReplaceAll(r.Body, old, new)
	r.Header = r.Header.Clone()
	if cl, err := strconv.Atoi(r.Header.Get("Content-Length")); err == nil {
		if r.Body == "" && cl > 0 {
			n = 1 // a HEAD answer: the length of the JSON message it stands for
		}
		r.Header.Set("Content-Length", strconv.Itoa(cl+n*(len(new)-len(old))))
	}
	return r
}

// jsonEscape escapes s as encoding/json writes it inside a string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func assertSameAnswer(t *testing.T, got, want rawResponse) {
	t.Helper()
	if got.Status != want.Status || got.Body != want.Body {
		t.Errorf("answer = %d %q, want the engine's %d %q", got.Status, got.Body, want.Status, want.Body)
	}
	gh, wh := comparableHeader(got.Header), comparableHeader(want.Header)
	for k := range wh {
		if !slices.Equal(gh[k], wh[k]) {
			t.Errorf("header %s = %q, want the engine's %q", k, gh[k], wh[k])
		}
	}
	for k := range gh {
		if _, ok := wh[k]; !ok {
			t.Errorf("extra header %s: %q (the engine sends none)", k, gh[k])
		}
	}
}

func TestEngineLogsFollowStreams(t *testing.T) {
	s := newScenario(t, false)
	cmd := s.e.DockerCmd(t, s.proxy.Host, "logs", "-f", "--since", "0", s.visible.Name)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// New lines arrive as the container writes them (every 200ms): at least
	// three within a few seconds proves the stream is flushed, not buffered.
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	var got []string
	for len(got) < 3 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("logs -f ended after %q", got)
			}
			if strings.HasPrefix(l, "tick ") {
				got = append(got, l)
			}
		case <-deadline:
			t.Fatalf("logs -f through the proxy gave %q within 10s, want 3 ticks", got)
		}
	}
}

func TestEngineStatsAndExec(t *testing.T) {
	s := newScenario(t, false)
	out, stderr, err := s.e.Docker(t, s.proxy.Host, "stats", "--no-stream", "--format", "{{.Name}}", s.visible.Name)
	if err != nil || strings.TrimSpace(out) != s.visible.Name {
		t.Errorf("docker stats --no-stream = %q, %v (%s); want %s", out, err, stderr, s.visible.Name)
	}
	out, stderr, err = s.e.Docker(t, s.proxy.Host, "exec", s.visible.Name, "/app", "echo", "hello", "through", "proxy")
	if err != nil || strings.TrimSpace(out) != "hello through proxy" {
		t.Errorf("docker exec into a visible container = %q, %v (%s)", out, err, stderr)
	}

	// Interactive exec: the hijacked (101) connection carries stdin to the
	// container and its output back.
	cmd := s.e.DockerCmd(t, s.proxy.Host, "exec", "-i", s.visible.Name, "/app", "cat")
	cmd.Stdin = strings.NewReader("round trip\n")
	b, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(b)) != "round trip" {
		t.Errorf("docker exec -i cat = %q, %v; want the input echoed", b, err)
	}

	_, stderr, err = s.e.Docker(t, s.proxy.Host, "exec", s.hidden.Name, "/app", "echo", "no")
	if err == nil || !strings.Contains(stderr, "No such container") {
		t.Errorf("docker exec into a hidden container: err %v, stderr %q; want No such container", err, stderr)
	}
}

func TestEngineScrubEnvs(t *testing.T) {
	s := newScenario(t, true)
	// A created container's inspect answer is stable: byte-compare it with
	// the engine's, Env aside.
	got := rawDo(t, s.proxy.Host, "GET", "/containers/"+s.stopped.Name+"/json", nil, nil)
	direct := rawDo(t, s.e.Host, "GET", "/containers/"+s.stopped.Name+"/json", nil, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("inspect through the proxy: %d %s", got.Status, got.Body)
	}
	var env struct{ Config struct{ Env []string } }
	if err := json.Unmarshal([]byte(direct.Body), &env); err != nil || len(env.Config.Env) == 0 {
		t.Fatalf("engine inspect has no env to scrub (test premise): %v", err)
	}
	envJSON, _ := json.Marshal(env.Config.Env)
	want := strings.Replace(direct.Body, `"Env":`+string(envJSON), `"Env":[]`, 1)
	if got.Body != want {
		t.Errorf("scrubbed inspect differs from the engine's beyond Env:\n got %s\nwant %s", got.Body, want)
	}

	res, err := s.proxy.Client.ContainerInspect(context.Background(), s.visible.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Container.Config.Env) != 0 || strings.Contains(string(res.Raw), "visible-"+s.key) {
		t.Errorf("Config.Env through the proxy = %q, want []", res.Container.Config.Env)
	}
}

func TestEnginePingIsTransparent(t *testing.T) {
	s := newScenario(t, false)
	for _, method := range []string{"GET", "HEAD"} {
		for _, path := range []string{"/_ping", "/v1.41/_ping"} {
			t.Run(method+" "+path, func(t *testing.T) {
				assertSameAnswer(t, rawDo(t, s.proxy.Host, method, path, nil, nil), rawDo(t, s.e.Host, method, path, nil, nil))
			})
		}
	}
}

// Paths the engine's router would not serve as written (dot segments,
// empty segments) get the engine's own redirect to the cleaned path, which
// a client following it sends as a new request, decided afresh; nothing
// about the path reaches the upstream. An encoded slash that would change
// the route is refused.
func TestEngineRedirectsUncleanPathsLikeTheEngine(t *testing.T) {
	s := newScenario(t, false)
	for _, target := range []string{
		"/containers/" + s.visible.Name + "/../" + s.hidden.Name + "/json",
		"//containers/" + s.hidden.Name + "/json",
		"/containers//" + s.visible.Name + "/json?size=1",
		"/containers/" + s.visible.Name + "/%2e%2e/" + s.hidden.Name + "/json",
		"/v1.41/containers/./" + s.hidden.Name + "/json",
	} {
		t.Run(target, func(t *testing.T) {
			got := rawDo(t, s.proxy.Host, "GET", target, nil, nil)
			want := rawDo(t, s.e.Host, "GET", target, nil, nil)
			if want.Status != http.StatusMovedPermanently {
				t.Fatalf("test premise: the engine redirects %s: %d", target, want.Status)
			}
			assertSameAnswer(t, got, want)
			// Followed, the redirect is decided like any request.
			if loc := got.Header.Get("Location"); strings.Contains(loc, s.hidden.Name) {
				if next := rawDo(t, s.proxy.Host, "GET", loc, nil, nil); next.Status != http.StatusNotFound {
					t.Errorf("following %s = %d, want the hidden container's 404", loc, next.Status)
				}
			}
		})
	}
	got := rawDo(t, s.proxy.Host, "GET", "/containers/"+s.hidden.Name+"%2Fjson", nil, nil)
	if got.Status != http.StatusBadRequest || !strings.HasPrefix(got.Header.Get("Content-Type"), "application/json") || strings.Contains(got.Body, s.hidden.ID[:12]) {
		t.Errorf("an encoded slash that changes the route = %d %s, want a JSON 400", got.Status, got.Body)
	}
	if leaked := s.seen.mentioning(s.hidden.Name, s.hidden.ID); len(leaked) > 0 {
		t.Errorf("unclean paths reached the upstream: %q", leaked)
	}
}

func TestEngineOddRefsAnswerLikeTheEngine(t *testing.T) {
	s := newScenario(t, false)
	long := strings.Repeat("a", 100<<10)
	// "%0a": a newline matches no engine route ({name:.*} is a Go regexp),
	// and a route the proxy does not know is refused with a 403.
	if got := rawDo(t, s.proxy.Host, "GET", "/containers/%0a/json", nil, nil); got.Status != http.StatusForbidden {
		t.Errorf("GET /containers/%%0a/json = %d %s, want 403 (no such route)", got.Status, got.Body)
	}
	for _, ref := range []string{"%00", "%22", "a%22b%3Cc", "%E2%80%AE", "x%20y", long} {
		target := "/containers/" + ref + "/json"
		name := target
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			assertSameAnswer(t, rawDo(t, s.proxy.Host, "GET", target, nil, nil), rawDo(t, s.e.Host, "GET", target, nil, nil))
		})
	}
}

func TestEngineOldAndUnsupportedVersionsAnswerLikeTheEngine(t *testing.T) {
	s := newScenario(t, false)
	missing := enginetest.UniqueName(t, "missing")
	for _, tc := range []struct{ method, target string }{
		{"GET", "/v1.23/containers/REF/json"},   // below 1.24: plain-text errors
		{"POST", "/v1.12/containers/REF/kill"},  // the oldest version 20.10 accepts
		{"GET", "/v1.11/containers/REF/json"},   // too old: refused before routing
		{"GET", "/v9.99/containers/REF/json"},   // too new
		{"GET", "/v1.99.0/containers/REF/logs"}, // too new, three parts
	} {
		t.Run(tc.target, func(t *testing.T) {
			got := rawDo(t, s.proxy.Host, tc.method, strings.Replace(tc.target, "REF", s.hidden.Name, 1), nil, nil)
			want := rawDo(t, s.e.Host, tc.method, strings.Replace(tc.target, "REF", missing, 1), nil, nil)
			assertSameAnswer(t, got, substitute(want, missing, s.hidden.Name))
		})
	}
	// A start body (honoured below API 1.24 by engines that serve it)
	// naming the hidden container: the engine's answer for a missing one.
	got := rawDo(t, s.proxy.Host, "POST", "/v1.23/containers/"+s.stopped.Name+"/start", strings.NewReader(`{"PidMode":"container:`+s.hidden.Name+`"}`), jsonHeader)
	want := rawDo(t, s.e.Host, "POST", "/v1.23/containers/"+s.stopped.Name+"/start", strings.NewReader(`{"PidMode":"container:`+missing+`"}`), jsonHeader)
	assertSameAnswer(t, got, substitute(want, missing, s.hidden.Name))
	if in := s.e.Inspect(t, s.stopped.ID); in.State.Running {
		t.Error("the container was started joining the hidden one")
	}
}
