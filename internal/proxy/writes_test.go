package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// With READ_ONLY=false, writes are decided like reads: references to hidden
// containers in bodies and queries act like references to missing ones, and
// what the client creates must be visible to it.

func TestEngineCreateChecksReferencesAndVisibility(t *testing.T) {
	s := newScenario(t, false)
	image := s.e.TestImage(t)
	missing := enginetest.UniqueName(t, "missing")
	create := func(host, name, body string) rawResponse {
		return rawDo(t, host, "POST", "/containers/create?name="+url.QueryEscape(name), strings.NewReader(body), jsonHeader)
	}
	cleanup := func(name string) {
		_, _ = s.e.Client.ContainerRemove(context.Background(), name, client.ContainerRemoveOptions{Force: true})
	}

	for _, tpl := range []string{
		`{"Image":"IMG","Labels":{"KEY.app":"x"},"HostConfig":{"PidMode":"container:REF"}}`,
		`{"Image":"IMG","Labels":{"KEY.app":"x"},"HostConfig":{"IpcMode":"container:REF"}}`,
		`{"Image":"IMG","Labels":{"KEY.app":"x"},"HostConfig":{"VolumesFrom":["REF:ro"]}}`,
		`{"Image":"IMG","Labels":{"KEY.app":"x"},"HostConfig":{"Links":["REF:db"]}}`,
		`{"Image":"IMG","Labels":{"KEY.app":"x"},"hostconfig":{"PIDMODE":"container:REF"}}`,
		`{"Image":"IMG","Labels":{"KEY.app":"x"},"PidMode":"container:REF"}`,
	} {
		body := strings.NewReplacer("IMG", image, "KEY", s.key).Replace(tpl)
		name, direct := enginetest.UniqueName(t, "new"), enginetest.UniqueName(t, "direct")
		got := create(s.proxy.Host, name, strings.Replace(body, "REF", s.hidden.Name, 1))
		want := create(s.e.Host, direct, strings.Replace(body, "REF", missing, 1))
		cleanup(name)
		cleanup(direct)
		if want.Status == http.StatusCreated {
			// An engine that ignores the field (Engine 27 and later read no
			// top-level HostConfig): created either way, with its own ID.
			if got.Status != http.StatusCreated {
				t.Errorf("%s: through the proxy = %d %s, want 201 as the engine", tpl, got.Status, got.Body)
			}
			continue
		}
		want = substitute(want, missing, s.hidden.Name)
		assertSameAnswer(t, got, want)
	}
	if leaked := s.seen.mentioning(s.hidden.Name); len(leaked) > 0 {
		t.Errorf("creates referencing the hidden container reached the upstream: %q", leaked)
	}

	// A visible reference works.
	name := enginetest.UniqueName(t, "joins")
	t.Cleanup(func() { cleanup(name) })
	got := create(s.proxy.Host, name, `{"Image":"`+image+`","Labels":{"`+s.key+`.app":"x"},"HostConfig":{"PidMode":"container:`+s.visible.Name+`"}}`)
	if got.Status != http.StatusCreated {
		t.Errorf("create sharing a visible container's pid namespace = %d %s, want 201", got.Status, got.Body)
	}

	// A container the client could not see is not created.
	hiddenNew := enginetest.UniqueName(t, "unlabelled")
	got = create(s.proxy.Host, hiddenNew, `{"Image":"`+image+`"}`)
	if got.Status != http.StatusForbidden {
		t.Errorf("create of a container that would be hidden = %d %s, want 403", got.Status, got.Body)
	}
	if s.e.Exists(t, hiddenNew) {
		cleanup(hiddenNew)
		t.Error("the hidden container was created")
	}
	// Without a name (the engine picks one) it is refused before the engine
	// is asked, not created and removed again.
	got = rawDo(t, s.proxy.Host, "POST", "/containers/create", strings.NewReader(`{"Image":"`+image+`"}`), jsonHeader)
	if got.Status != http.StatusForbidden {
		t.Errorf("nameless create of a container that would be hidden = %d %s, want 403", got.Status, got.Body)
	}
	for _, req := range s.seen.mentioning("/containers/create") {
		if strings.HasPrefix(req, "POST /containers/create? ") {
			t.Errorf("the nameless hidden create reached the engine: %q", req)
		}
	}
}

