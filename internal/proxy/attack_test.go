package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// Findings of the first outside attack, each on a real engine.

// Below API 1.24 the engine writes errors as plain text; they name hidden
// containers exactly as the JSON ones do.
func TestEnginePlainTextErrorsNeverNameHiddenContainers(t *testing.T) {
	s := newScenario(t, false)
	if !s.e.ServesAPI(t, "1.23") {
		t.Skip("this engine serves no API version below 1.24, where errors are plain text")
	}
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
	p := startProxy(t, hop, proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key}}}, waitPolling: true, pollInterval: "1h"})
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

// eventLine is what a test compares of one event.
type eventLine struct {
	Type, Action string
	Actor        struct {
		ID         string
		Attributes map[string]string
	}
	raw string
}

// followEvents streams GET /events from the proxy until stop says so (or
// 15 s pass), returning the events read.
func followEvents(t *testing.T, p *testProxy, query string, stop func(eventLine) bool) []eventLine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/events?"+query, nil)
	resp, err := p.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []eventLine
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev eventLine
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		ev.raw = sc.Text()
		out = append(out, ev)
		if stop != nil && stop(ev) {
			return out
		}
	}
	if stop != nil {
		t.Fatalf("the events stream ended before the awaited event; read %d", len(out))
	}
	return out
}

// A rename is decided by the container's new name, and a replay decides as
// the live stream did, including the network events of a container removed
// since.
func TestEngineEventsAcrossRenamesAndRemovals(t *testing.T) {
	e, prefix, p := nameScenario(t)
	net := e.Network(t, "")
	c := e.Run(t, enginetest.RunSpec{Name: prefix + "-a", Network: net})
	hiddenName := enginetest.UniqueName(t, "secretname")
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)

	destroyed := func(ev eventLine) bool { return ev.Action == "destroy" && ev.Actor.ID == c.ID }
	done := make(chan []eventLine)
	go func() { done <- followEvents(t, p, "since="+strconv.FormatInt(time.Now().Unix(), 10), destroyed) }()
	time.Sleep(300 * time.Millisecond) // let the stream open
	ctx := context.Background()
	for _, name := range []string{hiddenName, prefix + "-b"} {
		if _, err := e.Client.ContainerRename(ctx, c.ID, client.ContainerRenameOptions{NewName: name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Client.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	live := <-done

	summarize := func(evs []eventLine) []string {
		var out []string
		for _, ev := range evs {
			switch {
			case ev.Actor.ID == c.ID:
				out = append(out, ev.Type+" "+ev.Action+" "+ev.Actor.Attributes["name"])
			case ev.Actor.Attributes["container"] == c.ID:
				out = append(out, ev.Type+" "+ev.Action)
			}
			if strings.Contains(ev.raw, hiddenName) {
				t.Errorf("an event shows the hidden name: %s", ev.raw)
			}
			if ev.Action == "rename" && ev.Actor.Attributes["oldName"] != "" && !strings.Contains(ev.Actor.Attributes["oldName"], prefix) {
				t.Errorf("a rename shows a hidden old name: %s", ev.raw)
			}
		}
		return out
	}
	got := summarize(live)
	if !slices.Contains(got, "container rename "+prefix+"-b") {
		t.Errorf("the rename that made the container visible again was not seen: %q", got)
	}
	if !slices.Contains(got, "network disconnect") {
		t.Errorf("the visible container's network disconnect was not seen: %q", got)
	}
	replay := followEvents(t, p, "since="+since+"&until="+strconv.FormatInt(time.Now().Unix()+1, 10), nil)
	if r := summarize(replay); !slices.Equal(r[len(r)-len(got):], got) {
		t.Errorf("live and replayed streams disagree:\n live   %q\n replay %q", got, r)
	}
}

// A visible container an admin created with --volumes-from, --link and
// --pid naming a hidden container must not name it through the proxy; nor
// may a hidden container's link to a visible one show in its Names.
func TestEngineVisibleContainersNeverNameHiddenOnes(t *testing.T) {
	s := newScenario(t, false)
	ctx := context.Background()
	// A hidden container linking to the visible one: the engine adds the
	// alias "/<linker>/<alias>" to the visible one's Names.
	linker := enginetest.UniqueName(t, "linker")
	hl, err := s.e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       linker,
		Config:     &container.Config{Image: s.e.TestImage(t), Labels: map[string]string{enginetest.LabelTest: t.Name()}},
		HostConfig: &container.HostConfig{NetworkMode: "none", Links: []string{s.visible.Name + ":backend"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.e.Client.ContainerRemove(context.Background(), hl.ID, client.ContainerRemoveOptions{Force: true})
	})
	// A visible container naming the hidden one every way.
	name := enginetest.UniqueName(t, "admin")
	vc, err := s.e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{Image: s.e.TestImage(t), Labels: map[string]string{
			enginetest.LabelTest: t.Name(), s.key + ".app": "admin",
		}},
		HostConfig: &container.HostConfig{
			NetworkMode: "none",
			VolumesFrom: []string{s.hidden.Name + ":ro"},
			Links:       []string{s.hidden.Name + ":db"},
			PidMode:     container.PidMode("container:" + s.hidden.Name),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.e.Client.ContainerRemove(context.Background(), vc.ID, client.ContainerRemoveOptions{Force: true})
	})
	// --link on a user network lands in the endpoint's Links instead.
	net := s.e.Network(t, "")
	linkedName := enginetest.UniqueName(t, "netlinked")
	nl, err := s.e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       linkedName,
		Config:     &container.Config{Image: s.e.TestImage(t), Labels: map[string]string{enginetest.LabelTest: t.Name(), s.key + ".app": "netlinked"}},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(net)},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			net: {Links: []string{s.hidden.Name + ":db"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.e.Client.ContainerRemove(context.Background(), nl.ID, client.ContainerRemoveOptions{Force: true})
	})
	if direct := rawDo(t, s.e.Host, "GET", "/containers/"+nl.ID+"/json", nil, nil); !strings.Contains(direct.Body, `"Links":["`+s.hidden.Name+`:db"]`) {
		t.Fatalf("test premise: the engine's inspect has the hidden container in the endpoint's Links: %s", direct.Body)
	}
	direct := rawDo(t, s.e.Host, "GET", "/containers/"+vc.ID+"/json", nil, nil)
	if !strings.Contains(direct.Body, s.hidden.Name) {
		t.Fatalf("test premise: the engine's inspect names the hidden container: %s", direct.Body)
	}
	enginetest.Eventually(t, 2*time.Second, "the new visible container is indexed", func() bool {
		return rawDo(t, s.proxy.Host, "GET", "/containers/"+name+"/json", nil, nil).Status == http.StatusOK
	})
	if df := rawDo(t, s.e.Host, "GET", "/system/df", nil, nil); !strings.Contains(df.Body, "/"+linker+"/backend") {
		t.Fatalf("test premise: the engine's /system/df names the hidden linker in the visible container's Names: %.300s", df.Body)
	}
	enginetest.Eventually(t, 2*time.Second, "the network-linked container is indexed", func() bool {
		return rawDo(t, s.proxy.Host, "GET", "/containers/"+linkedName+"/json", nil, nil).Status == http.StatusOK
	})
	for _, target := range []string{"/containers/" + linkedName + "/json", "/containers/json?all=1&filters=" + url.QueryEscape(`{"name":["`+linkedName+`"]}`), "/containers/" + name + "/json", "/v1.41/containers/" + vc.ID + "/json", "/containers/json?all=1", "/containers/" + s.visible.Name + "/json", "/system/df", "/v1.24/system/df?type=container"} {
		got := rawDo(t, s.proxy.Host, "GET", target, nil, nil)
		for _, secret := range []string{s.hidden.Name, s.hidden.ID[:12], linker} {
			if strings.Contains(got.Body, secret) {
				i := strings.Index(got.Body, secret)
				t.Errorf("GET %s names hidden %q: …%s…", target, secret, got.Body[max(0, i-80):min(len(got.Body), i+80)])
			}
		}
	}
}