func TestEngineReferencesInQueriesAndNetworkBodies(t *testing.T) {
	s := newScenario(t, false)
	net := s.e.Network(t, "")
	member := s.e.Run(t, enginetest.RunSpec{Network: net, Labels: map[string]string{s.key + ".priv": "net"}})
	s.hidden = member // the hidden container for this test: on a network
	missing := enginetest.UniqueName(t, "missing")
	for _, tc := range []struct{ method, target, body string }{
		{"POST", "/commit?container=REF&repo=x", ""},
		{"GET", "/containers/json?filters=" + url.QueryEscape(`{"before":["REF"]}`), ""},
		{"GET", "/containers/json?filters=" + url.QueryEscape(`{"since":{"REF":true}}`), ""},
		{"POST", "/networks/" + net + "/connect", `{"Container":"REF"}`},
		{"POST", "/networks/" + net + "/disconnect", `{"Container":"REF","Force":true}`},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			var hdr http.Header
			if tc.body != "" {
				hdr = jsonHeader
			}
			got := rawDo(t, s.proxy.Host, tc.method, strings.Replace(tc.target, "REF", s.hidden.Name, 1), strings.NewReader(strings.Replace(tc.body, "REF", s.hidden.Name, 1)), hdr)
			want := rawDo(t, s.e.Host, tc.method, strings.Replace(tc.target, "REF", missing, 1), strings.NewReader(strings.Replace(tc.body, "REF", missing, 1)), hdr)
			assertSameAnswer(t, got, substitute(want, missing, s.hidden.Name))
		})
	}
	// A commit that names no container (a key in the wrong case) gets the
	// engine's own refusal, not a 404 for an empty ref.
	for _, target := range []string{"/commit?Container=" + s.hidden.Name, "/commit", "/v1.24/commit?container=", "/commit?container=&container=" + s.hidden.Name} {
		assertSameAnswer(t, rawDo(t, s.proxy.Host, "POST", target, nil, nil), rawDo(t, s.e.Host, "POST", target, nil, nil))
	}
	in := s.e.Inspect(t, s.hidden.ID)
	connected := false
	for name, ep := range in.NetworkSettings.Networks {
		connected = connected || name == net || ep.NetworkID == net
	}
	if !connected {
		t.Errorf("the hidden container was disconnected through the proxy: %v", in.NetworkSettings.Networks)
	}
	// A visible ref in before= is rewritten and works.
	got := rawDo(t, s.proxy.Host, "GET", "/containers/json?all=1&filters="+url.QueryEscape(`{"before":["`+s.stopped.Name+`"]}`), nil, nil)
	var list []struct{ Id string }
	if err := json.Unmarshal([]byte(got.Body), &list); err != nil || got.Status != http.StatusOK {
		t.Fatalf("list before a visible container = %d %s", got.Status, got.Body)
	}
	for _, c := range list {
		if c.Id == s.hidden.ID || c.Id == s.stopped.ID {
			t.Errorf("list before %s has %s", s.stopped.Name, c.Id)
		}
	}
}

func TestEnginePruneRemovesOnlyVisibleContainers(t *testing.T) {
	s := newScenario(t, false)
	hiddenStopped := s.e.Run(t, enginetest.RunSpec{NoStart: true})
	// An unknown filter key is refused in the engine's own words (the
	// engine validates keys before it prunes anything).
	bogus := "/containers/prune?filters=" + url.QueryEscape(`{"bogus":["x"]}`)
	assertSameAnswer(t, rawDo(t, s.proxy.Host, "POST", bogus, nil, nil), rawDo(t, s.e.Host, "POST", bogus, nil, nil))
	got := rawDo(t, s.proxy.Host, "POST", "/containers/prune", nil, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("prune = %d %s", got.Status, got.Body)
	}
	var res struct {
		ContainersDeleted []string
		SpaceReclaimed    uint64
	}
	if err := json.Unmarshal([]byte(got.Body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.ContainersDeleted) != 1 || res.ContainersDeleted[0] != s.stopped.ID {
		t.Errorf("prune deleted %v, want only the visible stopped container %s", res.ContainersDeleted, s.stopped.ID)
	}
	if !s.e.Exists(t, hiddenStopped.ID) || !s.e.Exists(t, s.hidden.ID) {
		t.Error("prune removed a hidden container")
	}
	if s.e.Exists(t, s.stopped.ID) {
		t.Error("prune left the visible stopped container")
	}
}

func TestEngineOversizedBodiesAreRefusedUnread(t *testing.T) {
	s := newScenario(t, false)
	big := `{"Image":"` + s.e.TestImage(t) + `","Labels":{"` + s.key + `.app":"x"},"Pad":"` + strings.Repeat("x", 2<<20) + `"}`
	name := enginetest.UniqueName(t, "big")
	got := rawDo(t, s.proxy.Host, "POST", "/containers/create?name="+name, strings.NewReader(big), jsonHeader)
	if got.Status != http.StatusRequestEntityTooLarge || !strings.Contains(got.Body, "MAX_BODY_SIZE") {
		t.Errorf("create with a 2 MiB body = %d %s, want 413 naming MAX_BODY_SIZE", got.Status, got.Body)
	}
	if s.e.Exists(t, name) {
		t.Error("the oversized create reached the engine")
	}

	// Announced too large with Expect: 100-continue: 413 at once, without
	// asking for the body (an outside run got a 400 after a timeout).
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.proxy.Host, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "POST /containers/create?name="+name+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized Expect: 100-continue create: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized Expect: 100-continue create = %d, want 413 (no 100 Continue first)", resp.StatusCode)
	}
}