// Request bodies cannot hold connections: a GET announcing a body it never
// sends is answered at once and the engine sees no body; a body the proxy
// reads to decide must arrive within BODY_TIMEOUT, and one streamed to the
// engine may not stall for longer.
func TestEngineSlowAndMissingBodiesCannotHoldConnections(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	web := e.Run(t, enginetest.RunSpec{Labels: map[string]string{key: "x"}})
	log := &upstreamLog{}
	p := startProxy(t, upstreamHop(t, e.Host, hopOptions{log: log}), proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key}}}, bodyTimeout: "1s"})
	addr := strings.TrimPrefix(p.Host, "tcp://")
	send := func(head string) (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		return conn, bufio.NewReader(conn)
	}

	t.Run("a GET announcing a body it never sends", func(t *testing.T) {
		conn, br := send("GET /containers/" + web.Name + "/json HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
		// net/http reads an unread body before answering: for BODY_TIMEOUT.
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("no answer while the body is missing: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("answer = %d, want 200", resp.StatusCode)
		}
		for _, req := range log.mentioning(web.Name) {
			if !strings.HasSuffix(req, " body=0") {
				t.Errorf("the engine was sent a body with the GET: %s", req)
			}
		}
	})
	t.Run("a create body sent one byte at a time", func(t *testing.T) {
		body := `{"Image":"` + e.TestImage(t) + `","Labels":{"` + key + `":"slow"}}`
		conn, _ := send(fmt.Sprintf("POST /containers/create?name=%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", enginetest.UniqueName(t, "slow"), len(body)))
		start := time.Now()
		var writeErr error
		for i := 0; i < len(body) && writeErr == nil && time.Since(start) < 10*time.Second; i++ {
			_, writeErr = conn.Write([]byte{body[i]})
			time.Sleep(300 * time.Millisecond)
			// The proxy answers (or closes) once BODY_TIMEOUT has passed.
			_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			if n, err := conn.Read(make([]byte, 1)); n > 0 || err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("a slow body held the connection for %v with BODY_TIMEOUT=1s", d)
		}
		if created := log.mentioning("/containers/create"); len(created) > 0 {
			t.Errorf("the half-sent create reached the engine: %q", created)
		}
	})
	t.Run("a streamed archive that stalls", func(t *testing.T) {
		conn, _ := send("PUT /containers/" + web.Name + "/archive?path=/tmp HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: 10240\r\n\r\n")
		_, _ = conn.Write(make([]byte, 512)) // then nothing
		start := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(io.Discard, conn) // until the proxy gives up
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("a stalled upload held the connection for %v with BODY_TIMEOUT=1s", d)
		}
	})
}

// TestEngineInspectAnswerIsCheckedToo: a container renamed onto a hidden
// name between the proxy's decision and the engine's answer must not be
// shown under its new name (an outside run saw hundreds of such answers
// under a rename loop): the request is decided again, and answered as for
// a missing container.
func TestEngineInspectAnswerIsCheckedToo(t *testing.T) {
	e := enginetest.Require(t)
	for _, tc := range []struct{ name, path string }{
		{"inspect", "/json"},
		{"one stats record", "/stats?stream=false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := enginetest.UniqueName(t, "race")
			c := e.Run(t, enginetest.RunSpec{Name: key + "-web"})
			hiddenName := enginetest.UniqueName(t, "racehidden")
			var renameNow atomic.Bool
			hop := upstreamHop(t, e.Host, hopOptions{before: func(r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/containers/"+c.ID+"/") && renameNow.CompareAndSwap(true, false) {
					if _, err := e.Client.ContainerRename(context.Background(), c.ID, client.ContainerRenameOptions{NewName: hiddenName}); err != nil {
						t.Error(err)
					}
				}
			}})
			p := startProxyEnv(t, hop, map[string]string{"CONTAINER_NAMES": key})
			if got := rawDo(t, p.Host, "GET", "/containers/"+c.Name+tc.path, nil, nil); got.Status != http.StatusOK {
				t.Fatalf("visible container before the rename = %d %s", got.Status, got.Body)
			}
			renameNow.Store(true)
			missing := enginetest.UniqueName(t, "missing")
			got := rawDo(t, p.Host, "GET", "/containers/"+c.Name+tc.path, nil, nil)
			want := substitute(rawDo(t, e.Host, "GET", "/containers/"+missing+tc.path, nil, nil), missing, c.Name)
			if renameNow.Load() {
				t.Fatal("test premise: the hop did not rename the container before the engine answered")
			}
			assertSameAnswer(t, got, want)
			if strings.Contains(got.Body, hiddenName) {
				t.Errorf("the answer names the hidden name %s: %s", hiddenName, got.Body)
			}
		})
	}
}

// TestEngineStreamsEndWhenTheContainerIsHidden: an open stream about a
// container (logs -f, stats, exec) ends when the container is renamed onto
// a hidden name, as it would on an engine where it has just gone; logs and
// stats end cleanly, not as a broken stream. An outside run saw both go on
// serving the renamed container.
func TestEngineStreamsEndWhenTheContainerIsHidden(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "strm")
	p := startProxyEnv(t, e.Host, map[string]string{"CONTAINER_NAMES": key, "READ_ONLY": "false"})
	ctx := context.Background()
	for _, tc := range []struct{ name, target string }{
		{"logs -f", "/containers/REF/logs?follow=1&stdout=1&tail=1"},
		{"stats", "/containers/REF/stats?stream=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.Run(t, enginetest.RunSpec{Name: key + "-" + strings.Fields(tc.name)[0]})
			resp, err := p.HTTP.Get(p.URL + strings.Replace(tc.target, "REF", c.Name, 1))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("stream = %d", resp.StatusCode)
			}
			first := make([]byte, 1)
			if _, err := io.ReadFull(resp.Body, first); err != nil {
				t.Fatalf("no data on the stream: %v", err)
			}
			renamed := time.Now()
			if _, err := e.Client.ContainerRename(ctx, c.ID, client.ContainerRenameOptions{NewName: enginetest.UniqueName(t, "strmhidden")}); err != nil {
				t.Fatal(err)
			}
			ended := make(chan error, 1)
			go func() { _, err := io.Copy(io.Discard, resp.Body); ended <- err }()
			select {
			case err := <-ended:
				if err != nil {
					t.Errorf("the stream broke (%v) rather than ending", err)
				}
				t.Logf("ended %v after the rename", time.Since(renamed).Round(time.Millisecond))
			case <-time.After(5 * time.Second):
				t.Fatal("the stream still runs 5 s after its container was hidden")
			}
		})
	}
	t.Run("exec", func(t *testing.T) {
		c := e.Run(t, enginetest.RunSpec{Name: key + "-exec"})
		cmd := e.DockerCmd(t, p.Host, "exec", c.Name, "/app", "sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		time.Sleep(time.Second) // the exec is running
		if _, err := e.Client.ContainerRename(ctx, c.ID, client.ContainerRenameOptions{NewName: enginetest.UniqueName(t, "strmhidden")}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("docker exec through the proxy still runs 5 s after its container was hidden")
		}
	})
}
